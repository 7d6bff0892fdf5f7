"""Live configuration: what the shaper applies, changed at run time without a restart.

The global section holds latency, rate limiting and failure injection; each
endpoint may override any field of it. Effective per-endpoint configurations are
merged once per change and cached, so a request only does a dict lookup.
Changes are validated whole: a bad patch raises and leaves everything as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmreplay.config import Settings
from llmreplay.shaping import outcomes

Strategy = Literal[
    "none", "fixed-window", "sliding-window", "token-bucket", "leaky-bucket", "after-n", "random", "always"
]

ENDPOINTS: tuple[str, ...] = (
    "chat-completions",
    "responses",
    "completions",
    "embeddings",
    "messages",
    "gemini",
    "models",
)
"""Every endpoint name that configuration, metrics and rate limits use."""


class _Model(BaseModel):
    # inf/NaN would pass ge/le checks and then break JSON, headers and weighted draws.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LatencyConfig(_Model):
    initial_delay_ms: float = Field(300, ge=0, le=600_000, description="Time to first token, in ms.")
    delay_ms: float = Field(50, ge=0, le=600_000, description="Delay between streamed chunks, in ms.")
    jitter_ms: float = Field(30, ge=0, le=600_000, description="Random extra delay per chunk, 0 to this, in ms.")
    chunk_size: int = Field(10, ge=1, le=1_000_000, description="Characters per streamed chunk.")


class RateLimitConfig(_Model):
    enabled: bool = Field(False, description="Whether requests are rate limited.")
    strategy: Strategy = Field("after-n", description="Algorithm (see GET /api/rate-limit/strategies).")
    requests: int = Field(10, ge=1, description="Requests allowed per window (window and bucket strategies).")
    window_ms: int = Field(60_000, ge=1, description="Window length, or time to refill a bucket, in ms.")
    after_n: int = Field(5, ge=0, description="Requests that pass before every one is denied (after-n).")
    probability: float = Field(0.3, ge=0, le=1, description="Chance of a 429 per request (random).")
    tokens_per_minute: int | None = Field(
        None, ge=1, description="Prompt + completion tokens allowed per minute; null for no token limit."
    )
    per_key: bool = Field(False, description="Give every API key its own quota, like separate accounts.")


class FailureConfig(_Model):
    error_rate: float = Field(0.0, ge=0, le=1, description="Fraction of requests that get an injected fault.")
    kinds: dict[str, float] = Field(
        default_factory=lambda: {"500": 1.0},
        description="Fault kinds (GET /api/failure-modes syntax, e.g. 503, disconnect@50%) and their weights.",
    )
    retry_after_ms: float = Field(
        1000,
        ge=0,
        le=3_600_000,
        description="The wait injected 429/503/529 answers ask for (retry-after, retry-after-ms).",
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: dict[str, float]) -> dict[str, float]:
        for spec, weight in v.items():
            outcomes.parse(spec)
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"weight of {spec!r} must be ≥ 0")
        return v


class EndpointConfig(_Model):
    """The effective configuration of one endpoint."""

    latency: LatencyConfig = LatencyConfig()
    rate_limit: RateLimitConfig = RateLimitConfig()
    failures: FailureConfig = FailureConfig()


class GlobalConfig(EndpointConfig):
    tool_call_probability: float = Field(0.75, ge=0, le=1, description="Chance of a tool call when tools are offered.")


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) and k != "kinds":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def initial(settings: Settings) -> GlobalConfig:
    """The starting configuration from the server settings (defaults ← file ← env ← flags)."""
    rl = settings.rate_limit
    return GlobalConfig(
        latency=LatencyConfig(**settings.latency.model_dump()),
        rate_limit=RateLimitConfig(
            enabled=rl.enabled,
            strategy=rl.mode.replace("_", "-"),  # type: ignore[arg-type]
            requests=rl.requests,
            window_ms=rl.window_ms,
            after_n=rl.after_n,
            probability=rl.random_probability,
        ),
        tool_call_probability=settings.synthetic.tool_call_probability,
    )


class UnknownEndpoint(KeyError):
    pass


class LiveConfig:
    """The configuration in force, its per-endpoint overrides, and who to tell on change."""

    def __init__(self, start: GlobalConfig) -> None:
        self._start = start
        self.listeners: list[Callable[[str, str | None], None]] = []
        """Called with (what changed: "global" | "endpoint" | "reset" | "remote", endpoint or None)."""
        self.reset(notify=False)

    @property
    def glob(self) -> GlobalConfig:
        return self._global

    @property
    def overrides(self) -> dict[str, dict[str, Any]]:
        return dict(self._overrides)

    def reset(self, notify: bool = True) -> None:
        self._global = self._start
        self._overrides: dict[str, dict[str, Any]] = {}
        self._effective: dict[str, EndpointConfig] = {}
        self.version = getattr(self, "version", 0) + 1
        if notify:
            self._notify("reset", None)

    def for_endpoint(self, endpoint: str) -> EndpointConfig:
        """The effective configuration of ``endpoint`` (global merged with its overrides)."""
        cfg = self._effective.get(endpoint)
        if cfg is None:
            cfg = self._compute(endpoint, self._global, self._overrides.get(endpoint, {}))
            self._effective[endpoint] = cfg
        return cfg

    def patch_global(self, patch: Mapping[str, Any]) -> GlobalConfig:
        """Apply a partial update; raises pydantic.ValidationError and changes nothing on bad input."""
        new = GlobalConfig.model_validate(_merge(self._global.model_dump(), patch))
        for name, over in self._overrides.items():
            self._compute(name, new, over)
        self._global = new
        self._changed("global", None)
        return new

    def patch_endpoint(self, endpoint: str, patch: Mapping[str, Any]) -> EndpointConfig:
        self._check(endpoint)
        over = _merge(self._overrides.get(endpoint, {}), patch)
        cfg = self._compute(endpoint, self._global, over)
        self._overrides[endpoint] = over
        self._changed("endpoint", endpoint)
        return cfg

    def clear_endpoint(self, endpoint: str) -> None:
        self._check(endpoint)
        self._overrides.pop(endpoint, None)
        self._changed("endpoint", endpoint)

    def snapshot(self) -> dict[str, Any]:
        return {
            "global": self._global.model_dump(),
            "endpoints": {name: dict(over) for name, over in self._overrides.items()},
        }

    def apply_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        """Replace everything with another process's :meth:`snapshot` (shared state); listeners hear
        ``"remote"``. Validated whole: raises ValueError (or pydantic.ValidationError) and changes nothing."""
        glob = GlobalConfig.model_validate(snapshot.get("global", {}))
        endpoints = snapshot.get("endpoints", {})
        if not isinstance(endpoints, Mapping):
            raise ValueError("snapshot endpoints must be an object")
        overrides: dict[str, dict[str, Any]] = {}
        for name, over in endpoints.items():
            self._check(name)
            if not isinstance(over, Mapping):
                raise ValueError(f"overrides of {name!r} must be an object")
            self._compute(name, glob, over)
            overrides[name] = dict(over)
        self._global, self._overrides = glob, overrides
        self._changed("remote", None)

    def endpoints(self) -> dict[str, Any]:
        return {
            name: {"overrides": self._overrides.get(name, {}), "effective": self.for_endpoint(name).model_dump()}
            for name in ENDPOINTS
        }

    @staticmethod
    def _check(endpoint: str) -> None:
        if endpoint not in ENDPOINTS:
            raise UnknownEndpoint(endpoint)

    @staticmethod
    def _compute(endpoint: str, glob: GlobalConfig, over: Mapping[str, Any]) -> EndpointConfig:
        # tool_call_probability is global only: EndpointConfig forbids it as an unknown field.
        base = glob.model_dump(exclude={"tool_call_probability"})
        return EndpointConfig.model_validate(_merge(base, over))

    def _changed(self, what: str, endpoint: str | None) -> None:
        self._effective = {}
        self.version += 1
        self._notify(what, endpoint)

    def _notify(self, what: str, endpoint: str | None) -> None:
        for listener in self.listeners:
            listener(what, endpoint)
