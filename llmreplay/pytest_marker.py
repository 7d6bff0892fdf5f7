"""The ``llmreplay`` marker: its arguments, read closest first and checked before the test runs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

RECORD_MODES = ("none", "once", "new_episodes", "all")
ON_MISS = ("error", "synthetic", "forward")
MARKER_DOC = (
    "llmreplay(cassette=None, record_mode=None, scenario=None, latency=None, seed=None, on_miss=None, "
    "synthetic=False, rules=None, strict=None, require_cassette=None, budget_usd=None): configure the test's "
    "llmreplay server (see docs/pytest-plugin.md)"
)


@dataclass(frozen=True)
class Mark:
    """The llmreplay marker's arguments, validated."""

    cassette: str | None = None
    record_mode: str | None = None
    scenario: str | None = None
    latency: str | Mapping[str, float] | None = None
    seed: int | None = None
    on_miss: str | None = None
    synthetic: bool = False
    rules: Any = None
    """A rules file (relative to the test module), a list of rules, or ``{"rules": [...]}``: this test's."""
    strict: bool | None = None
    require_cassette: bool | None = None
    """True: the test must replay its cassette: a missing one fails it at setup, and a request it does not hold
    fails it at teardown (strict mode), instead of a synthetic answer."""
    budget_usd: float | None = None
    """The most the test's LLM calls may cost at the catalogue's prices: more fails it at teardown."""


def read_mark(node: pytest.Item) -> Mark | None:
    """The marker's arguments, closest first (a function's marker overrides its class's and module's)."""
    found: dict[str, Any] = {}
    seen = False
    for marker in node.iter_markers("llmreplay"):
        seen = True
        if len(marker.args) > 1:
            raise pytest.UsageError(f"{node.nodeid}: llmreplay marker takes at most one positional argument")
        kwargs = dict(marker.kwargs)
        if marker.args:
            kwargs.setdefault("cassette", marker.args[0])
        for key, value in kwargs.items():
            found.setdefault(key, value)
    if not seen:
        return None
    try:
        mark = Mark(**found)
    except TypeError:
        bad = sorted(set(found) - set(Mark.__dataclass_fields__))
        raise pytest.UsageError(f"{node.nodeid}: llmreplay marker: unknown argument(s) {', '.join(bad)}") from None
    _check(node, mark)
    return mark


def _check(node: pytest.Item, mark: Mark) -> None:
    def fail(msg: str) -> None:
        raise pytest.UsageError(f"{node.nodeid}: llmreplay marker: {msg}")

    if mark.record_mode is not None and mark.record_mode not in RECORD_MODES:
        fail(f"record_mode={mark.record_mode!r}: expected one of {', '.join(RECORD_MODES)}")
    if mark.on_miss is not None and mark.on_miss not in ON_MISS:
        fail(f"on_miss={mark.on_miss!r}: expected one of {', '.join(ON_MISS)}")
    lat = mark.latency
    if lat is not None and not isinstance(lat, Mapping) and lat not in ("instant", "recorded"):
        fail(f"latency={lat!r}: expected 'instant', 'recorded' or a dict of latency fields (ms)")
    if mark.rules is not None and not isinstance(mark.rules, str | os.PathLike | list | tuple | Mapping):
        fail(f"rules={mark.rules!r}: expected a rules file, a list of rules or {{'rules': [...]}}")
    for name in ("strict", "require_cassette"):
        value = getattr(mark, name)
        if value is not None and not isinstance(value, bool):
            fail(f"{name}={value!r}: expected True or False")
    budget = mark.budget_usd
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float) or budget < 0):
        fail(f"budget_usd={budget!r}: expected a number of US dollars, 0 or more")
    if mark.cassette is not None and (
        not isinstance(mark.cassette, str) or not mark.cassette or any(c in mark.cassette for c in ("/", "\\", ".."))
    ):
        fail(f"cassette={mark.cassette!r}: expected a file name without folder or suffix")
