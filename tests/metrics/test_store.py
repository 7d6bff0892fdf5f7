"""The Metrics store through its public interface, on a fake clock."""

from __future__ import annotations

import csv
import io
import json
import math
import random

import pytest

from llmreplay.metrics import Metrics
from llmreplay.metrics.export import CSV_HEADER, ORIGINAL_COLUMNS
from llmreplay.metrics.series import COLUMNS
from llmreplay.metrics.store import MAX_ENDPOINTS

WALL0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL0 + self.now - 1000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def metrics(clock: FakeClock) -> Metrics:
    return Metrics(clock=clock, wall=clock.wall, window_s=60)


def one(m: Metrics, endpoint: str = "chat", *, status: int = 200, stream: bool = False, out: int = 0) -> None:
    m.started(endpoint, stream=stream)
    m.first_byte(endpoint, 0.05)
    m.finished(endpoint, status=status, stream=stream, total_s=0.2, input_tokens=3, output_tokens=out)


def test_counts_and_active_gauges(metrics: Metrics) -> None:
    metrics.started("chat", stream=True)
    metrics.started("chat", stream=False)
    metrics.started("embed", stream=False)
    snap = metrics.snapshot()
    assert snap["totals"]["requests"] == 3
    assert snap["totals"]["active_connections"] == 3
    assert snap["totals"]["active_streams"] == 1
    assert snap["endpoints"]["chat"]["active_connections"] == 2
    assert snap["endpoints"]["chat"]["active_streams"] == 1
    assert snap["endpoints"]["embed"]["active_streams"] == 0

    metrics.first_byte("chat", 0.120)
    metrics.chunks("chat", 7)
    metrics.finished("chat", status=200, stream=True, total_s=1.0, input_tokens=10, output_tokens=40)
    metrics.finished("chat", status=500, stream=False, total_s=0.1)
    metrics.denied("embed")
    metrics.finished("embed", status=429, stream=False, total_s=0.001)
    metrics.fault("chat", "500")
    metrics.fault("chat", "disconnect")
    metrics.fault("chat", "disconnect")

    snap = metrics.snapshot()
    totals = snap["totals"]
    assert totals["active_connections"] == 0
    assert totals["active_streams"] == 0
    assert totals["errors"] == 2
    assert totals["rate_limited"] == 1
    assert totals["faults"] == 3
    assert totals["output_tokens"] == 40
    assert totals["input_tokens"] == 10
    assert totals["peak_concurrent_streams"] == 1
    assert totals["worst_ttfb_ms"] == 120.0
    chat = snap["endpoints"]["chat"]
    assert chat["status_codes"] == {"200": 1, "500": 1}
    assert chat["faults"] == {"500": 1, "disconnect": 2}
    assert chat["chunks"] == 7
    assert chat["ttfb_ms"]["p50"] == 120.0
    assert set(chat["latency_ms"]) == {"p50", "p90", "p95", "p99"}
    assert snap["endpoints"]["embed"]["status_codes"] == {"429": 1}
    assert snap["endpoints"]["embed"]["rate_limited"] == 1


def test_gauges_never_go_negative(metrics: Metrics) -> None:
    metrics.finished("chat", status=200, stream=True, total_s=0.1)
    snap = metrics.snapshot()
    assert snap["totals"]["active_connections"] == 0
    assert snap["totals"]["active_streams"] == 0


def test_snapshot_shape_and_clock(metrics: Metrics, clock: FakeClock) -> None:
    clock.now += 12.5
    snap = metrics.snapshot()
    assert set(snap) == {"uptime_s", "started_at", "totals", "endpoints", "cost_usd"}
    assert snap["uptime_s"] == 12.5
    assert snap["started_at"] == "2026-01-01T00:00:00.000Z"
    assert set(snap["totals"]) == {
        "requests", "stream_requests", "active_connections", "active_streams", "errors", "rate_limited", "faults",
        "output_tokens", "input_tokens", "requests_per_s", "output_tokens_per_s", "peak_rps",
        "peak_concurrent_streams", "worst_ttfb_ms",
    }  # fmt: skip
    one(metrics)
    assert set(metrics.snapshot()["endpoints"]["chat"]) == {
        "requests", "stream_requests", "active_connections", "active_streams", "errors", "requests_per_s",
        "peak_rps", "peak_concurrent_streams", "status_codes", "rate_limited", "faults",
        "chunks", "output_tokens", "input_tokens", "tokens_per_s", "ttfb_ms", "latency_ms",
    }  # fmt: skip
    json.dumps(metrics.snapshot())


