"""Strategies that ignore time: none, always, after-n and random."""

from __future__ import annotations

import random

from llmreplay.shaping.ratelimit.base import Decision


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
