"""Window strategies: fixed-window and sliding-window counters (each limiter beside its Lua twin)."""

from __future__ import annotations

import collections
import math

from llmreplay.shaping.ratelimit.base import Decision, Strategy


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


FIXED_WINDOW = Strategy(
    "fixed-window",
    "Classic fixed time window counter: `limit` requests per window.",
    ("requests", "window_ms"),
    lambda p, rng: FixedWindow(p.limit, p.window),
    """
-- The grid stays aligned to the first request; after an idle hour (or two windows) it starts afresh.
local function acquire()
  local key = KEYS[1]
  local v = redis.call('HMGET', key, 'start', 'used')
  local start, used = tonumber(v[1]), tonumber(v[2]) or 0
  if start == nil then
    start = now
  elseif now >= start + window then
    start = start + math.floor((now - start) / window) * window
    used = 0
  end
  local reset_after = start + window - now
  local allowed, retry = 0, reset_after
  if used + 1 <= limit then
    used = used + 1
    allowed, retry = 1, 0
  end
  redis.call('HSET', key, 'start', fmt(start), 'used', used)
  expire(key, math.max(2 * window, 3600))
  return {allowed, limit, limit - used, reset_after, retry}
end
""",
)

SLIDING_WINDOW = Strategy(
    "sliding-window",
    "Rolling window: at most `limit` requests in any window-long interval.",
    ("requests", "window_ms"),
    lambda p, rng: SlidingWindow(p.limit, p.window),
    """
-- An exact log of admitted requests (at most `limit` entries), oldest first.
local function acquire()
  local key = KEYS[1]
  while true do
    local first = redis.call('LINDEX', key, 0)
    if first and tonumber(first) + window <= now then redis.call('LPOP', key) else break end
  end
  local used = redis.call('LLEN', key)
  if used + 1 <= limit then
    redis.call('RPUSH', key, fmt(now))
    expire(key, window)
    return {1, limit, limit - used - 1, window, 0}
  end
  local need = used + 1 - limit
  local retry = tonumber(redis.call('LINDEX', key, need - 1)) + window - now
  local last = tonumber(redis.call('LINDEX', key, -1))
  return {0, limit, limit - used, last + window - now, retry}
end
""",
)
