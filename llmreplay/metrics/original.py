"""The original Mock LLM Server's names for the metrics, derived from llmreplay's snapshots (read side only).

Each function takes what :mod:`llmreplay.metrics.export` returns (possibly merged from several processes) and
returns the original's fields for it, which the admin API puts beside llmreplay's: per endpoint
(``activeConnections``, ``totalRequests`` …, and in the detailed view ``timeSeries``, ``peaks``,
``latencyHistogram``, ``errors`` …) and for all of them (``global``). Times are milliseconds since the epoch.

What llmreplay does not keep is approximated, and said so here: per-second points carry the endpoint's
latency percentiles so far (no per-second percentiles are kept), ``activeConnections`` of a point is the most
streams open in that second, ``requestsCompleted`` is the second's requests less its errors, and the
moments of the latency peak and of the errors are not kept (null).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

RANGES_MS: tuple[tuple[float, float | None], ...] = (
    (0, 100),
    (100, 250),
    (250, 500),
    (500, 1000),
    (1000, 2500),
    (2500, 5000),
    (5000, 10000),
    (10000, None),
)
"""The latency histogram's ranges in the original's coarse shape (llmreplay's own buckets are 2% wide)."""


def epoch_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def endpoint_fields(e: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /api/metrics``: one endpoint's counters under the original's names."""
    return {
        "activeConnections": e["active_connections"],
        "activeStreamingConnections": e["active_streams"],
        "totalRequests": e["requests"],
        "totalErrors": e.get("errors", 0),
        "totalRateLimited": e["rate_limited"],
        "requestsPerSecond": e.get("requests_per_s", 0),
        "latencyMs": e.get("latency_ms"),
    }


EMPTY: dict[str, Any] = {
    "requests": 0,
    "stream_requests": 0,
    "active_connections": 0,
    "active_streams": 0,
    "errors": 0,
    "rate_limited": 0,
    "requests_per_s": 0,
    "peak_rps": 0,
    "peak_concurrent_streams": 0,
    "status_codes": {},
    "faults": {},
}
"""An endpoint that has had no request yet, as far as the original's fields read it."""


def global_fields(snap: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /api/metrics``: the original's ``global`` object."""
    totals = snap["totals"]
    return {
        "totalActiveConnections": totals["active_connections"],
        "totalRequestsPerSecond": totals["requests_per_s"],
        "uptimeSeconds": snap["uptime_s"],
    }


def detailed_fields(
    e: Mapping[str, Any], series: Mapping[str, list[Any]], hist: Mapping[str, Any], detailed: Mapping[str, Any]
) -> dict[str, Any]:
    """``GET /api/detailed-metrics``: one endpoint's (or, with the totals, everything's) detailed view under the
    original's names. ``series`` is its per-second columns, ``hist`` its total-latency histogram."""
    start = epoch_ms(detailed["started_at"])
    seconds: list[int] = detailed["series"]["seconds"]
    stamps = [start + s * 1000 for s in seconds]
    requests, errors = series["requests"], series["errors"]
    latency = e.get("latency_ms") or {}
    running = e["requests"] - sum(requests)
    points = []
    for k, stamp in enumerate(stamps):
        running += requests[k]
        points.append(
            {
                "timestamp": stamp,
                "activeConnections": series["max_active_streams"][k],
                "cumulativeConnections": running,
                "requestsStarted": requests[k],
                "requestsCompleted": max(0, requests[k] - errors[k]),
                "requestsFailed": errors[k],
                "requestsRateLimited": series["rate_limited"][k],
                "avgLatencyMs": series["ttfb_mean_ms"][k],
                "p50LatencyMs": latency.get("p50", 0.0),
                "p95LatencyMs": latency.get("p95", 0.0),
                "p99LatencyMs": latency.get("p99", 0.0),
            }
        )
    streamed = e.get("stream_requests", 0)
    return {
        "timeSeries": points,
        "peaks": {
            "maxConcurrentConnections": e.get("peak_concurrent_streams", 0),
            "maxConcurrentAt": _at_most(stamps, series["max_active_streams"]),
            "maxRPS": e.get("peak_rps", 0),
            "maxRPSAt": _at_most(stamps, requests),
            "maxLatencyMs": hist.get("max", 0.0),
            "maxLatencyAt": None,
            "totalRequests": e["requests"],
            "totalConnections": e["requests"],
            "totalErrors": e.get("errors", 0),
            "totalRateLimited": e["rate_limited"],
            "startTime": start,
        },
        "latencyHistogram": histogram(hist.get("buckets", [])),
        "errors": error_counts(e),
        "currentRPS": requests[-2] if len(requests) > 1 else 0,
        "currentConnections": e["active_connections"],
        "totalStreaming": streamed,
        "totalNonStreaming": e["requests"] - streamed,
    }


def _at_most(stamps: list[int], values: list[Any]) -> int | None:
    """When the largest value in the window was reached (the first such second); None for an empty window."""
    if not values or max(values) <= 0:
        return None
    return stamps[values.index(max(values))]


def histogram(buckets: list[list[float]]) -> list[dict[str, Any]]:
    """llmreplay's fine buckets (``[upper_ms, count]``) gathered into the original's ranges."""
    out = []
    for lo, hi in RANGES_MS:
        count = sum(int(n) for upper, n in buckets if upper > lo and (hi is None or upper <= hi))
        label = f"{lo:g}-{hi:g}ms" if hi is not None else f"{lo:g}ms+"
        out.append({"label": label, "min": lo, "max": hi, "count": count})
    return out


def error_counts(e: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Error answers by status, and faults that have no status of their own (a cut stream, a timeout)."""
    out = [
        {"type": code, "count": n, "lastOccurred": None}
        for code, n in e.get("status_codes", {}).items()
        if code.isdigit() and int(code) >= 400
    ]
    out += [
        {"type": kind, "count": n, "lastOccurred": None}
        for kind, n in e.get("faults", {}).items()
        if not kind.isdigit()
    ]
    return out


def _summed(errors: Any) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for error in errors:
        counts[error["type"]] = counts.get(error["type"], 0) + error["count"]
    return [{"type": t, "count": n, "lastOccurred": None} for t, n in counts.items()]


def detailed_view(detailed: Mapping[str, Any]) -> dict[str, Any]:
    """The original's fields of a whole detailed snapshot: per llmreplay endpoint name, and ``global``."""
    series, hists = detailed["series"], detailed["histograms"]
    endpoints = {
        name: detailed_fields(e, series["endpoints"][name], hists["endpoints"][name]["total"], detailed)
        for name, e in detailed["endpoints"].items()
        if name in series["endpoints"] and name in hists["endpoints"]
    }
    totals = {**detailed["totals"], "status_codes": {}, "faults": {}}
    glob = detailed_fields(totals, series["total"], hists["total"]["total"], detailed)
    glob["errors"] = _summed(error for view in endpoints.values() for error in view["errors"])
    glob["testDurationSeconds"] = detailed["uptime_s"]
    return {"endpoints": endpoints, "global": glob}
