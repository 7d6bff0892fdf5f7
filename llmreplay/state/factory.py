"""The state backend that ``--state`` names."""

from __future__ import annotations

import random

from llmreplay.config import Settings
from llmreplay.errors import ConfigError
from llmreplay.state.base import State
from llmreplay.state.memory import MemoryState
from llmreplay.urls import redacted

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class StateConfigError(ConfigError, ValueError):
    """``--state`` cannot be used: the CLI prints the message as one line."""


def make_state(settings: Settings) -> State:
    """In this process without ``--state``; on Redis for redis://, rediss:// and unix:// URLs."""
    url = settings.server.state
    seed = settings.synthetic.seed
    if not url:
        return MemoryState(rng=random.Random(seed))
    if url.startswith(_REDIS_SCHEMES):
        from llmreplay.state.redis import RedisState

        return RedisState(url, on_error=settings.server.state_on_error, rng=random.Random(seed))
    raise StateConfigError(
        f"--state {redacted(url)!r} is not supported: use redis://host:port/db, rediss://… or unix://…"
    )
