"""Read-side views of the metrics: JSON-ready dicts and CSV text. Only called off the hot path.

``detailed()`` adds two keys to the snapshot::

    "histograms": {
      "unit": "ms", "growth": 1.02,           # bucket i's upper bound is growth times bucket i-1's
      "total": {"ttfb": H, "total": H},
      "endpoints": {name: {"ttfb": H, "total": H}, ...},
    }
    # H = {"count", "p50", "p90", "p95", "p99", "max", "mean", "buckets": [[upper_ms, count], ...]}
    #     (non-empty buckets only, ascending)

    "series": {
      "window_s": int,
      "first_second": int, "last_second": int,   # seconds since start; last is the current, partial one
      "seconds": [int, ...],
      "timestamps": [ISO 8601 UTC, ...],          # start of each second, from the wall clock
      "columns": [...],                           # llmreplay.metrics.series.COLUMNS
      "total": {column: [value per second], ...},
      "endpoints": {name: {column: [...]}, ...},
    }

The CSV holds the same series: a header line, then for each second (oldest
first) one row per endpoint (sorted by name) and one row ``*`` for the total; the
last columns repeat some under the original server's names (:data:`ORIGINAL_COLUMNS`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from llmreplay.metrics.histogram import GROWTH
from llmreplay.metrics.series import COLUMNS
from llmreplay.metrics.stats import Stats

TOTAL_ROW = "*"
ORIGINAL_COLUMNS: dict[str, str] = {
    "requestsStarted": "requests",
    "requestsFailed": "errors",
    "requestsRateLimited": "rate_limited",
    "activeConnections": "max_active_streams",
    "avgLatencyMs": "ttfb_mean_ms",
}
"""The original Mock LLM Server's CSV columns, each a copy of one of ours (see :mod:`llmreplay.metrics.original`)."""
CSV_HEADER: tuple[str, ...] = ("second", "timestamp", "endpoint", *COLUMNS, *ORIGINAL_COLUMNS)


def iso(wall_s: float) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``."""
    return datetime.fromtimestamp(wall_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snapshot(all_: Stats, endpoints: Mapping[str, Stats], now: int, uptime_s: float, wall0: float) -> dict[str, Any]:
    """The shape in :mod:`llmreplay.metrics.store`'s docstring, plus ``stream_requests`` (requests that asked
    for a stream) in the totals and per endpoint, and per endpoint its ``errors``, ``requests_per_s``,
    ``peak_rps`` and ``peak_concurrent_streams`` (which the original server's names are read from)."""
    last_full = now - 1
    totals = {
        "requests": all_.requests,
        "stream_requests": all_.streamed,
        "active_connections": all_.active,
        "active_streams": all_.streams,
        "errors": all_.errors,
        "rate_limited": all_.rate_limited,
        "faults": sum(all_.faults.values()),
        "output_tokens": all_.output_tokens,
        "input_tokens": all_.input_tokens,
        "requests_per_s": all_.series.get(last_full, "requests"),
        "output_tokens_per_s": all_.series.get(last_full, "output_tokens"),
        "peak_rps": all_.peak_rps,
        "peak_concurrent_streams": all_.peak_streams,
        "worst_ttfb_ms": round(all_.ttfb.max * 1000.0, 4),
    }
    per_endpoint = {}
    for name in sorted(endpoints):
        st = endpoints[name]
        per_endpoint[name] = {
            "requests": st.requests,
            "stream_requests": st.streamed,
            "active_connections": st.active,
            "active_streams": st.streams,
            "errors": st.errors,
            "requests_per_s": st.series.get(last_full, "requests"),
            "peak_rps": st.peak_rps,
            "peak_concurrent_streams": st.peak_streams,
            "status_codes": {str(code): n for code, n in sorted(st.status_codes.items(), key=lambda kv: str(kv[0]))},
            "rate_limited": st.rate_limited,
            "faults": dict(sorted(st.faults.items())),
            "chunks": st.chunks,
            "output_tokens": st.output_tokens,
            "input_tokens": st.input_tokens,
            "tokens_per_s": st.series.get(last_full, "output_tokens"),
            "ttfb_ms": st.ttfb.summary(extremes=False),
            "latency_ms": st.total.summary(extremes=False),
        }
    return {
        "uptime_s": round(uptime_s, 3),
        "started_at": iso(wall0),
        "totals": totals,
        "endpoints": per_endpoint,
    }


def latency(endpoint: str, stats: Stats) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "count": stats.total.count,
        "ttfb": stats.ttfb.summary(),
        "total": stats.total.summary(),
    }


def histograms(all_: Stats, endpoints: Mapping[str, Stats]) -> dict[str, Any]:
    return {
        "unit": "ms",
        "growth": GROWTH,
        "total": {"ttfb": all_.ttfb.export(), "total": all_.total.export()},
        "endpoints": {
            name: {"ttfb": st.ttfb.export(), "total": st.total.export()} for name, st in sorted(endpoints.items())
        },
    }


def _span(now: int, window_s: int) -> tuple[int, int]:
    return max(0, now - window_s + 1), now


def series(all_: Stats, endpoints: Mapping[str, Stats], now: int, window_s: int, wall0: float) -> dict[str, Any]:
    first, last = _span(now, window_s)
    seconds = list(range(first, last + 1))
    return {
        "window_s": window_s,
        "first_second": first,
        "last_second": last,
        "seconds": seconds,
        "timestamps": [iso(wall0 + s) for s in seconds],
        "columns": list(COLUMNS),
        "total": all_.series.read(first, last, all_.streams),
        "endpoints": {name: st.series.read(first, last, st.streams) for name, st in sorted(endpoints.items())},
    }


def csv_text(all_: Stats, endpoints: Mapping[str, Stats], now: int, window_s: int, wall0: float) -> str:
    first, last = _span(now, window_s)
    names = sorted(endpoints)
    columns = [endpoints[name].series.read(first, last, endpoints[name].streams) for name in names]
    names.append(TOTAL_ROW)
    columns.append(all_.series.read(first, last, all_.streams))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for k, second in enumerate(range(first, last + 1)):
        stamp = iso(wall0 + second)
        for name, cols in zip(names, columns, strict=True):
            own = [cols[c][k] for c in COLUMNS]
            writer.writerow([second, stamp, name, *own, *(cols[c][k] for c in ORIGINAL_COLUMNS.values())])
    return buf.getvalue()
