"""The log-scale histogram: percentiles within 2% of the exact ones, bounded layout, odd values."""

from __future__ import annotations

import math
import random

import pytest

from llmreplay.metrics.histogram import HIGHEST, LAYOUT, LOWEST, QUANTILES, LogHistogram


def exact(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile, the definition the histogram approximates."""
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def test_layout_is_small_and_covers_the_range() -> None:
    assert LAYOUT.size < 1000
    assert LAYOUT.uppers[0] == LOWEST
    assert LAYOUT.uppers[LAYOUT.last] >= HIGHEST
    assert LAYOUT.index(LOWEST / 10) == 0
    assert LAYOUT.index(HIGHEST * 10) == LAYOUT.last
    for v in (1e-5, 3.3e-4, 0.02, 1.0, 59.9, 599.0):
        i = LAYOUT.index(v)
        assert LAYOUT.uppers[i - 1] <= v < LAYOUT.uppers[i] * (1 + 1e-12)


@pytest.mark.parametrize("sigma", [0.5, 1.5])
def test_percentiles_within_two_percent_of_exact_lognormal(sigma: float) -> None:
    rng = random.Random(1234)
    values = [rng.lognormvariate(math.log(0.2), sigma) for _ in range(10_000)]
    hist = LogHistogram()
    for v in values:
        hist.record(v)
    ordered = sorted(values)
    for q, got in zip(QUANTILES, hist.percentiles(), strict=True):
        want = exact(ordered, q)
        assert abs(got - want) / want < 0.02, (q, got, want)
    assert hist.count == 10_000
    assert hist.max == ordered[-1]
    assert hist.min == ordered[0]
    assert hist.total == pytest.approx(sum(values))


def test_summary_in_milliseconds_and_empty_reads_zero() -> None:
    hist = LogHistogram()
    assert hist.summary() == {"p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    for v in (0.010, 0.020, 0.030, 0.040):
        hist.record(v)
    s = hist.summary()
    assert s["max"] == 40.0
    assert s["mean"] == pytest.approx(25.0)
    assert s["p50"] == pytest.approx(20.0, rel=0.01)
    assert s["p99"] == 40.0
    assert sum(count for _, count in hist.buckets()) == 4


def test_out_of_range_and_invalid_values_are_contained() -> None:
    hist = LogHistogram()
    for v in (0.0, -1.0, float("nan"), 1e-9, 3600.0):
        hist.record(v)
    assert hist.count == 5
    assert hist.max == 3600.0
    assert not math.isnan(hist.total)
    # The overflow bucket reports the exact max rather than an invented midpoint.
    assert hist.percentiles([1.0]) == [3600.0]
    assert hist.buckets()[-1] == [3_600_000.0, 1]


def test_reset_empties() -> None:
    hist = LogHistogram()
    for v in (0.1, 0.2, 5.0):
        hist.record(v)
    hist.reset()
    assert hist.count == 0
    assert hist.buckets() == []
    hist.record(0.3)
    assert hist.percentiles([0.5])[0] == 0.3


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(99)
    parts = [LogHistogram() for _ in range(3)]
    whole, merged = LogHistogram(), LogHistogram()
    for k in range(3000):
        v = rng.expovariate(5.0)
        parts[k % 3].record(v)
        whole.record(v)
    for part in parts:
        merged.merge(part)
    merged.merge(LogHistogram())
    assert merged.summary() == whole.summary()
    assert merged.buckets() == whole.buckets()
