"""What the shared state's rate limits answer: a script's reply, or a stateless strategy decided in-process.

Kept apart from :mod:`llmreplay.state.redis_limits` (which makes the calls) so that the rate-limit side
reads as the in-memory one does: a strategy, a decision, an admission.
"""

from __future__ import annotations

import random
from typing import Any

from llmreplay.configmodels import RateLimitConfig
from llmreplay.model import Quota, QuotaState
from llmreplay.shaping.ratelimit.base import Decision, Strategy
from llmreplay.shaping.ratelimit.quotas import Admission, params_of


class _Drawn(random.Random):
    """A generator whose every draw is ``value``: the draw already made for this request."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


# Below any probability (denied), or at the top of the range (admitted): the same two for every request.
_DRAWN = {True: _Drawn(0.0), False: _Drawn(1.0)}


def local(strategy: Strategy, cfg: RateLimitConfig, denied: bool) -> Admission:
    """A stateless strategy without a token limit, decided by its own in-memory limiter (no round trip); the
    random draw is the one already made, so a denial is decided once."""
    d = strategy.build(params_of(cfg), _DRAWN[denied]).acquire(0.0)
    if d.allowed:
        return Admission(True, _quota(d, None, None))
    return Admission(False, _quota(d, None, d.retry_after), "requests")


def _decision(part: list[Any]) -> Decision:
    allowed, limit, remaining, reset_after, retry_after = part
    return Decision(bool(int(allowed)), int(limit), int(remaining), float(reset_after), float(retry_after))


def from_reply(reply: list[Any]) -> Admission:
    """An admit script's reply (``redis_scripts``: five values for requests, five more for tokens)."""
    req = _decision(reply[:5])
    tok = _decision(reply[5:10]) if len(reply) >= 10 else None
    if not req.allowed:
        return Admission(False, _quota(req, tok, req.retry_after), "requests")
    if tok is not None and not tok.allowed:
        return Admission(False, _quota(req, tok, tok.retry_after), "tokens")
    return Admission(True, _quota(req, tok, None))


def _state(d: Decision | None) -> QuotaState | None:
    return None if d is None else QuotaState(d.limit, d.remaining, d.reset_after)


def _quota(req: Decision, tok: Decision | None, retry: float | None) -> Quota:
    return Quota(requests=_state(req), tokens=_state(tok), retry_after=retry)
