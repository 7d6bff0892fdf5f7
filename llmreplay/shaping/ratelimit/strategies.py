"""The strategies by name, listed explicitly, and how to build one from its parameters.

Each strategy is declared once, beside its limiter class and its Lua twin
(``simple.py``, ``windows.py``, ``buckets.py``); the admin API's list, the Redis
scripts and :func:`build` all come from :data:`STRATEGIES`.
"""

from __future__ import annotations

import random

from llmreplay.registries import by_name
from llmreplay.shaping.ratelimit.base import Limiter, Params, Strategy
from llmreplay.shaping.ratelimit.buckets import LEAKY_BUCKET, TOKEN_BUCKET
from llmreplay.shaping.ratelimit.simple import AFTER_N, ALWAYS, NONE, RANDOM
from llmreplay.shaping.ratelimit.windows import FIXED_WINDOW, SLIDING_WINDOW

BUILTIN: tuple[Strategy, ...] = (
    NONE,
    FIXED_WINDOW,
    SLIDING_WINDOW,
    TOKEN_BUCKET,
    LEAKY_BUCKET,
    AFTER_N,
    RANDOM,
    ALWAYS,
)


def index(strategies: tuple[Strategy, ...]) -> dict[str, Strategy]:
    """The strategies by name; a name given twice is a mistake caught at import."""
    return by_name(strategies, "rate-limit strategy")


STRATEGIES: dict[str, Strategy] = index(BUILTIN)
"""Every strategy by name, in the order ``GET /api/rate-limit/strategies`` lists them."""

DESCRIPTIONS: dict[str, str] = {s.name: s.description for s in BUILTIN}


def build(name: str, p: Params, rng: random.Random | None = None) -> Limiter:
    """A fresh limiter of strategy ``name``; raises KeyError for an unknown name."""
    found = STRATEGIES.get(name)
    if found is None:
        raise KeyError(f"unknown rate-limit strategy {name!r}; use one of {', '.join(STRATEGIES)}")
    return found.build(p, rng or random.Random())


__all__ = ["DESCRIPTIONS", "STRATEGIES", "Params", "Strategy", "build"]
