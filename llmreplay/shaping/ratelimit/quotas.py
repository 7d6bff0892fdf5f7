"""The quota table: one request limiter (and token limiter) per endpoint and, when asked, per API key.

Limiters are built from the endpoint's live rate-limit configuration and rebuilt
(fresh) when that configuration changes. Keys are bounded: the least recently
used key's quota is dropped first, so memory stays flat under any key churn.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from llmreplay.configmodels import RateLimitConfig
from llmreplay.model import Quota, QuotaState
from llmreplay.shaping.ratelimit.base import Decision, Limiter
from llmreplay.shaping.ratelimit.buckets import TokenBucket
from llmreplay.shaping.ratelimit.strategies import Params, build

MAX_KEYS = 10_000


def params_of(cfg: RateLimitConfig) -> Params:
    """What a strategy reads from an endpoint's live rate-limit configuration."""
    return Params(limit=cfg.requests, window=cfg.window_ms / 1000, after_n=cfg.after_n, probability=cfg.probability)


@dataclass
class _Pair:
    requests: Limiter
    tokens: TokenBucket | None


@dataclass(frozen=True, slots=True)
class Admission:
    allowed: bool
    quota: Quota
    reason: str = ""
    """``requests`` or ``tokens`` when denied."""


class Quotas:
    """Limiters by endpoint and key, built from the live configuration."""

    def __init__(self, clock: Callable[[], float], rng: random.Random | None = None) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self._tables: dict[str, tuple[RateLimitConfig, OrderedDict[str, _Pair]]] = {}

    def _pair(self, endpoint: str, key: str, cfg: RateLimitConfig) -> _Pair:
        table = self._tables.get(endpoint)
        if table is None or table[0] != cfg:
            table = (cfg, OrderedDict())
            self._tables[endpoint] = table
        pairs = table[1]
        pair = pairs.get(key)
        if pair is None:
            tpm = cfg.tokens_per_minute
            pair = _Pair(build(cfg.strategy, params_of(cfg), self._rng), TokenBucket(tpm, tpm / 60) if tpm else None)
            pairs[key] = pair
            if len(pairs) > MAX_KEYS:
                pairs.popitem(last=False)
        else:
            pairs.move_to_end(key)
        return pair

    def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        """Take one request (and ``tokens`` prompt tokens) from the quota, or deny."""
        pair = self._pair(endpoint, key, cfg)
        now = self._clock()
        req = pair.requests.acquire(now, 1)
        if not req.allowed:
            tok = pair.tokens.peek(now) if pair.tokens is not None else None
            return Admission(False, _quota(req, tok, req.retry_after), "requests")
        tok = pair.tokens.acquire(now, tokens) if pair.tokens is not None else None
        if tok is not None and not tok.allowed:
            return Admission(False, _quota(req, tok, tok.retry_after), "tokens")
        return Admission(True, _quota(req, tok, None))

    def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        """Count completion tokens against the token quota once they are known."""
        if cfg.tokens_per_minute:
            self._pair(endpoint, key, cfg).tokens.charge(self._clock(), tokens)  # type: ignore[union-attr]

    def reset(self, endpoint: str | None = None) -> None:
        if endpoint is None:
            self._tables.clear()
        else:
            self._tables.pop(endpoint, None)


def _state(d: Decision | None) -> QuotaState | None:
    return None if d is None else QuotaState(d.limit, d.remaining, d.reset_after)


def _quota(req: Decision, tok: Decision | None, retry: float | None) -> Quota:
    return Quota(requests=_state(req), tokens=_state(tok), retry_after=retry)
