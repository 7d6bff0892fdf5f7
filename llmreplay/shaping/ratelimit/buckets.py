"""Bucket strategies: token bucket (bursts up to capacity) and leaky bucket (a steady drain), each limiter
beside its Lua twin. The token bucket's Lua is the prelude's ``bucket_acquire``, which token limits use too."""

from __future__ import annotations

from llmreplay.shaping.ratelimit.base import Decision, Strategy


class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled at ``rate`` per second; a request takes ``cost``."""

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.reset()

    def reset(self) -> None:
        self._tokens = float(self.capacity)
        self._at: float | None = None

    def acquire(self, now: float, cost: int = 1) -> Decision:
        if self._at is not None and now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now if self._at is None else max(self._at, now)
        if self._tokens + 1e-9 >= cost:
            self._tokens = max(0.0, self._tokens - cost)
            return Decision(True, self.capacity, max(0, int(self._tokens + 1e-9)), self._full_after())
        retry = (cost - self._tokens) / self.rate if self.rate > 0 else float("inf")
        return Decision(False, self.capacity, max(0, int(self._tokens + 1e-9)), self._full_after(), retry_after=retry)

    def peek(self, now: float) -> Decision:
        """The bucket's state without taking anything."""
        tokens = self._tokens
        if self._at is not None and now > self._at:
            tokens = min(self.capacity, tokens + (now - self._at) * self.rate)
        return Decision(True, self.capacity, max(0, int(tokens + 1e-9)), self._full_after())

    def charge(self, now: float, cost: int) -> None:
        """Take ``cost`` after the fact, going into debt if need be (completion tokens)."""
        if self._at is not None and now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now
        self._tokens -= cost

    def _full_after(self) -> float:
        return (self.capacity - self._tokens) / self.rate if self.rate > 0 else 0.0


class LeakyBucket:
    """A meter that drains at ``rate`` units per second and holds at most ``capacity``.

    A request adds ``cost``; it is admitted only if the bucket does not overflow, so
    the admitted rate can never exceed ``rate`` for long (unlike a token bucket,
    bursts are limited to what the bucket holds, then traffic is smoothed).
    """

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.reset()

    def reset(self) -> None:
        self._level = 0.0
        self._at: float | None = None

    def acquire(self, now: float, cost: int = 1) -> Decision:
        if self._at is not None and now > self._at:
            self._level = max(0.0, self._level - (now - self._at) * self.rate)
        self._at = now if self._at is None else max(self._at, now)
        if self._level + cost <= self.capacity + 1e-9:
            self._level += cost
            return Decision(True, self.capacity, self._remaining(), self._empty_after())
        retry = (self._level + cost - self.capacity) / self.rate if self.rate > 0 else float("inf")
        return Decision(False, self.capacity, self._remaining(), self._empty_after(), retry_after=retry)

    def _remaining(self) -> int:
        return max(0, int(self.capacity - self._level + 1e-9))

    def _empty_after(self) -> float:
        return self._level / self.rate if self.rate > 0 else 0.0


TOKEN_BUCKET = Strategy(
    "token-bucket",
    "Allows bursts up to `limit`, refilled at limit/window per second.",
    ("requests", "window_ms"),
    lambda p, rng: TokenBucket(p.limit, p.limit / p.window),
    """
local function acquire() return bucket_acquire(KEYS[1], limit, limit / window, 1) end
""",
)

LEAKY_BUCKET = Strategy(
    "leaky-bucket",
    "Processes requests at a fixed rate of limit/window per second; holds at most `limit`.",
    ("requests", "window_ms"),
    lambda p, rng: LeakyBucket(p.limit, p.limit / p.window),
    """
local function acquire()
  local key = KEYS[1]
  local capacity, rate = limit, limit / window
  local v = redis.call('HMGET', key, 'level', 'at')
  local level, at = tonumber(v[1]) or 0, tonumber(v[2])
  if at and now > at then level = math.max(0, level - (now - at) * rate) end
  if at == nil then at = now else at = math.max(at, now) end
  local allowed, retry = 0, 0
  if level + 1 <= capacity + 1e-9 then
    level = level + 1
    allowed = 1
  else
    retry = (level + 1 - capacity) / rate
  end
  redis.call('HSET', key, 'level', fmt(level), 'at', fmt(at))
  expire(key, level / rate)
  return {allowed, capacity, whole(capacity - level), level / rate, retry}
end
""",
)
