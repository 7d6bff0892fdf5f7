"""How late stream frames left against their deadlines: the scheduler's own account of its timing.

The scheduler counts every write into these buckets as it makes it (a bisect and two additions per
write, no allocation); the counts are taken in bulk, once a second and at each scrape, into the
``llmreplay_frame_lateness_seconds`` histogram. A write is late from its deadline (the exchange's start,
when the server read the request, plus the frame's offset) to the moment it is made, on the writer's clock.
"""

from __future__ import annotations

BOUNDS_S = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
"""Upper bounds of the buckets (seconds); a last one holds everything later."""


class Lateness:
    """Counts per bucket (``counts[i]``: writes late by at most ``BOUNDS_S[i]``, and above the bound before)."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BOUNDS_S) + 1)
        self.sum = 0.0

    def take(self) -> tuple[list[int], float]:
        """The counts and the sum of lateness since the last take; both start again from zero."""
        counts, total = self.counts, self.sum
        self.counts = [0] * (len(BOUNDS_S) + 1)
        self.sum = 0.0
        return counts, total

    def add(self, other: tuple[list[int], float]) -> None:
        counts, total = other
        for i, n in enumerate(counts):
            self.counts[i] += n
        self.sum += total
