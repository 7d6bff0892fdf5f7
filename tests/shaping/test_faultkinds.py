"""The fault-kind registry: each kind declared once, and everything that lists kinds derived from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmreplay.control.admin import failure_modes
from llmreplay.shaping.faultkinds.base import FaultKind
from llmreplay.shaping.faultkinds.registry import (
    BUILTIN,
    CONTENT_KINDS,
    EARLY_KINDS,
    KINDS,
    MODES,
    STREAM_KINDS,
    index,
    markdown_table,
)
from llmreplay.shaping.outcomes import DESCRIPTIONS, parse

ROOT = Path(__file__).resolve().parents[2]


def test_docs_table_is_the_registry() -> None:
    text = (ROOT / "docs" / "shaping.md").read_text()
    m = re.search(r"<!-- failure-kinds table:[^\n]*-->\n(.*?)<!-- end failure-kinds table -->", text, re.S)
    assert m is not None, "docs/shaping.md lost its generated failure-kinds table markers"
    assert m.group(1) == markdown_table(), "stale: paste registry.markdown_table() into docs/shaping.md"


def test_admin_list_is_the_registry() -> None:
    listed = failure_modes()
    assert [m["name"] for m in listed] == [m.name for m in MODES] == list(DESCRIPTIONS)
    for row, mode in zip(listed, MODES, strict=True):
        assert (row["syntax"], row["description"], row["when"], row["example"]) == (
            mode.syntax,
            mode.description,
            mode.when,
            mode.example,
        )


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_every_spelling_and_example_parses(mode) -> None:
    assert parse(mode.example).name == mode.name
    for spelling in mode.syntax.split("|"):
        filled = spelling.strip().replace("MS", "250").replace("N%", "40%").replace("@N", "@2")
        if "…" not in filled:
            assert parse(filled).name == mode.name, filled


@pytest.mark.parametrize("kind", BUILTIN, ids=lambda k: k.name)
def test_the_grammar_a_kind_declares_is_the_one_it_shows(kind: FaultKind) -> None:
    syntax = kind.syntax or kind.name
    if kind.name == "status":
        return
    assert kind.position == ("@N" in syntax)
    assert kind.duration == (":MS" in syntax)
    assert kind.closes == (":close" in syntax)
    assert kind.description and kind.when in ("never", "before any byte", "mid-stream", "in the reply")


def test_when_a_kind_acts_decides_the_old_sets() -> None:
    assert {"disconnect", "stall", "malformed", "stream-error", "truncate", "slow-first-token", "slow_response"} == (
        STREAM_KINDS
    )
    assert {"status", "timeout", "reset", "empty", "slow-headers"} == EARLY_KINDS
    assert set(KINDS) == STREAM_KINDS | EARLY_KINDS | CONTENT_KINDS | {"ok"}


def test_a_kind_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        index((*BUILTIN, BUILTIN[-1]))


def test_the_dashboard_names_no_kind() -> None:
    # The page builds its kinds table from hello.failure_modes (GET /api/failure-modes); a kind named in its
    # code would be a second list to keep in step.
    names = {m.name for m in MODES if not m.name.isdigit()} - {"ok"}
    for path in sorted((ROOT / "dashboard").glob("*.js")):
        code = re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(), flags=re.S)
        literals = re.findall(r"\"([^\"\n]*)\"|'([^'\n]*)'|`([^`]*)`", code)
        for groups in literals:
            text = "".join(groups)
            word = re.split(r"[@:]", text, maxsplit=1)[0]
            assert word not in names, f"{path.name} names the fault kind {text!r}"
