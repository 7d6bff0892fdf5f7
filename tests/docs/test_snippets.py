"""Every fenced code block in docs/*.md is exercised, so the documentation cannot rot.

- ``python``: executed against a real server (``http://127.0.0.1:57593`` is replaced by its URL); a block
  whose first line is ``# replays: <folder>`` gets a replay server of its own on that folder of the
  repository, at full speed.
- ``bash`` / ``sh`` with ``curl``: run with ``bash -e`` against a fresh server (admin snippets change it).
- ``toml``: parsed; when it has any llmreplay section it is loaded as a config file by
  :func:`llmreplay.config.load`, so every key and value must be valid.
- ``json``, ``yaml``: parsed.
- ``console`` and other shell blocks (commands that need the network or keep running): not run, but every
  ``llmreplay …`` command line in them must name an existing subcommand and only flags its ``--help`` lists.
- An HTML comment ``<!-- no-test -->`` on the line before a fence skips that block; so does any other
  language, with a skip reason naming it, so ``pytest -rs`` lists what is not exercised.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from llmreplay.config import Settings, load

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DEFAULTS = ("http://127.0.0.1:57593", "http://localhost:57593")
NO_TEST = "<!-- no-test -->"
SHELL = frozenset({"console", "shell", "sh", "bash", "shell-session", "zsh", "dockerfile", "docker"})
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)[^\n]*$")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    code: str
    skipped: bool

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}:{self.lang or 'plain'}"


def extract(text: str, page: str = "page.md") -> list[Block]:
    """The fenced code blocks of a Markdown text, with their indentation removed."""
    out: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m["indent"], m["fence"], m["lang"].lower()
        start = i
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        out.append(Block(page, start + 1, lang, "\n".join(body) + "\n", before == NO_TEST))
        i += 1
    return out


def all_blocks() -> list[Block]:
    return [b for page in sorted(DOCS.glob("*.md")) for b in extract(page.read_text(), page.name)]


def _of(*langs: str) -> list[Block]:
    return [b for b in all_blocks() if b.lang in langs and not b.skipped]


def _runs_as_curl(block: Block) -> bool:
    return block.lang in {"bash", "sh", "shell"} and "curl " in block.code


def _ids(block: Block) -> str:
    return block.id


def _local(code: str, url: str) -> str:
    for default in DEFAULTS:
        code = code.replace(default, url)
    return code


def _replay_folder(code: str) -> Path | None:
    first = code.splitlines()[0] if code.strip() else ""
    if first.startswith("# replays: "):
        return ROOT / first.removeprefix("# replays: ").strip()
    return None


# ---------------------------------------------------------------- running


@pytest.mark.parametrize("block", _of("python", "py"), ids=_ids)
def test_python_block_runs(server, make_server, monkeypatch: pytest.MonkeyPatch, block: Block) -> None:
    monkeypatch.chdir(ROOT)  # relative paths in snippets (cassettes/example.msgpack) are the repository's
    folder = _replay_folder(block.code)
    if folder is not None:
        server = make_server(cassettes={"dir": str(folder), "speed": 0})
    exec(compile(_local(block.code, server.url), block.id, "exec"), {"__name__": "__docs__"})


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("block", [b for b in _of("bash", "sh", "shell") if _runs_as_curl(b)], ids=_ids)
def test_curl_block_runs(make_server, block: Block) -> None:
    folder = _replay_folder(block.code)
    server = make_server(cassettes={"dir": str(folder), "speed": 0}) if folder else make_server()
    out = subprocess.run(
        ["bash", "-e", "-c", _local(block.code, server.url)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("block", _of("toml"), ids=_ids)
def test_toml_block_is_valid(tmp_path: Path, block: Block) -> None:
    data = tomllib.loads(block.code)
    if set(data) & set(Settings.model_fields):
        path = tmp_path / "llmreplay.toml"
        path.write_text(block.code)
        load(path, environ={})  # raises ConfigError naming the bad key or value


@pytest.mark.parametrize("block", _of("json"), ids=_ids)
def test_json_block_parses(block: Block) -> None:
    json.loads(block.code)


@pytest.mark.parametrize("block", _of("yaml", "yml"), ids=_ids)
def test_yaml_block_parses(block: Block) -> None:
    list(yaml.safe_load_all(block.code))


# ---------------------------------------------------------------- command lines


def _logical_lines(code: str) -> Iterator[str]:
    """Lines with backslash continuations joined and a leading ``$`` prompt removed."""
    pending = ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        yield line.removeprefix("$ ").strip()
    if pending:
        yield pending.strip()


def commands(code: str) -> list[list[str]]:
    """The ``llmreplay …`` invocations in a shell text: the words after ``llmreplay``, comments dropped."""
    found: list[list[str]] = []
    for line in _logical_lines(code):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        segment: list[str] = []
        for word in [*words, ";"]:
            if word in {";", "&&", "||", "|", "&"}:
                found += _invocation(segment)
                segment = []
            else:
                segment.append(word)
    return found


def _invocation(words: list[str]) -> list[list[str]]:
    """The arguments of ``llmreplay`` / ``python -m llmreplay`` if that is what the segment runs."""
    for i, word in enumerate(words):
        if word != "llmreplay" and not word.endswith("/llmreplay"):
            continue
        env_only = all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w) for w in words[:i])
        if env_only or (i >= 1 and words[i - 1] == "-m"):
            return [words[i + 1 :]]
    return []


@functools.cache
def help_text(path: tuple[str, ...]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "llmreplay", *path, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.returncode == 0, f"llmreplay {' '.join(path)} --help failed: {out.stderr.strip()}"
    return out.stdout


def subcommands(help: str) -> set[str]:
    section = help.split("Commands:", 1)[1] if "Commands:" in help else ""
    return {m.group(1) for m in re.finditer(r"^\s{2}(\S+)", section, re.M)}


def check_command(args: list[str]) -> None:
    """``args`` (the words after ``llmreplay``) name a subcommand whose help lists every flag used."""
    path: list[str] = []
    rest = list(args)
    while rest and not rest[0].startswith("-") and rest[0] in subcommands(help_text(tuple(path))):
        path.append(rest.pop(0))
    help = help_text(tuple(path))
    if "Commands:" in help and not any(a in ("-h", "--help", "--version") for a in rest):
        assert rest and rest[0] in subcommands(help), f"llmreplay {' '.join(args)}: no such subcommand"
    for word in rest:
        flag = word.split("=", 1)[0]
        if flag.startswith("--") and len(flag) > 2:
            assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s,=]|$)", help, re.M), (
                f"llmreplay {' '.join(path)}: {flag} is not in its --help"
            )
        elif re.fullmatch(r"-[A-Za-z]", flag):
            assert re.search(rf"(^|\s){re.escape(flag)}[\s,]", help, re.M), (
                f"llmreplay {' '.join(path)}: {flag} is not in its --help"
            )


def _command_blocks() -> list[Block]:
    """Shell blocks that are not run, but hold llmreplay command lines to check."""
    return [b for b in _of(*SHELL) if not _runs_as_curl(b) and commands(b.code)]


@pytest.mark.parametrize("block", _command_blocks(), ids=_ids)
def test_command_lines_parse(block: Block) -> None:
    for args in commands(block.code):
        check_command(args)


# ---------------------------------------------------------------- what is left


def _unexercised() -> list[Block]:
    ran = {"python", "py", "toml", "json", "yaml", "yml"}
    return [
        b
        for b in all_blocks()
        if b.skipped or not (b.lang in ran or _runs_as_curl(b) or (b.lang in SHELL and commands(b.code)))
    ]


@pytest.mark.parametrize("block", _unexercised(), ids=_ids)
def test_block_not_exercised(block: Block) -> None:
    reason = "marked <!-- no-test -->" if block.skipped else f"nothing to run or check in a {block.lang!r} block"
    pytest.skip(f"{block.id}: {reason}")


# ---------------------------------------------------------------- the extractor itself


def test_extract_handles_markers_indentation_and_long_fences() -> None:
    text = (
        "Intro\n\n```python\nprint(1)\n```\n\n<!-- no-test -->\n```bash\nrm -rf /\n```\n\n"
        "1. A step:\n\n   ```toml\n   [server]\n   port = 1\n   ```\n\n"
        "````markdown\n```python\nnot a block\n```\n````\n"
    )
    blocks = extract(text)
    assert [(b.lang, b.skipped) for b in blocks] == [
        ("python", False),
        ("bash", True),
        ("toml", False),
        ("markdown", False),
    ]
    assert blocks[2].code == "[server]\nport = 1\n"
    assert blocks[3].code == "```python\nnot a block\n```\n"


def test_commands_are_found_in_shell_text() -> None:
    text = (
        "$ llmreplay serve --port 8080 \\\n    --seed 1   # a comment --nope\n"
        "LLMREPLAY_WORKERS=2 llmreplay serve && curl -s x\n"
        "python -m llmreplay cassettes list cassettes\n"
        "pip install llmreplay\n"
    )
    assert commands(text) == [
        ["serve", "--port", "8080", "--seed", "1"],
        ["serve"],
        ["cassettes", "list", "cassettes"],
    ]


def test_check_command_rejects_unknown_flags_and_subcommands() -> None:
    check_command(["serve", "--port", "1", "--seed=2", "-q"])
    check_command(["cassettes", "show", "cassettes/example.msgpack"])
    with pytest.raises(AssertionError, match="--no-such-flag"):
        check_command(["serve", "--no-such-flag"])
    with pytest.raises(AssertionError, match="no such subcommand"):
        check_command(["cassettes", "frobnicate"])
