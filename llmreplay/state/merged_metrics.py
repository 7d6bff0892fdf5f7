"""Metrics of several processes merged into one ``GET /api/metrics`` snapshot.

Counts add up (requests, errors, rate-limited, faults, tokens, active connections and
streams, status codes, per-second rates); peaks and worst cases take the maximum
(the peak of a sum is not known, so ``peak_rps`` is the busiest single process);
latency percentiles cannot be merged from summaries, so they are this process's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_MAX = frozenset({"peak_rps", "peak_concurrent_streams", "worst_ttfb_ms", "uptime_s"})
_LOCAL = frozenset({"ttfb_ms", "latency_ms", "started_at"})


def merge_snapshots(local: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``local`` with every other process's snapshot folded in, plus ``"processes"``: how many were merged."""
    out = _copy(local)
    n = 1
    for other in others:
        _fold(out, other)
        n += 1
    out["processes"] = n
    return out


def _copy(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, Mapping) else v for k, v in d.items()}


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _fold(into: dict[str, Any], other: Mapping[str, Any]) -> None:
    for k, v in other.items():
        if k in _LOCAL or k == "processes":
            into.setdefault(k, _copy(v) if isinstance(v, Mapping) else v)
            continue
        mine = into.get(k)
        if isinstance(v, Mapping):
            if isinstance(mine, dict):
                _fold(mine, v)
            elif mine is None:
                into[k] = _copy(v)
        elif _is_number(v):
            if mine is None:
                into[k] = v
            elif _is_number(mine):
                into[k] = max(mine, v) if k in _MAX else _add(mine, v)
        elif mine is None:
            into[k] = v


def _add(a: float, b: float) -> float:
    total = a + b
    return round(total, 6) if isinstance(total, float) else total
