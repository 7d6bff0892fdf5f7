"""Strategies that ignore time: none, always, after-n and random (each limiter beside its Lua twin)."""

from __future__ import annotations

import random

from llmreplay.shaping.ratelimit.base import Decision, Strategy


class Unlimited:
    """``none``: every request passes."""

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit

    def reset(self) -> None:
        pass

    def acquire(self, now: float, cost: int = 1) -> Decision:
        return Decision(True, self.limit, self.limit, 0.0)


class Always:
    """``always``: every request is denied."""

    def __init__(self, limit: int, retry_after: float) -> None:
        self.limit, self.retry = limit, retry_after

    def reset(self) -> None:
        pass

    def acquire(self, now: float, cost: int = 1) -> Decision:
        return Decision(False, self.limit, 0, self.retry, retry_after=self.retry)


class AfterN:
    """``after-n``: the first ``n`` requests pass, then every one is denied until reset."""

    def __init__(self, n: int, retry_after: float) -> None:
        self.n, self.retry = n, retry_after
        self.reset()

    def reset(self) -> None:
        self._seen = 0

    def acquire(self, now: float, cost: int = 1) -> Decision:
        if self._seen + 1 <= self.n:
            self._seen += 1
            return Decision(True, self.n, self.n - self._seen, self.retry)
        return Decision(False, self.n, 0, self.retry, retry_after=self.retry)


class RandomDeny:
    """``random``: each request is denied with probability ``p`` (from an injected generator)."""

    def __init__(self, p: float, rng: random.Random, limit: int, retry_after: float) -> None:
        self.p, self.rng, self.limit, self.retry = p, rng, limit, retry_after

    def reset(self) -> None:
        pass

    def acquire(self, now: float, cost: int = 1) -> Decision:
        if self.rng.random() < self.p:
            return Decision(False, self.limit, 0, self.retry, retry_after=self.retry)
        return Decision(True, self.limit, self.limit, 0.0)


NONE = Strategy(
    "none",
    "Rate limiting disabled.",
    (),
    lambda p, rng: Unlimited(p.limit),
    """
local function acquire() return {1, limit, limit, 0, 0} end
""",
    stateless=True,
)

ALWAYS = Strategy(
    "always",
    "Every request returns 429.",
    (),
    lambda p, rng: Always(p.limit, p.window),
    """
local function acquire() return {0, limit, 0, window, window} end
""",
    stateless=True,
)

RANDOM = Strategy(
    "random",
    "Each request has a configurable probability of 429.",
    ("probability",),
    lambda p, rng: RandomDeny(p.probability, rng, p.limit, 1.0),
    """
local function acquire()
  if draw == '1' then return {0, limit, 0, 1, 1} end
  return {1, limit, limit, 0, 0}
end
""",
    stateless=True,
    draws=True,
)

AFTER_N = Strategy(
    "after-n",
    "First N requests succeed, then all return 429 (good for testing retry logic).",
    ("after_n",),
    lambda p, rng: AfterN(p.after_n, p.window),
    """
-- Denials last until a reset; an idle day forgets the count so memory stays bounded.
local function acquire()
  local key = KEYS[1]
  local seen = tonumber(redis.call('HGET', key, 'seen')) or 0
  local allowed = seen + 1 <= after_n
  if allowed then seen = seen + 1 end
  redis.call('HSET', key, 'seen', seen)
  redis.call('PEXPIRE', key, 86400000)
  if allowed then return {1, after_n, after_n - seen, window, 0} end
  return {0, after_n, 0, window, window}
end
""",
)
