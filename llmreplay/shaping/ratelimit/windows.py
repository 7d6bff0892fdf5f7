"""Window strategies: fixed-window and sliding-window counters."""

from __future__ import annotations

import collections
import math

from llmreplay.shaping.ratelimit.base import Decision


class FixedWindow:
    """At most ``limit`` units in each window ``[k·window, (k+1)·window)`` aligned to the first request."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.reset()

    def reset(self) -> None:
        self._start: float | None = None
        self._used = 0

    def acquire(self, now: float, cost: int = 1) -> Decision:
        if self._start is None:
            self._start = now
        elif now >= self._start + self.window:
            # Jump whole windows so the grid stays aligned however long the pause was.
            self._start += math.floor((now - self._start) / self.window) * self.window
            self._used = 0
        reset_after = self._start + self.window - now
        if self._used + cost <= self.limit:
            self._used += cost
            return Decision(True, self.limit, self.limit - self._used, reset_after)
        return Decision(False, self.limit, self.limit - self._used, reset_after, retry_after=reset_after)


class SlidingWindow:
    """At most ``limit`` units in any interval of length ``window`` ending now (an exact log)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.reset()

    def reset(self) -> None:
        self._log: collections.deque[tuple[float, int]] = collections.deque()
        self._used = 0

    def _expire(self, now: float) -> None:
        while self._log and self._log[0][0] + self.window <= now:
            _, c = self._log.popleft()
            self._used -= c

    def acquire(self, now: float, cost: int = 1) -> Decision:
        self._expire(now)
        if self._used + cost <= self.limit:
            self._log.append((now, cost))
            self._used += cost
            return Decision(True, self.limit, self.limit - self._used, self._whole_after(now))
        # Denied: wait until enough of the oldest entries leave the window.
        need, freed, retry = self._used + cost - self.limit, 0, 0.0
        for t, c in self._log:
            freed += c
            if freed >= need:
                retry = t + self.window - now
                break
        return Decision(False, self.limit, self.limit - self._used, self._whole_after(now), retry_after=retry)

    def _whole_after(self, now: float) -> float:
        return self._log[-1][0] + self.window - now if self._log else 0.0
