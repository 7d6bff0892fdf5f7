"""Which recordings a run played and which requests no recording matched: the usage report.

The server counts every answer as it goes (a counter per recording played, one row per distinct missed request,
at most :data:`MAX_MISSES` of them), so the report covers a whole run however long, unlike the journal's recent
entries. It is read from ``GET /api/cassette-usage``, written at shutdown to ``--usage-report FILE``, and the
pytest plugin merges its tests' into one; ``llmreplay cassettes stale`` reads it beside the cassettes
(:mod:`llmreplay.cassettes.stale`). Layout::

    {"format": "llmreplay-usage", "version": 1,
     "played": {"<cassette>": {"<index>": <times>, ...}, ...},
     "misses": [{"method", "path", "endpoint", "model", "cassette", "answered_by", "count"}, ...],
     "misses_left_out": <distinct misses past the cap>}
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmreplay.cassettes.jsonio import read_json

FORMAT = "llmreplay-usage"
VERSION = 1
MAX_MISSES = 1000
"""Distinct missed requests kept; more are counted in ``misses_left_out``."""


class UsageError(ValueError):
    """A file that is not a usage report; the message names it."""


class Usage:
    """Counts of recordings played and requests missed, in memory bounded by the cassettes and the cap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.played: dict[str, dict[int, int]] = {}
        self.misses: dict[tuple[str, str, str, str, str, str], int] = {}
        self.left_out = 0

    def play(self, cassette: str, index: int, times: int = 1) -> None:
        """Recording ``index`` of ``cassette`` answered a request (``times`` of them)."""
        with self._lock:
            counts = self.played.setdefault(cassette, {})
            counts[index] = counts.get(index, 0) + times

    def miss(
        self,
        method: str,
        path: str,
        endpoint: str,
        model: str | None,
        cassette: str,
        answered_by: str,
        times: int = 1,
    ) -> None:
        """No recording of ``cassette`` (``*``: any) matched; ``answered_by`` is what answered instead
        (``synthetic``, ``upstream``, ``error`` …)."""
        key = (method, path, endpoint, model or "", cassette, answered_by)
        with self._lock:
            if key in self.misses:
                self.misses[key] += times
            elif len(self.misses) < MAX_MISSES:
                self.misses[key] = times
            else:
                self.left_out += times

    def report(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        with self._lock:
            played = {name: {str(i): n for i, n in sorted(c.items())} for name, c in sorted(self.played.items())}
            misses = [dict(zip(_MISS_FIELDS, key, strict=True), count=n) for key, n in self.misses.items()]
            left_out = self.left_out
        return {"format": FORMAT, "version": VERSION, "played": played, "misses": misses, "misses_left_out": left_out}

    def write(self, path: str | Path) -> None:
        """The report as a JSON file (written whole beside it, then renamed over it)."""
        from llmreplay.cassettes.store import replace_atomically

        text = json.dumps(self.report(), indent=2, ensure_ascii=False) + "\n"
        replace_atomically(Path(path), [text.encode()])


_MISS_FIELDS = ("method", "path", "endpoint", "model", "cassette", "answered_by")


def merge(reports: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Several reports as one (a pytest session's tests, each with its own server): counts added up."""
    total = Usage()
    for r in reports:
        for name, counts in r.get("played", {}).items():
            for index, n in counts.items():
                total.play(name, int(index), int(n))
        for m in r.get("misses", []):
            total.miss(*(str(m.get(f) or "") for f in _MISS_FIELDS), times=int(m.get("count", 1)))
        total.left_out += int(r.get("misses_left_out", 0))
    return total.report()


def load(path: str | Path) -> dict[str, Any]:
    """A usage report file; UsageError (naming the file) when it is not one."""
    p = Path(path)
    doc = read_json(p, UsageError)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UsageError(f'{p}: not a usage report (no "format": "{FORMAT}")')
    if not isinstance(doc.get("played"), dict) or not isinstance(doc.get("misses"), list):
        raise UsageError(f"{p}: a usage report needs 'played' (an object) and 'misses' (a list)")
    return doc


__all__ = ["FORMAT", "MAX_MISSES", "Usage", "UsageError", "load", "merge"]
