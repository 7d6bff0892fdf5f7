"""A fixed-size log-scale histogram: constant memory, O(1) record, ~1% relative error.

Every histogram shares one bucket layout (:data:`LAYOUT`). Bucket 0 holds values
below :data:`LOWEST`; bucket ``i >= 1`` holds ``[LOWEST * g**(i-1), LOWEST * g**i)``
with ``g = GROWTH``; the last bucket also takes everything above :data:`HIGHEST`.
A percentile is read from the bucket counts and reported as the bucket's
geometric midpoint, clamped to the exact minimum and maximum seen, so its
relative error is at most ``sqrt(g) - 1`` (about 1% for ``g = 1.02``).

Values are recorded in seconds; summaries scale them (milliseconds for the API).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

LOWEST = 1e-5
"""0.01 ms: anything faster is reported as this bucket."""
HIGHEST = 600.0
"""10 minutes: anything slower lands in the last bucket (its max stays exact)."""
GROWTH = 1.02

QUANTILES: tuple[float, ...] = (0.50, 0.90, 0.95, 0.99)
QUANTILE_NAMES: tuple[str, ...] = ("p50", "p90", "p95", "p99")


class _Layout:
    """Bucket boundaries, computed once and shared by every histogram."""

    def __init__(self, lowest: float, highest: float, growth: float) -> None:
        self.lowest = lowest
        self.growth = growth
        self.inv_log_growth = 1.0 / math.log(growth)
        self.size = math.ceil(math.log(highest / lowest) * self.inv_log_growth) + 2
        self.last = self.size - 1
        self.uppers = array("d", [lowest * growth**i for i in range(self.size)])
        mids = [lowest / 2] + [lowest * growth ** (i - 0.5) for i in range(1, self.size)]
        # The overflow bucket has no useful midpoint: report the exact max instead.
        mids[-1] = math.inf
        self.mids = array("d", mids)

    def index(self, value: float) -> int:
        """The bucket of ``value`` (seconds); NaN and negatives go to bucket 0."""
        if not value >= self.lowest:  # also catches NaN
            return 0
        i = int(math.log(value / self.lowest) * self.inv_log_growth) + 1
        return i if i < self.last else self.last


LAYOUT = _Layout(LOWEST, HIGHEST, GROWTH)


class LogHistogram:
    """Counts per fixed bucket plus exact count, sum, min and max."""

    __slots__ = ("_counts", "_hi", "_lo", "max", "min", "total")

    def __init__(self) -> None:
        self._counts = array("q", bytes(8 * LAYOUT.size))
        self._clear()

    def _clear(self) -> None:
        self.total = 0.0
        self.min = math.inf
        self.max = 0.0
        # The range of buckets in use, so reads and resets walk only that range.
        self._lo = LAYOUT.last
        self._hi = 0

    def reset(self) -> None:
        counts = self._counts
        for i in range(self._lo, self._hi + 1):
            counts[i] = 0
        self._clear()

    def record(self, value: float) -> None:
        self.add(LAYOUT.index(value), value)

    def add(self, index: int, value: float) -> None:
        """Record ``value`` whose bucket the caller already knows (it is shared by several histograms)."""
        self._counts[index] += 1
        if not value > 0.0:  # negatives and NaN must not poison sum, min and max
            value = 0.0
        self.total += value
        if value > self.max:
            self.max = value
        if value < self.min:
            self.min = value
        if index < self._lo:
            self._lo = index
        if index > self._hi:
            self._hi = index

    @property
    def count(self) -> int:
        """Values recorded, summed from the buckets when read, to keep one increment off the hot path."""
        return sum(self._counts[self._lo : self._hi + 1]) if self._hi >= self._lo else 0

    def merge(self, other: LogHistogram) -> None:
        """Add ``other``'s counts to this one (totals are merged at read time, not kept on the hot path)."""
        if other._hi < other._lo:
            return
        counts, theirs = self._counts, other._counts
        for i in range(other._lo, other._hi + 1):
            counts[i] += theirs[i]
        self.total += other.total
        self.max = max(self.max, other.max)
        self.min = min(self.min, other.min)
        self._lo = min(self._lo, other._lo)
        self._hi = max(self._hi, other._hi)

    def percentiles(self, quantiles: Sequence[float] = QUANTILES) -> list[float]:
        """Values (seconds) at the given ascending quantiles, by nearest rank; zeros when empty."""
        count = self.count
        if not count:
            return [0.0] * len(quantiles)
        ranks = [max(1, math.ceil(q * count)) for q in quantiles]
        out: list[float] = []
        counts, mids = self._counts, LAYOUT.mids
        seen = 0
        k = 0
        for i in range(self._lo, self._hi + 1):
            seen += counts[i]
            while k < len(ranks) and seen >= ranks[k]:
                # The last rank is the max, known exactly.
                out.append(self.max if ranks[k] >= count else min(max(mids[i], self.min), self.max))
                k += 1
            if k == len(ranks):
                break
        while len(out) < len(quantiles):  # unreachable unless ranks exceed count; be safe
            out.append(self.max)
        return out

    def summary(self, scale: float = 1000.0, *, extremes: bool = True) -> dict[str, float]:
        """``{p50, p90, p95, p99[, max, mean]}`` in seconds times ``scale`` (milliseconds by default)."""
        values = self.percentiles()
        out = {name: round(v * scale, 4) for name, v in zip(QUANTILE_NAMES, values, strict=True)}
        if extremes:
            out["max"] = round(self.max * scale, 4)
            count = self.count
            out["mean"] = round(self.total / count * scale, 4) if count else 0.0
        return out

    def buckets(self, scale: float = 1000.0) -> list[list[float]]:
        """Non-empty buckets as ``[upper bound, count]`` pairs, ascending, bounds times ``scale``."""
        counts, uppers = self._counts, LAYOUT.uppers
        out: list[list[float]] = []
        for i in range(self._lo, self._hi + 1):
            if counts[i]:
                upper = uppers[i] if i < LAYOUT.last else max(uppers[i], self.max)
                out.append([round(upper * scale, 6), counts[i]])
        return out

    def export(self, scale: float = 1000.0) -> dict[str, Any]:
        return {"count": self.count, **self.summary(scale), "buckets": self.buckets(scale)}