def test_requests_per_s_is_the_last_full_second_and_peak_rps(metrics: Metrics, clock: FakeClock) -> None:
    for _ in range(5):
        one(metrics, out=10)
    clock.now += 1.0
    for _ in range(3):
        one(metrics, out=1)
    totals = metrics.snapshot()["totals"]
    assert totals["requests_per_s"] == 5
    assert totals["output_tokens_per_s"] == 50
    assert metrics.snapshot()["endpoints"]["chat"]["tokens_per_s"] == 50
    clock.now += 1.0
    totals = metrics.snapshot()["totals"]
    assert totals["requests_per_s"] == 3
    assert totals["peak_rps"] == 5
    clock.now += 1.0
    assert metrics.snapshot()["totals"]["requests_per_s"] == 0
    assert metrics.snapshot()["totals"]["peak_rps"] == 5


def test_peak_concurrent_streams(metrics: Metrics) -> None:
    for _ in range(4):
        metrics.started("chat", stream=True)
    for _ in range(4):
        metrics.finished("chat", status=200, stream=True, total_s=1.0)
    metrics.started("chat", stream=True)
    totals = metrics.snapshot()["totals"]
    assert totals["active_streams"] == 1
    assert totals["peak_concurrent_streams"] == 4


def test_latency_endpoint(metrics: Metrics) -> None:
    assert metrics.latency("nope") is None
    rng = random.Random(7)
    ttfbs = [rng.lognormvariate(math.log(0.3), 0.8) for _ in range(2000)]
    for ttfb in ttfbs:
        metrics.started("chat", stream=True)
        metrics.first_byte("chat", ttfb)
        metrics.finished("chat", status=200, stream=True, total_s=ttfb * 4)
    lat = metrics.latency("chat")
    assert lat is not None
    assert lat["endpoint"] == "chat"
    assert lat["count"] == 2000
    assert set(lat["ttfb"]) == {"p50", "p90", "p95", "p99", "max", "mean"}
    ordered = sorted(ttfbs)
    assert lat["ttfb"]["p50"] == pytest.approx(ordered[999] * 1000, rel=0.02)
    assert lat["ttfb"]["p99"] == pytest.approx(ordered[1979] * 1000, rel=0.02)
    assert lat["ttfb"]["max"] == pytest.approx(ordered[-1] * 1000, rel=1e-6)
    assert lat["total"]["p90"] == pytest.approx(ordered[1799] * 4000, rel=0.02)
    json.dumps(lat)


def test_series_rolls_over_and_recycles_slots(metrics: Metrics, clock: FakeClock) -> None:
    for _ in range(3):
        one(metrics, status=500, out=2)
    metrics.denied("chat")
    metrics.fault("chat", "timeout")
    series = metrics.detailed()["series"]
    assert series["first_second"] == 0
    assert series["total"]["requests"] == [3]
    assert series["total"]["errors"] == [3]
    assert series["total"]["ttfb_mean_ms"] == [50.0]

    clock.now += 10.0
    one(metrics)
    series = metrics.detailed()["series"]
    assert series["seconds"] == list(range(11))
    assert series["total"]["requests"] == [3] + [0] * 9 + [1]
    assert series["endpoints"]["chat"]["rate_limited"] == [1] + [0] * 10
    assert series["endpoints"]["chat"]["faults"] == [1] + [0] * 10
    assert series["endpoints"]["chat"]["output_tokens"] == [6] + [0] * 10

    # 60 s later, second 70 writes into the slot that held second 10 (window 60): old data must not leak.
    clock.now += 60.0
    one(metrics)
    series = metrics.detailed()["series"]
    assert series["first_second"] == 11
    assert series["last_second"] == 70
    assert len(series["seconds"]) == 60
    assert series["total"]["requests"] == [0] * 59 + [1]
    assert series["total"]["errors"] == [0] * 60
    # Far beyond the window: nothing at all remains, but the cumulative totals do.
    clock.now += 1000.0
    series = metrics.detailed()["series"]
    assert series["total"]["requests"] == [0] * 60
    assert metrics.snapshot()["totals"]["requests"] == 5


def test_series_streams_level_carries_over_silent_seconds(metrics: Metrics, clock: FakeClock) -> None:
    metrics.started("chat", stream=True)
    metrics.started("chat", stream=True)
    clock.now += 3.0
    metrics.finished("chat", status=200, stream=True, total_s=3.0)
    clock.now += 2.0
    streams = metrics.detailed()["series"]["total"]["max_active_streams"]
    assert streams == [2, 2, 2, 2, 1, 1]


