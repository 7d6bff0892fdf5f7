"""Rate limits shared through Redis: one Lua script per strategy, atomic and on Redis's clock.

Keys ``llmreplay:{prefix}:rl:{endpoint}:{config digest}:{api key}:req|tok`` expire once their state is the
same as fresh state; a changed limit configuration has a new digest, so fresh counters. Scripts are
:mod:`llmreplay.state.redis_scripts`; what their replies mean is :mod:`llmreplay.state.redis_admission`.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Callable
from typing import Any

from llmreplay.configmodels import RateLimitConfig
from llmreplay.model import Quota
from llmreplay.shaping.ratelimit.quotas import Admission
from llmreplay.shaping.ratelimit.strategies import STRATEGIES
from llmreplay.state import redis_admission as admission
from llmreplay.state import redis_scripts
from llmreplay.state.redis_link import RedisLink, Unavailable


class SharedLimits:
    """The quotas of every endpoint and key, kept in Redis."""

    def __init__(self, link: RedisLink, rng: random.Random, clock: Callable[[], float] | None) -> None:
        """``clock`` is for tests only: it replaces Redis's ``TIME`` so exact sequences can be replayed."""
        self._link, self._rng, self._clock = link, rng, clock
        self._admit = {name: link.redis.register_script(src) for name, src in redis_scripts.ADMIT.items()}
        self._charge = link.redis.register_script(redis_scripts.CHARGE)
        self._digests: dict[RateLimitConfig, str] = {}

    def _keys(self, endpoint: str, key: str, cfg: RateLimitConfig) -> list[str]:
        digest = self._digests.get(cfg)
        if digest is None:
            digest = hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()[:12]
            if len(self._digests) > 256:
                self._digests.clear()
            self._digests[cfg] = digest
        base = f"{self._link.ns}:rl:{endpoint}:{digest}:{key or '-'}"
        return [f"{base}:req", f"{base}:tok"]

    def _args(self, cfg: RateLimitConfig, tokens: int, draw: bool = False) -> list[Any]:
        now = "" if self._clock is None else repr(self._clock())
        window = cfg.window_ms / 1000
        return [now, cfg.requests, repr(window), cfg.after_n, tokens, cfg.tokens_per_minute or 0, int(draw)]

    async def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        strategy = STRATEGIES[cfg.strategy]
        draw = strategy.draws and self._rng.random() < cfg.probability
        if strategy.stateless and not cfg.tokens_per_minute:
            # Nothing to share: decided here, without a round trip.
            return admission.local(strategy, cfg, draw)
        script = self._admit[cfg.strategy]
        keys, args = self._keys(endpoint, key, cfg), self._args(cfg, tokens, draw)
        try:
            reply = await self._link.call(lambda: script(keys=keys, args=args))
        except Unavailable:
            if self._link.on_error == "open":
                return Admission(True, Quota())
            return Admission(False, Quota(), "state")
        return admission.from_reply(reply)

    async def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        if not cfg.tokens_per_minute:
            return
        keys, args = self._keys(endpoint, key, cfg), self._args(cfg, tokens)
        with contextlib.suppress(Unavailable):
            await self._link.call(lambda: self._charge(keys=keys, args=args))

    async def reset(self, endpoint: str | None = None) -> None:
        ns = self._link.ns
        await self._link.unlink(f"{ns}:rl:{endpoint}:*" if endpoint else f"{ns}:rl:*")
