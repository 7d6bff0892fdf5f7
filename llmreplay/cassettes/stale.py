"""Stale recordings: those a run never played, and the requests it sent that no recording matched.

Read from the cassettes on disk and a usage report of the run (:mod:`llmreplay.cassettes.usage`), as
``llmreplay cassettes stale`` shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from llmreplay.cassettes.provenance import describe, model_of
from llmreplay.cassettes.store import Cassette


@dataclass(frozen=True, slots=True)
class Unused:
    """A recording the run never played."""

    cassette: str
    index: int
    method: str
    path: str
    model: str
    recorded_at: str
    made: str

    def line(self) -> str:
        when = f"recorded {self.recorded_at}" if self.recorded_at else "recorded at an unknown time"
        model = f" {self.model}" if self.model else ""
        made = "" if self.made == "-" else f"; {self.made}"
        return f"  #{self.index} {self.method} {self.path}{model} ({when}{made})"


def unused(cassette: Cassette, report: Mapping[str, Any]) -> list[Unused]:
    """The recordings of ``cassette`` the report's run never played."""
    name = cassette.path.stem
    played = {int(i) for i in report.get("played", {}).get(name, {})}
    return [
        Unused(name, i, it.request.method, it.request.path, model_of(it), it.recorded_at, describe(it))
        for i, it in enumerate(cassette.interactions)
        if i not in played
    ]


def miss_line(m: Mapping[str, Any]) -> str:
    model = f" {m['model']}" if m.get("model") else ""
    where = "any cassette" if m.get("cassette") in (None, "", "*") else f"cassette {m['cassette']}"
    request = f"{m.get('method', '?')} {m.get('path', '?')}{model}"
    return f"  {m.get('count', 1)}x {request} ({where}; answered by {m.get('answered_by') or '?'})"


def report_lines(cassettes: Iterable[Cassette], report: Mapping[str, Any]) -> tuple[list[str], bool]:
    """What ``cassettes stale`` prints, and whether anything is stale or missed."""
    out: list[str] = []
    stale = False
    for c in cassettes:
        never = unused(c, report)
        total = len(c.interactions)
        if never:
            stale = True
            out.append(f"{c.path.stem}: {len(never)} of {total} recordings never used")
            out.extend(u.line() for u in never)
        else:
            out.append(f"{c.path.stem}: all {total} recordings used")
    misses = report.get("misses", [])
    left_out = int(report.get("misses_left_out", 0))
    if misses or left_out:
        stale = True
        count = sum(int(m.get("count", 1)) for m in misses) + left_out
        out.append(f"missed: {count} request{'' if count == 1 else 's'} no recording matched")
        out.extend(miss_line(m) for m in misses)
        if left_out:
            out.append(f"  … and {left_out} more, past the report's {len(misses)} distinct misses")
    else:
        out.append("missed: none")
    return out, stale


__all__ = ["Unused", "miss_line", "report_lines", "unused"]
