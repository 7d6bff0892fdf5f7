"""The contract every rate-limit strategy follows.

A limiter is asked ``acquire(now, cost)`` once per request (cost 1 for request
limits, the token count for token limits) and answers with a :class:`Decision`
that carries what the provider's rate-limit headers report. Limiters keep only
O(limit) state, never read a clock themselves, and never sleep.

A :class:`Strategy` declares one algorithm once: its name, description and
parameters, how to build its in-memory limiter, and its Lua twin for Redis. Each
is declared next to its limiter class; ``strategies.py`` lists them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one acquire."""

    allowed: bool
    limit: int
    """The quota (``x-ratelimit-limit-*``)."""
    remaining: int
    """What is left after this request (``x-ratelimit-remaining-*``)."""
    reset_after: float
    """Seconds until the quota is whole again (``x-ratelimit-reset-*``)."""
    retry_after: float = 0.0
    """When denied: seconds until a request like this one would be admitted."""


class Limiter(Protocol):
    """One quota, e.g. requests per window for one endpoint and key."""

    def acquire(self, now: float, cost: int = 1) -> Decision: ...

    def reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Params:
    """What a strategy may use: ``limit`` units per ``window`` seconds, ``after_n``, ``probability``."""

    limit: int = 10
    window: float = 60.0
    after_n: int = 5
    probability: float = 0.3


@dataclass(frozen=True, slots=True)
class Strategy:
    """One rate-limit algorithm, in memory and in Redis, declared once."""

    name: str
    """Its name in the configuration and ``GET /api/rate-limit/strategies``."""
    description: str
    parameters: tuple[str, ...]
    """The live rate-limit fields it reads (``requests``, ``window_ms``, ``after_n``, ``probability``)."""
    build: Callable[[Params, random.Random], Limiter]
    """A fresh in-memory limiter."""
    lua: str
    """Its Redis twin: Lua defining ``acquire()`` over the variables of ``state/redis_scripts.py``'s prelude,
    step for step the same decisions as the in-memory limiter."""
    stateless: bool = False
    """Keeps no state between requests: without a token limit the shared state decides it in-process."""
    draws: bool = False
    """Decides by a random draw per request (passed to the script, so every replica uses one generator's)."""
