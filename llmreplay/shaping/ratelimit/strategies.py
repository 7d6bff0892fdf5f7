"""The strategies by name, listed explicitly, and how to build one from its parameters."""

from __future__ import annotations

import random
from dataclasses import dataclass

from llmreplay.shaping.ratelimit.base import Limiter
from llmreplay.shaping.ratelimit.buckets import LeakyBucket, TokenBucket
from llmreplay.shaping.ratelimit.simple import AfterN, Always, RandomDeny, Unlimited
from llmreplay.shaping.ratelimit.windows import FixedWindow, SlidingWindow


@dataclass(frozen=True, slots=True)
class Params:
    """What a strategy may use: ``limit`` units per ``window`` seconds, ``after_n``, ``probability``."""

    limit: int = 10
    window: float = 60.0
    after_n: int = 5
    probability: float = 0.3


DESCRIPTIONS: dict[str, str] = {
    "none": "Rate limiting disabled.",
    "fixed-window": "Classic fixed time window counter: `limit` requests per window.",
    "sliding-window": "Rolling window: at most `limit` requests in any window-long interval.",
    "token-bucket": "Allows bursts up to `limit`, refilled at limit/window per second.",
    "leaky-bucket": "Processes requests at a fixed rate of limit/window per second; holds at most `limit`.",
    "after-n": "First N requests succeed, then all return 429 (good for testing retry logic).",
    "random": "Each request has a configurable probability of 429.",
    "always": "Every request returns 429.",
}


def build(name: str, p: Params, rng: random.Random | None = None) -> Limiter:
    """A fresh limiter of strategy ``name``; raises KeyError for an unknown name."""
    rate = p.limit / p.window
    match name:
        case "none":
            return Unlimited(p.limit)
        case "fixed-window":
            return FixedWindow(p.limit, p.window)
        case "sliding-window":
            return SlidingWindow(p.limit, p.window)
        case "token-bucket":
            return TokenBucket(p.limit, rate)
        case "leaky-bucket":
            return LeakyBucket(p.limit, rate)
        case "after-n":
            return AfterN(p.after_n, p.window)
        case "random":
            return RandomDeny(p.probability, rng or random.Random(), p.limit, 1.0)
        case "always":
            return Always(p.limit, p.window)
    raise KeyError(f"unknown rate-limit strategy {name!r}; use one of {', '.join(DESCRIPTIONS)}")
