"""A per-second time series in a ring buffer: ``window`` slots, recycled as time moves on.

Slot ``s % window`` holds second ``s`` (counted from the metrics' start) only
while its stamp says ``s``; a slot whose stamp is older is stale and is zeroed
the first time a newer second writes to it. Reads therefore see zeros for
seconds without traffic, however long ago the slot was last written.

The active-streams level is a gauge, not a count: a second without any event
keeps the level it started with. Each slot keeps the level it opened with, and
reads carry it backwards over the silent seconds in between (see :meth:`Series.read`).
"""

from __future__ import annotations

from array import array
from typing import Any

COLUMNS: tuple[str, ...] = (
    "requests",
    "errors",
    "rate_limited",
    "faults",
    "output_tokens",
    "max_active_streams",
    "ttfb_count",
    "ttfb_mean_ms",
)
"""The columns :meth:`Series.read` returns, in this order (also the CSV columns)."""


def _zeros(code: str, n: int) -> array[Any]:
    return array(code, bytes(array(code).itemsize * n))


class Series:
    """Per-second counters for one endpoint (or the total) over the last ``window`` seconds."""

    __slots__ = (
        "_current",
        "_current_slot",
        "errors",
        "faults",
        "max_streams",
        "open_streams",
        "output_tokens",
        "rate_limited",
        "requests",
        "stamp",
        "ttfb_count",
        "ttfb_sum",
        "window",
    )

    def __init__(self, window: int) -> None:
        self.window = window
        self.stamp = array("q", [-1]) * window
        self.requests = _zeros("q", window)
        self.errors = _zeros("q", window)
        self.rate_limited = _zeros("q", window)
        self.faults = _zeros("q", window)
        self.output_tokens = _zeros("q", window)
        self.max_streams = _zeros("q", window)
        self.open_streams = _zeros("q", window)
        self.ttfb_count = _zeros("q", window)
        self.ttfb_sum = _zeros("d", window)
        # The second written last and its slot: most writes hit it, and comparing Python ints allocates nothing.
        self._current = -1
        self._current_slot = 0

    def reset(self) -> None:
        stamp = self.stamp
        for i in range(self.window):
            stamp[i] = -1
        self._current = -1

    def slot(self, second: int, streams: int) -> int:
        """The slot of ``second``, recycled first if it still holds an older second.

        Seconds must not decrease from one call to the next (the store clamps its clock).

        ``streams`` is the active-streams level *before* the event being recorded,
        i.e. the level this second opened with if it is the first event in it.
        """
        if second == self._current:
            return self._current_slot
        i = second % self.window
        self._current = second
        self._current_slot = i
        if self.stamp[i] != second:
            self.stamp[i] = second
            self.requests[i] = 0
            self.errors[i] = 0
            self.rate_limited[i] = 0
            self.faults[i] = 0
            self.output_tokens[i] = 0
            self.max_streams[i] = streams
            self.open_streams[i] = streams
            self.ttfb_count[i] = 0
            self.ttfb_sum[i] = 0.0
        return i

    def get(self, second: int, column: str) -> int:
        """One integer column at ``second``; zero when that second is stale or had no traffic."""
        i = second % self.window
        if second < 0 or self.stamp[i] != second:
            return 0
        values: array[int] = getattr(self, column)
        return int(values[i])

    def read(self, first: int, last: int, streams_now: int) -> dict[str, list[float]]:
        """Columns (:data:`COLUMNS`) for seconds ``first..last`` inclusive, oldest first.

        ``last - first`` must be below the window. ``streams_now`` is the current
        active-streams level: the level of every silent second after the last write.
        """
        n = last - first + 1
        out: dict[str, list[float]] = {name: [0] * n for name in COLUMNS}
        out["ttfb_mean_ms"] = [0.0] * n
        streams = out["max_active_streams"]
        # Walk backwards so a silent second inherits the level the next written second opened with.
        level = streams_now
        for k in range(n - 1, -1, -1):
            second = first + k
            i = second % self.window
            if self.stamp[i] != second:
                streams[k] = level
                continue
            out["requests"][k] = self.requests[i]
            out["errors"][k] = self.errors[i]
            out["rate_limited"][k] = self.rate_limited[i]
            out["faults"][k] = self.faults[i]
            out["output_tokens"][k] = self.output_tokens[i]
            streams[k] = self.max_streams[i]
            level = self.open_streams[i]
            count = self.ttfb_count[i]
            out["ttfb_count"][k] = count
            if count:
                out["ttfb_mean_ms"][k] = round(self.ttfb_sum[i] / count * 1000.0, 4)
        return out
