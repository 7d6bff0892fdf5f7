"""The documentation names only commands, options, settings and metrics that exist.

Every ``llmreplay …`` command line in README.md and docs/**/*.md, in code blocks (fenced or indented)
and in inline code spans, is resolved against the real click command tree (``llmreplay.cli.cli``):
its subcommand path must exist, and click's own parser must accept its options for that subcommand.
Found the way a shell would run them: ``\\`` continuations joined, ``$`` prompts, ``FOO=1`` prefixes,
``python -m llmreplay``, ``docker run … llmreplay …`` (the image's entrypoint is ``llmreplay``),
pipes, ``&&`` / ``;`` chains and ``#`` comments. Inline spans that are only a subcommand with
options (``serve --synthetic``) or only options (``--port``, ``--uvloop/--no-uvloop``) are checked
too, the latter against every command's options. ``pytest --llmreplay-…`` options must be the
plugin's.

Placeholders (``URL``, ``<dir>``, ``...``) stand for values, so a value click cannot convert is only
an error when the line has no placeholder; a command named without its required arguments (in prose)
is fine.

Also checked: the settings tables (a ``Variable`` column) name real environment variables and TOML
keys, and the Prometheus metric names, labels and label values the docs quote are the ones sent.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pydantic
import pytest

from llmreplay.cli import cli
from llmreplay.config import Settings, env_table

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+#.-]*)")
# Blocks in these languages hold programs or data, not shell lines; ``llmreplay`` there is a string.
NOT_SHELL = frozenset({"python", "py", "pycon", "toml", "json", "javascript", "js", "typescript", "ts", "ini"})
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
SEPARATOR = re.compile(r"[|&;()]+")
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
PYTHON = re.compile(r"(?:.*/)?python[0-9.]*")
IMAGE = re.compile(r"(?:.*/)?llmreplay[\w.-]*(?::\S+)?")
ELLIPSIS = frozenset({"...", "…"})
# Wrappers that run the command after them (``env FOO=1 llmreplay …``, ``uv run llmreplay …``).
WRAPPERS = frozenset({"env", "exec", "nohup", "time", "sudo", "command"})
# ``docker run`` options that take no value; any other option without ``=`` takes the next word.
DOCKER_FLAGS = frozenset(
    {"--rm", "-d", "--detach", "-i", "--interactive", "-t", "--tty", "-it", "-ti", "--init", "-P", "--read-only"}
)
# Options quoted on their own in prose that belong to another program, with the program.
FOREIGN_FLAGS = {
    "--user": "docker run",
    "--build-arg": "docker build",
    "--init": "docker run",
    "--quick": "python -m benchmarks",
    "--write-doc": "python -m benchmarks",
}
HELP = frozenset({"-h", "--help", "--version"})
# The suffixes of Prometheus series names (the docs' other llmreplay_ names are fixtures and ini keys).
METRIC_NAME = re.compile(r"_(total|seconds|bucket|sum|count|created|in_flight|bytes)$")


@dataclass(frozen=True)
class Snippet:
    """Shell text from a page: one logical code line, or one inline code span."""

    page: str
    line: int
    text: str
    inline: bool


# ---------------------------------------------------------------- finding the snippets


def _code_lines(lines: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Code lines with ``\\`` continuations joined, numbered by their first line."""
    pending, start = "", 0
    for number, raw in lines:
        line = raw.rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def _spans(paragraph: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """The inline code spans of one paragraph (they may run across its lines), with their line."""
    text = "\n".join(line for _, line in paragraph)
    starts = [number for number, _ in paragraph]
    offsets = [0]
    for _, line in paragraph[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    for m in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", text, re.S):
        index = max(i for i, off in enumerate(offsets) if off <= m.start())
        body = m[2].replace("\n", " ")
        # CommonMark strips one space from each end when both are there (``` `` `x` `` ```).
        if body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        yield starts[index], body


def snippets(text: str, page: str = "page.md") -> list[Snippet]:
    """Every code line (fenced or indented blocks, not in NOT_SHELL languages) and inline span of a page."""
    out: list[Snippet] = []
    prose: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    previous = ""  # the last non-blank prose line: an indented line after a list item continues it

    def flush_prose() -> None:
        out.extend(Snippet(page, n, s, True) for n, s in _spans(prose))
        prose.clear()

    def add_block(body: list[tuple[int, str]]) -> None:
        # Per block, so that a trailing backslash never joins one block to the next.
        out.extend(Snippet(page, n, s, False) for n, s in _code_lines(body))

    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            flush_prose()
            fence, lang = m["fence"], m["lang"].lower()
            body: list[tuple[int, str]] = []
            i += 1
            while i < len(lines):
                closing = lines[i].strip()
                if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                    break
                body.append((i + 1, lines[i].strip()))
                i += 1
            if lang not in NOT_SHELL:
                add_block(body)
            i += 1
            continue
        blank = not line.strip()
        indented = line.startswith(("    ", "\t")) and not blank
        if indented and not prose and not LIST_ITEM.match(previous) and not previous.startswith(" "):
            # An indented code block: it starts after a blank line and cannot continue a list item.
            body = []
            while i < len(lines) and (lines[i].startswith(("    ", "\t")) or not lines[i].strip()):
                body.append((i + 1, lines[i].strip()))
                i += 1
            add_block(body)
            continue
        if blank:
            flush_prose()
        else:
            prose.append((i + 1, line))
            previous = line
        i += 1
    flush_prose()
    return sorted(out, key=lambda s: (s.line, s.inline))


# ---------------------------------------------------------------- finding the commands in them


def _words(text: str) -> list[str]:
    """Shell words, with ``|``, ``&&``, ``;`` and parentheses as words of their own and comments dropped."""
    lexer = shlex.shlex(text.removeprefix("$ "), posix=True, punctuation_chars="|&;()")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote: prose, not a command
        return []


def _segments(text: str) -> Iterator[list[str]]:
    segment: list[str] = []
    for word in [*_words(text), ";"]:
        if SEPARATOR.fullmatch(word):
            if segment:
                yield segment
            segment = []
        else:
            segment.append(word)


def _docker_run_args(words: list[str]) -> list[str] | None:
    """What ``docker run [options] IMAGE args…`` passes to an llmreplay image, or None for another image."""
    i = 2
    while i < len(words) and words[i].startswith("-"):
        i += 1 if words[i] in DOCKER_FLAGS or "=" in words[i] else 2
    if i < len(words) and IMAGE.fullmatch(words[i]):
        return words[i + 1 :]
    return None


def invocation(words: list[str]) -> tuple[str, list[str]] | None:
    """``("llmreplay", args)`` or ``("pytest", args)`` when a shell segment runs one of them."""
    while words and (words[0] in ("-", "run:") or words[0] in WRAPPERS or ENV_ASSIGNMENT.fullmatch(words[0])):
        words = words[1:]  # YAML's "- run: …", then environment prefixes and wrappers
    if words[:2] == ["uv", "run"]:
        words = words[2:]
    if not words:
        return None
    program = words[0]
    if program == "llmreplay" or program.endswith("/llmreplay"):
        return "llmreplay", words[1:]
    if PYTHON.fullmatch(program) and words[1:3] == ["-m", "llmreplay"]:
        return "llmreplay", words[3:]
    if PYTHON.fullmatch(program) and words[1:3] == ["-m", "pytest"]:
        return "pytest", words[3:]
    if program == "pytest" or program.endswith("/pytest"):
        return "pytest", words[1:]
    if words[:2] == ["docker", "run"]:
        args = _docker_run_args(words)
        # No arguments: the image's own CMD (serve), nothing the docs chose.
        return ("llmreplay", args) if args else None
    return None


def commands(text: str) -> list[tuple[str, list[str]]]:
    """The llmreplay and pytest invocations in a shell text."""
    return [found for segment in _segments(text) if (found := invocation(segment))]


# ---------------------------------------------------------------- checking them against click


def is_placeholder(word: str) -> bool:
    """``URL``, ``FILE``, ``N``, ``<dir>``, ``tests/cassettes/<name>.msgpack``, ``...``."""
    return word in ELLIPSIS or bool(re.fullmatch(r"[A-Z][A-Z0-9_]*", word)) or bool(re.search(r"<[^<>]+>", word))


def _walk(group: click.Group = cli, path: tuple[str, ...] = ("llmreplay",)) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield " ".join((*path, name)), command
        if isinstance(command, click.Group):
            yield from _walk(command, (*path, name))


def all_options() -> set[str]:
    """Every option spelling (``--uvloop`` and ``--no-uvloop`` both) of every llmreplay command."""
    found: set[str] = set(HELP)  # the help option comes from the context settings, not the params
    for command in [cli, *(c for _, c in _walk())]:
        for param in command.params:
            if isinstance(param, click.Option):
                found.update(param.opts, param.secondary_opts)
    return found


def check_llmreplay(args: list[str], prose: bool = False) -> str | None:
    """What in ``llmreplay ARGS`` does not exist (None when it all does), told the way click tells it.

    ``prose``: an inline span, where a last option may be named without its value
    (``llmreplay cassettes import-json --name``).
    """
    args = [a for a in args if a not in ELLIPSIS]
    if prose and args and args[-1].startswith("-") and "=" not in args[-1]:
        found = check_llmreplay(args, prose=False)
        return check_llmreplay([*args, "VALUE"]) if found and "requires an argument" in found else found
    command: click.Command = cli
    path = "llmreplay"
    while True:
        try:
            # resilient_parsing: no --help output, no exit, no conversion of placeholder values; an
            # unknown option or one missing its value still raises.
            ctx = command.make_context(path, list(args), resilient_parsing=True)
        except click.UsageError as exc:
            return f"{path}: {exc.format_message()}"
        if not isinstance(command, click.Group):
            break
        _, rest, _ = command.make_parser(ctx).parse_args(list(args))
        if not rest:
            return None  # the group itself (``llmreplay --help``, or naming ``llmreplay cassettes``)
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            return f"{path}: No such command {rest[0]!r} (it has {', '.join(command.list_commands(ctx))})."
        command, path, args = sub, f"{path} {rest[0]}", rest[1:]
    extra = [a for a in ctx.args if not is_placeholder(a)]
    if extra:
        return f"{path}: unexpected extra argument(s) {' '.join(extra)}"
    if HELP & set(args):
        return None
    try:
        command.make_context(path, list(args))
    except click.MissingParameter:
        return None  # prose names a command without its arguments
    except click.BadParameter as exc:
        if not any(is_placeholder(a) for a in args):
            return f"{path}: {exc.format_message()}"
    except click.UsageError as exc:
        return f"{path}: {exc.format_message()}"
    return None


def check_pytest(args: list[str], config: pytest.Config) -> str | None:
    """pytest's own options are pytest's business; ``--llmreplay-…`` ones must be the plugin's."""
    for word in args:
        flag = word.split("=", 1)[0]
        if flag.startswith("--llmreplay"):
            try:
                config.getoption(flag)
            except ValueError:
                return f"pytest: the llmreplay plugin has no option {flag}"
    return None


def check_flags(text: str, config: pytest.Config) -> str | None:
    """A span of options alone (``--port``, ``--config FILE``, ``--uvloop/--no-uvloop``)."""
    known = all_options()
    for word in text.split():
        for flag in word.split("/"):
            flag = flag.split("=", 1)[0]
            if not flag.startswith("-") or flag in known or flag in FOREIGN_FLAGS:
                continue
            if flag.startswith("--llmreplay"):
                return check_pytest([flag], config)
            return f"no llmreplay command has an option {flag}"
    return None


def problems(snippet: Snippet, config: pytest.Config) -> list[str]:
    where = f"{snippet.page}:{snippet.line}: `{snippet.text.strip()}`"
    found = commands(snippet.text)
    words = snippet.text.split()
    if snippet.inline and not found and words:
        if len(words) > 1 and words[0] in cli.commands:
            found = [("llmreplay", _words(snippet.text))]  # ``serve --synthetic``, a subcommand in prose
        elif words[0].startswith("--"):
            problem = check_flags(snippet.text, config)
            return [f"{where}: {problem}"] if problem else []
    out: list[str] = []
    for program, args in found:
        problem = check_llmreplay(args, snippet.inline) if program == "llmreplay" else check_pytest(args, config)
        if problem:
            out.append(f"{where}: {problem}")
    return out


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_command_lines_name_what_exists(page: Path, pytestconfig: pytest.Config) -> None:
    found = [p for s in snippets(page.read_text(), _page_id(page)) for p in problems(s, pytestconfig)]
    assert not found, "the docs name what the CLI does not have:\n" + "\n".join(found)


# ---------------------------------------------------------------- settings tables


def _cells(row: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def _tables(text: str) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line, {heading: cell}, the page heading above) for each body row of each Markdown table."""
    lines = text.splitlines()
    title = ""
    for i in range(len(lines) - 1):
        if lines[i].startswith("#"):
            title = lines[i]
        if lines[i].lstrip().startswith("|") and re.fullmatch(r"\s*\|?[\s|:-]+\|?\s*", lines[i + 1]):
            headings = _cells(lines[i])
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                yield j + 1, dict(zip(headings, _cells(lines[j]), strict=False)), title
                j += 1


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


_BOGUS = {"not": "a value of any setting"}


def setting_of(key: str) -> str | None:
    """The field a settings-file key (``server.port``) sets, as ``section.field``; None if there is none.

    Asked of the settings model itself, with a value no field accepts: the error's location is the field
    the key landed on (a file key may be spelled differently from its field), or "extra" for no field.
    """
    section, _, name = key.partition(".")
    try:
        Settings.model_validate({section: {name: _BOGUS}})
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["type"] == "extra_forbidden" or len(err["loc"]) < 2:
            return None
        return f"{err['loc'][0]}.{err['loc'][1]}"
    return None


def settings_problems(text: str, page: str) -> list[str]:
    """In settings tables (a ``Variable`` column beside a TOML key one): each variable is read by a setting,
    each key is a setting, and a row's variable and key are the same setting."""
    by_env = {env: f"{section}.{name}" for env, section, name, _ in env_table()}
    out: list[str] = []
    for line, row, title in _tables(text):
        headings = list(row)
        variable = next((h for h in headings if "variable" in h.lower()), None)
        keyed = next((h for h in headings if "TOML" in h or h == "Key" or h.startswith("Setting")), None)
        if variable is None or keyed is None:
            continue  # not a settings table (the pytest plugin's lists the SDKs' variables)
        variables = [c for c in _code(row[variable]) if re.fullmatch(r"[A-Z][A-Z0-9_]+", c)]
        keys = [c for c in _code(row[keyed]) if re.fullmatch(r"[a-z_]+\.[a-z_]+", c)]
        section = re.search(r"\[([a-z_]+)\]", f"{keyed} {title}")
        if not keys and section and keyed != variable:
            # A table of one section, named in its heading or the title above it (``[cassettes]``, ``[server]``).
            keys = [f"{section[1]}.{k}" for k in _code(row[keyed]) if re.fullmatch(r"[a-z_]+", k)]
        flags = next((h for h in headings if "Flag" in h), None)
        fields: list[str] = []
        for key in keys:
            field = setting_of(key)
            if field is None:
                out.append(f"{page}:{line}: no setting {key}")
                continue
            fields.append(field)
            # A flag spelled as the field (server.state: --state) sets it; a Flag column must say so.
            flag = "--" + field.split(".", 1)[1].replace("_", "-")
            if flags and flag in all_options() and not any(flag in c.split("/") for c in _code(row[flags])):
                out.append(f"{page}:{line}: {key} has the flag {flag}, which the {flags!r} column leaves out")
        for var in variables:
            if var == "LLMREPLAY_CONFIG":
                continue  # names the settings file itself; the CLI reads it
            if var not in by_env:
                out.append(f"{page}:{line}: no setting reads the environment variable {var}")
            elif fields and by_env[var] not in fields:
                out.append(f"{page}:{line}: {var} sets {by_env[var]}, not {', '.join(keys)}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_settings_tables_name_real_settings(page: Path) -> None:
    found = settings_problems(page.read_text(), _page_id(page))
    assert not found, "\n".join(found)


# ---------------------------------------------------------------- Prometheus


def _sent_metrics() -> dict[str, set[str]]:
    """Every series name /metrics sends, with its label names, from a fresh registry fed once by each hook."""
    from llmreplay.metrics.prometheus import LATENESS_BUCKETS, PrometheusMetrics

    prom = PrometheusMetrics()
    prom.started("chat-completions", stream=True)
    prom.first_byte("chat-completions", 0.1)
    prom.finished("chat-completions", status=200, stream=True, total_s=0.2, input_tokens=1, output_tokens=1)
    prom.chunks("chat-completions", 1)
    prom.denied("chat-completions")
    prom.fault("chat-completions", "500")
    prom.cost("chat-completions", "gpt-4o", 0.001)
    prom.frame_lateness([0] * (len(LATENESS_BUCKETS) + 1), 0.0)
    sent: dict[str, set[str]] = {}
    for family in prom.registry.collect():
        for sample in family.samples:
            sent.setdefault(sample.name, set()).update(sample.labels.keys() - {"le"})
            sent.setdefault(family.name, set()).update(sample.labels.keys() - {"le"})
    return sent


def prometheus_problems(text: str, page: str) -> list[str]:
    from llmreplay.providers.registry import routes
    from llmreplay.shaping.outcomes import parse

    sent = _sent_metrics()
    endpoints = {r.endpoint for r in routes()} | {"other"}
    out: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"`[^`]*?\b(llmreplay_[a-z_]+)(?:\{([a-z_, ]*)\})?[^`]*`", line):
            name, labels = m[1], m[2]
            if labels is None and not METRIC_NAME.search(name):
                continue  # not a metric: a fixture (llmreplay_session), an ini key, a prefix (llmreplay_)
            if name not in sent:
                out.append(f"{page}:{n}: /metrics sends no {name}")
                continue
            for label in (labels or "").replace(" ", "").split(","):
                if label and label not in sent[name]:
                    out.append(f"{page}:{n}: {name} has no label {label}")
        # "labelled by `endpoint` (…: `chat-completions`, `messages` …)": those must be endpoint values.
        said = re.search(r"labelled by `endpoint` \(([^)]*)", line)
        for value in _code(said[1]) if said else []:
            if value not in endpoints:
                out.append(f"{page}:{n}: no route has the endpoint label {value!r} (sent: {sorted(endpoints)})")
        # "`llmreplay_faults_total{kind}` … (`500`, `disconnect` …)": those must be fault kinds as sent.
        if "`llmreplay_faults_total{kind}`" in line:
            for value in _code(line.split("(", 1)[1]) if "(" in line else []:
                try:
                    ok = parse(value).name == value
                except ValueError:
                    ok = False
                if not ok:
                    out.append(f"{page}:{n}: {value!r} is not a kind label llmreplay_faults_total sends")
    return out


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_prometheus_names_in_docs_are_sent(page: Path) -> None:
    found = prometheus_problems(page.read_text(), _page_id(page))
    assert not found, "\n".join(found)


# ---------------------------------------------------------------- the checker itself


def test_snippets_are_found_in_blocks_spans_and_indented_code() -> None:
    text = (
        "Run `llmreplay serve\n--port 1` here.\n\n"
        "```console\n$ llmreplay serve \\\n    --seed 1   # a comment --nope\n```\n\n"
        "```python\nsubprocess.run(['llmreplay', 'serve', '--nope'])\n```\n\n"
        "    docker run --rm -p 1:1 llmreplay cassettes list /c\n\n"
        "- a list item\n\n    continued, not code: llmreplay serve --nope\n"
    )
    found = [(s.line, s.text, s.inline) for s in snippets(text)]
    assert (1, "llmreplay serve --port 1", True) in found
    assert (5, "$ llmreplay serve  --seed 1   # a comment --nope", False) in found
    assert (13, "docker run --rm -p 1:1 llmreplay cassettes list /c", False) in found
    assert not any("--nope" in t and not t.startswith("$") for _, t, _ in found)


def test_commands_are_found_in_shell_text() -> None:
    text = "LLMREPLAY_WORKERS=2 llmreplay serve --seed 1 && curl -s x | jq .; python -m llmreplay cassettes list # x"
    assert commands(text) == [("llmreplay", ["serve", "--seed", "1"]), ("llmreplay", ["cassettes", "list"])]
    assert commands('docker run --rm --name llmreplay -v "a:b" -e K llmreplay record --upstream openai') == [
        ("llmreplay", ["record", "--upstream", "openai"])
    ]
    assert commands("docker run -p 1:1 llmreplay") == []  # the image's default command
    assert commands("docker logs llmreplay; pip install llmreplay") == []
    assert commands("OPENAI_API_KEY=sk pytest --llmreplay-upstream=openai tests/") == [
        ("pytest", ["--llmreplay-upstream=openai", "tests/"])
    ]


def test_check_llmreplay_names_what_does_not_exist() -> None:
    for ok in (
        ["serve", "--port", "PORT", "--seed=2", "-q", "--no-uvloop"],
        ["serve", "--cassettes", "<dir>", "..."],
        ["--help"],
        ["record", "--help"],
        ["cassettes"],
        ["cassettes", "verify"],
        ["cassettes", "show", "tests/cassettes/<name>.msgpack"],
        ["cassettes", "export", "x.msgpack", "--format", "json", "-o", "x.json"],
    ):
        assert check_llmreplay(ok) is None, ok
    assert "No such option '--max-body-mb'" in (check_llmreplay(["serve", "--max-body-mb", "64"]) or "")
    assert "No such command 'split'" in (check_llmreplay(["cassettes", "split", "x"]) or "")
    assert "--port" in (check_llmreplay(["serve", "--port"]) or "")  # an option without its value
    assert check_llmreplay(["serve", "--port"], prose=True) is None  # ... which prose may name
    assert "--nope" in (check_llmreplay(["serve", "--nope"], prose=True) or "")
    assert "'fast'" in (check_llmreplay(["serve", "--timing", "fast"]) or "")  # a value click refuses
    assert "extra argument" in (check_llmreplay(["serve", "cassettes"]) or "")


def test_problems_name_the_page_the_line_and_what_is_missing(pytestconfig: pytest.Config) -> None:
    text = (
        "| Body | 32 MiB (`--max-body-mb`) |\n\n"
        "and `llmreplay cassettes import/split`, `serve --synthetic --nope`, `--uvloop/--no-uvloop`, `--user`.\n"
    )
    found = [p for s in snippets(text, "docs/x.md") for p in problems(s, pytestconfig)]
    # Prefixes: the rest is click's wording, which may suggest a near name.
    expected = [
        "docs/x.md:1: `--max-body-mb`: no llmreplay command has an option --max-body-mb",
        "docs/x.md:3: `llmreplay cassettes import/split`: llmreplay cassettes: No such command 'import/split'",
        "docs/x.md:3: `serve --synthetic --nope`: llmreplay serve: No such option '--nope'",
    ]
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), line


def test_settings_and_metrics_checks_catch_mistakes() -> None:
    table = (
        "| Variable | Flag / TOML key |\n|---|---|\n| `PORT` | `--port` / `server.host` |\n| `NOPE` | |\n"
        "| `LLMREPLAY_STATE` | `server.state` |\n| `LLMREPLAY_UVLOOP` | `--uvloop/--no-uvloop` / `server.uvloop` |\n"
    )
    assert settings_problems(table, "x.md") == [
        "x.md:3: server.host has the flag --host, which the 'Flag / TOML key' column leaves out",
        "x.md:3: PORT sets server.port, not server.host",
        "x.md:4: no setting reads the environment variable NOPE",
        "x.md:5: server.state has the flag --state, which the 'Flag / TOML key' column leaves out",
    ]
    text = (
        "All series are labelled by `endpoint` (`chat`, `messages`):\n"
        "| `llmreplay_faults_total{kind}` | Injected faults (`500`, `boom`) |\n"
        "| `llmreplay_requests_total{model}`, `llmreplay_nope_total` |\n"
    )
    found = prometheus_problems(text, "x.md")
    assert any("'chat'" in p for p in found)
    assert any("'boom'" in p for p in found)
    assert any("no label model" in p for p in found)
    assert any("no llmreplay_nope_total" in p for p in found)
