"""Merging several processes' metrics snapshots: counts add, peaks take the maximum, percentiles stay local."""

from __future__ import annotations

from typing import Any

from llmreplay.state.merged_metrics import merge_snapshots


def snap(requests: int, peak: float, ttfb_p50: float, codes: dict[str, int], started: str) -> dict[str, Any]:
    return {
        "uptime_s": requests * 1.5,
        "started_at": started,
        "totals": {
            "requests": requests,
            "active_connections": 1,
            "rate_limited": 2,
            "faults": 1,
            "requests_per_s": 0.5,
            "peak_rps": peak,
            "peak_concurrent_streams": int(peak),
            "worst_ttfb_ms": peak * 10,
        },
        "endpoints": {
            "messages": {
                "requests": requests,
                "status_codes": codes,
                "faults": {"500": 1},
                "ttfb_ms": {"p50": ttfb_p50},
                "latency_ms": {"p50": ttfb_p50 * 2},
            }
        },
    }


def test_counts_add_peaks_max_percentiles_local() -> None:
    local = snap(10, 3.0, 5.0, {"200": 9, "429": 1}, "2026-01-01T00:00:00Z")
    other = snap(4, 7.0, 50.0, {"200": 2, "503": 2}, "2026-01-02T00:00:00Z")
    other["endpoints"]["gemini"] = {"requests": 1, "status_codes": {"200": 1}}
    merged = merge_snapshots(local, [other])
    t = merged["totals"]
    assert (t["requests"], t["active_connections"], t["rate_limited"], t["faults"]) == (14, 2, 4, 2)
    assert t["requests_per_s"] == 1.0
    assert (t["peak_rps"], t["peak_concurrent_streams"], t["worst_ttfb_ms"]) == (7.0, 7, 70.0)
    m = merged["endpoints"]["messages"]
    assert m["requests"] == 14 and m["status_codes"] == {"200": 11, "429": 1, "503": 2} and m["faults"] == {"500": 2}
    assert m["ttfb_ms"] == {"p50": 5.0} and m["latency_ms"] == {"p50": 10.0}
    assert merged["endpoints"]["gemini"] == {"requests": 1, "status_codes": {"200": 1}}
    assert merged["started_at"] == "2026-01-01T00:00:00Z" and merged["uptime_s"] == 15.0
    assert merged["processes"] == 2
    # the inputs are untouched
    assert local["totals"]["requests"] == 10 and local["endpoints"]["messages"]["status_codes"]["200"] == 9


def test_alone_and_many() -> None:
    one = snap(1, 1.0, 1.0, {"200": 1}, "x")
    assert merge_snapshots(one, []) == {**one, "processes": 1}
    merged = merge_snapshots(one, [one, one, one])
    assert merged["totals"]["requests"] == 4 and merged["processes"] == 4
