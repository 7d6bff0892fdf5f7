"""The contract every rate-limit strategy follows.

A limiter is asked ``acquire(now, cost)`` once per request (cost 1 for request
limits, the token count for token limits) and answers with a :class:`Decision`
that carries what the provider's rate-limit headers report. Limiters keep only
O(limit) state, never read a clock themselves, and never sleep.
"""

from __future__ import annotations

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
