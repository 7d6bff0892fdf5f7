"""The live configuration's fields, each declared once: default, bounds, description and environment name.

These models are at the same time the ``[latency]`` and ``[rate_limit]`` settings sections, the body of
``PATCH /api/config/global`` and what the shaper applies; so a value the server starts with is one it
accepts at run time, and the reverse. They sit outside :mod:`llmreplay.control` because the shaper,
the exchange and shared state read them too, and none of those may depend on the control plane;
:class:`~llmreplay.control.live.LiveConfig` holds the values in force.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmreplay.options import option
from llmreplay.shaping import outcomes

Strategy = Literal[
    "none", "fixed-window", "sliding-window", "token-bucket", "leaky-bucket", "after-n", "random", "always"
]

_ORIGINAL_MODES = {"always": "always", "random": "random", "after_n": "after-n"}
"""The original server's RATE_LIMIT_MODE values, and the strategy each one is."""

_MAX_MS = outcomes.MAX_MS
"""Ten minutes: any longer wait is a hung stream, not latency (the outcome grammar's ``:MS`` has the same)."""

# Upper bounds on counts: far above any real quota, so a value past them is a mistake, refused with a 422 rather
# than kept until a limiter turns it into a float and overflows on every request.
_MAX_COUNT = 1_000_000_000
"""Requests in a window, or before after-n denies: a billion."""
_MAX_WINDOW_MS = 86_400_000
"""A day: the longest window real providers count in (requests per day)."""
_MAX_TOKENS = 1_000_000_000_000
"""Tokens a minute: a trillion, far past any published tier."""
_MAX_WEIGHT = 1_000_000
"""A fault kind's weight: relative, so a million to one is as uneven as a draw needs (and sums stay finite)."""


class _Model(BaseModel):
    # inf/NaN would pass ge/le checks and then break JSON, headers and weighted draws.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LatencyConfig(_Model):
    initial_delay_ms: float = option(
        300, "Time to first token, in ms.", "STREAM_INITIAL_DELAY_MS", ge=0, ceiling=_MAX_MS
    )
    delay_ms: float = option(50, "Delay between streamed chunks, in ms.", "STREAM_DELAY_MS", ge=0, ceiling=_MAX_MS)
    jitter_ms: float = option(
        30, "Random extra delay per chunk, 0 to this, in ms.", "STREAM_JITTER_MS", ge=0, ceiling=_MAX_MS
    )
    chunk_size: int = option(10, "Characters per streamed chunk.", "STREAM_CHUNK_SIZE", ge=1, ceiling=1_000_000)
    error_delay_ms: float = option(
        5,
        "Delay before an answer decided without generating one (a 429, an injected error, a switched-off "
        "endpoint), in ms: a real provider refuses at once, not after the time to first token.",
        "LLMREPLAY_ERROR_DELAY_MS",
        ge=0,
        ceiling=_MAX_MS,
    )
    load_degradation: bool = option(
        False,
        "Whether latency (time to first token and gaps) grows with the requests in flight on the endpoint.",
        "LLMREPLAY_LOAD_DEGRADATION",
    )
    load_factor: float = option(
        2.0, "The latency multiplier under full load (load_degradation).", "LLMREPLAY_LOAD_FACTOR", ge=1, le=1000
    )
    load_knee: int = option(
        10,
        "Requests in flight at which the multiplier reaches load_factor, rising linearly from 1× for one.",
        "LLMREPLAY_LOAD_KNEE",
        ge=1,
        le=1_000_000,
    )


class RateLimitConfig(_Model):
    enabled: bool = option(False, "Whether requests are rate limited.", "RATE_LIMIT_ENABLED")
    strategy: Strategy = option(
        "after-n",
        "Algorithm (see GET /api/rate-limit/strategies).",
        "RATE_LIMIT_MODE",
        key="mode",
        spellings=_ORIGINAL_MODES,
    )
    requests: int = option(
        10,
        "Requests allowed per window (window and bucket strategies).",
        "RATE_LIMIT_REQUESTS",
        ge=1,
        ceiling=_MAX_COUNT,
    )
    window_ms: int = option(
        60_000,
        "Window length, or time to refill a bucket, in ms.",
        "RATE_LIMIT_WINDOW_MS",
        ge=1,
        ceiling=_MAX_WINDOW_MS,
    )
    after_n: int = option(
        5,
        "Requests that pass before every one is denied (after-n).",
        "RATE_LIMIT_AFTER_N",
        ge=0,
        ceiling=_MAX_COUNT,
    )
    probability: float = option(
        0.3,
        "Chance of a 429 per request (random).",
        "RATE_LIMIT_RANDOM_PROBABILITY",
        key="random_probability",
        ge=0,
        le=1,
    )
    tokens_per_minute: int | None = option(
        None, "Prompt + completion tokens allowed per minute; null for no token limit.", ge=1, ceiling=_MAX_TOKENS
    )
    per_key: bool = option(False, "Give every API key its own quota, like separate accounts.")

    # The settings file's names for two fields (the original server's); read-only views of the same values.
    @property
    def mode(self) -> str:
        return next((k for k, v in _ORIGINAL_MODES.items() if v == self.strategy), self.strategy)

    @property
    def random_probability(self) -> float:
        return self.probability


class FailureConfig(_Model):
    error_rate: float = option(0.0, "Fraction of requests that get an injected fault.", ge=0, le=1)
    kinds: dict[str, float] = Field(
        default_factory=lambda: {"500": 1.0},
        description="Fault kinds (GET /api/failure-modes syntax, e.g. 503, disconnect@50%) and their weights "
        "(0 to 1000000).",
    )
    retry_after_ms: float = option(
        1000,
        "The wait injected 429/503/529 answers ask for (retry-after, retry-after-ms).",
        ge=0,
        ceiling=3_600_000,
    )
    stream_interrupt_rate: float = option(
        0.0,
        "Fraction of streams cut off mid-response, in the provider's own way (on top of error_rate).",
        "LLMREPLAY_STREAM_INTERRUPT_RATE",
        ge=0,
        le=1,
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        for spec, weight in v.items():
            outcomes.parse(spec)
            if not (math.isfinite(weight) and 0 <= weight <= _MAX_WEIGHT):
                raise ValueError(f"weight of {spec!r} must be ≥ 0, at most {_MAX_WEIGHT}")
        return v


class EndpointConfig(_Model):
    """The effective configuration of one endpoint."""

    enabled: bool = option(True, "Whether the endpoint answers; a switched-off one refuses in its API's envelope.")
    latency: LatencyConfig = LatencyConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    failures: FailureConfig = FailureConfig()


class GlobalConfig(EndpointConfig):
    tool_call_probability: float = option(
        0.75, "Chance of a tool call when tools are offered.", "TOOL_CALL_PROBABILITY", ge=0, le=1
    )
    default_response: str | None = option(
        None, "Fixed reply text; unset: half from a pool of answers, half lorem ipsum.", "DEFAULT_RESPONSE"
    )