def test_reset_keeps_gauges_and_zeroes_the_rest(metrics: Metrics, clock: FakeClock) -> None:
    for _ in range(10):
        one(metrics, status=503, out=5)
    metrics.started("chat", stream=True)
    clock.now += 30.0
    metrics.reset()
    snap = metrics.snapshot()
    assert snap["uptime_s"] == 0.0
    assert snap["totals"]["requests"] == 0
    assert snap["totals"]["errors"] == 0
    assert snap["totals"]["peak_rps"] == 0
    assert snap["totals"]["worst_ttfb_ms"] == 0.0
    assert snap["endpoints"]["chat"]["status_codes"] == {}
    assert snap["totals"]["active_connections"] == 1
    assert snap["totals"]["active_streams"] == 1
    assert metrics.latency("chat")["count"] == 0  # type: ignore[index]
    assert metrics.detailed()["series"]["total"]["requests"] == [0]
    metrics.finished("chat", status=200, stream=True, total_s=30.0)
    assert metrics.snapshot()["totals"]["active_connections"] == 0


def test_csv_parses_with_the_right_columns(metrics: Metrics, clock: FakeClock) -> None:
    one(metrics, "chat", out=4)
    one(metrics, "embed")
    clock.now += 2.0
    one(metrics, "chat", status=429)
    rows = list(csv.reader(io.StringIO(metrics.csv())))
    assert rows[0] == list(CSV_HEADER)
    assert rows[0][:3] == ["second", "timestamp", "endpoint"]
    assert rows[0][3:] == [*COLUMNS, *ORIGINAL_COLUMNS]
    body = rows[1:]
    assert len(body) == 3 * 3  # seconds 0..2, endpoints chat, embed and the total
    by_key = {(r[0], r[2]): dict(zip(rows[0], r, strict=True)) for r in body}
    assert by_key[("0", "chat")]["requests"] == "1"
    assert by_key[("0", "chat")]["output_tokens"] == "4"
    assert by_key[("0", "*")]["requests"] == "2"
    assert by_key[("1", "*")]["requests"] == "0"
    assert by_key[("2", "chat")]["errors"] == "1"
    assert by_key[("2", "chat")]["timestamp"] == "2026-01-01T00:00:02.000Z"
    assert float(by_key[("0", "*")]["ttfb_mean_ms"]) == 50.0
    # The original server's columns repeat ours under its names.
    assert by_key[("2", "chat")]["requestsFailed"] == "1" and by_key[("0", "*")]["requestsStarted"] == "2"


def test_detailed_is_json_ready(metrics: Metrics, clock: FakeClock) -> None:
    for k in range(50):
        clock.now += 0.3
        one(metrics, f"ep{k % 3}", stream=k % 2 == 0, out=k)
        metrics.fault(f"ep{k % 3}", "disconnect")
    metrics.finished("ep0", status=200, stream=False, total_s=float("nan"))
    detailed = json.loads(json.dumps(detailed_ := metrics.detailed(), allow_nan=False))
    assert detailed == detailed_
    assert {"uptime_s", "started_at", "totals", "endpoints", "histograms", "series"} <= set(detailed)
    hist = detailed["histograms"]["endpoints"]["ep1"]["ttfb"]
    assert hist["count"] == sum(n for _, n in hist["buckets"])
    assert detailed["histograms"]["unit"] == "ms"
    assert len(detailed["series"]["timestamps"]) == len(detailed["series"]["seconds"])


def test_endpoint_status_and_fault_names_are_bounded(metrics: Metrics) -> None:
    for k in range(200):
        one(metrics, f"route{k}", status=200 + k)
        metrics.fault("route0", f"kind{k}")
    snap = metrics.snapshot()
    assert len(snap["endpoints"]) == MAX_ENDPOINTS
    assert snap["endpoints"]["other"]["requests"] == 200 - (MAX_ENDPOINTS - 1)
    assert snap["totals"]["requests"] == 200
    assert len(snap["endpoints"]["other"]["status_codes"]) <= 32
    assert sum(snap["endpoints"]["other"]["status_codes"].values()) == 200 - (MAX_ENDPOINTS - 1)
    assert len(snap["endpoints"]["route0"]["faults"]) == 16
    assert snap["endpoints"]["route0"]["faults"]["other"] == 200 - 15
    metrics.started("x" * 10_000, stream=False)
    assert snap["totals"]["errors"] == 0  # statuses 200..399 only
    assert metrics.snapshot()["endpoints"]["other"]["active_connections"] == 1


def test_clock_stepping_back_does_not_corrupt_the_series(metrics: Metrics, clock: FakeClock) -> None:
    clock.now += 5.0
    one(metrics)
    clock.now -= 100.0
    one(metrics)
    series = metrics.detailed()["series"]
    assert series["total"]["requests"][-1] == 2
    assert sum(series["total"]["requests"]) == 2


def test_window_is_validated() -> None:
    with pytest.raises(ValueError):
        Metrics(window_s=0)


def test_default_clocks_work() -> None:
    m = Metrics()
    one(m)
    snap = m.snapshot()
    assert snap["totals"]["requests"] == 1
    assert snap["started_at"].endswith("Z")
    assert 0.0 <= snap["uptime_s"] < 60.0
