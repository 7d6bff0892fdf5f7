"""Only ``llmreplay/providers/`` decides by provider: nowhere else does a branch test a provider's name.

A feature that knows a wire format lives in that provider's codec (docs/architecture.md); code
elsewhere asks the codec or ``providers/registry.py``. This walks every module outside
``providers/`` and fails on a string naming a provider inside a branch: the test of an
``if``/``elif``/``while``/ternary/``assert``, a comparison anywhere (``api == "gemini"``,
``"anthropic" in name``), a ``match`` case, a ``startswith``/``endswith`` argument, or a subscript
with a constant key (``TABLE["openai"]``, dispatch through a dict). Data tables, help text,
docstrings and comments may name providers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "llmreplay"
PROVIDER = re.compile(r"openai|anthropic|gemini|google|goog|claude|vertex|gpt-|bedrock|azure|amazon|aws", re.IGNORECASE)

KNOWN: set[tuple[str, str]] = {
    # A framing, as text/event-stream is: the recorder splits a body into events by its content type, whoever
    # sent it. (Way out: a splitter table keyed by content type, if a third framing comes.)
    ("llmreplay/cassettes/splitter.py", "application/vnd.amazon.eventstream"),
}
"""(module, provider constant) pairs tolerated for now, each with the reason and the way out."""


def _constants(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and PROVIDER.search(sub.value):
            yield sub.value


def _branch_parts(tree: ast.AST) -> Iterator[ast.AST]:
    """The parts of a module that decide which way the code goes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            yield node.test
        elif isinstance(node, ast.Compare):
            yield node
        elif isinstance(node, ast.match_case):
            yield node.pattern
            if node.guard is not None:
                yield node.guard
        elif isinstance(node, ast.comprehension):
            yield from node.ifs
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("startswith", "endswith", "removeprefix", "removesuffix"):
                yield from node.args
        # A read picks by a constant key (dispatch); ``table["x"] = …`` only fills a table.
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and not isinstance(node.ctx, ast.Store)
        ):
            yield node.slice


def provider_branches(path: Path) -> set[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[tuple[int, str]] = set()
    for part in _branch_parts(tree):
        for value in _constants(part):
            found.add((getattr(part, "lineno", 0), value))
    return found


def _modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if (PACKAGE / "providers") not in path.parents:
            yield path


def test_no_branch_outside_providers_names_a_provider() -> None:
    offences = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        for line, value in sorted(provider_branches(path)):
            if (rel, value.lower()) not in KNOWN:
                offences.append(f"{rel}:{line}: branches on {value!r}; ask the codec or providers/registry.py")
    assert not offences, "\n".join(offences)


def test_the_walk_finds_each_form_of_branch(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "if api == 'gemini':\n    pass\n"
        "x = 529 if codec.api.startswith('anthropic') else 500\n"
        "match name:\n    case 'openai':\n        pass\n"
        "y = HANDLERS['claude']\n"
        "ENV['OPENAI_BASE_URL'] = url\n"  # filling a table: not a branch
        "z = [a for a in apis if a != 'google']\n"
        "TABLE = {'openai': 'https://api.openai.com'}\n"  # a data table: not a branch
        "'''gemini in a docstring'''\n"
    )
    assert {v for _, v in provider_branches(sample)} == {"gemini", "anthropic", "openai", "claude", "google"}
