"""Live configuration: what the shaper applies, changed at run time without a restart.

The global section holds latency, rate limiting and failure injection; each
endpoint may override any field of it. Effective per-endpoint configurations are
merged once per change and cached, so a request only does a dict lookup.
Changes are validated whole: a bad patch raises and leaves everything as it was.
The fields themselves are declared once, in :mod:`llmreplay.configmodels` (they are configuration,
which the shaper and shared state read too, not control), and re-exported here for the modules that
import them from this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmreplay.configmodels import (
    EndpointConfig,
    FailureConfig,
    GlobalConfig,
    LatencyConfig,
    RateLimitConfig,
    Strategy,
)

if TYPE_CHECKING:
    from llmreplay.config import Settings

__all__ = [
    "ENDPOINTS",
    "PARENTS",
    "EndpointConfig",
    "FailureConfig",
    "GlobalConfig",
    "LatencyConfig",
    "LiveConfig",
    "RateLimitConfig",
    "Strategy",
    "UnknownEndpoint",
    "initial",
]

ENDPOINTS: tuple[str, ...] = (
    "chat-completions",
    "responses",
    "completions",
    "embeddings",
    "messages",
    "gemini",
    "gemini-generate",
    "gemini-stream",
    "gemini-generate-v1",
    "gemini-stream-v1",
    "vertex-gemini",
    "vertex-generate",
    "vertex-stream",
    "vertex-anthropic-messages",
    "bedrock-converse",
    "bedrock-converse-stream",
    "bedrock-invoke",
    "bedrock-invoke-stream",
    "azure-chat-completions",
    "azure-responses",
    "azure-completions",
    "azure-embeddings",
    "models",
)
"""Every endpoint name that configuration, metrics and rate limits use."""

PARENTS: dict[str, str] = {
    "gemini-generate": "gemini",
    "gemini-stream": "gemini",
    "gemini-generate-v1": "gemini",
    "gemini-stream-v1": "gemini",
    "bedrock-converse-stream": "bedrock-converse",
    "bedrock-invoke-stream": "bedrock-invoke",
    "vertex-generate": "vertex-gemini",
    "vertex-stream": "vertex-gemini",
}
"""Finer configuration keys and the endpoint they refine: Gemini's generate and stream calls on v1beta and v1
are configured apart (as the original server did) but counted together as ``gemini``. A child's effective
configuration is the global one, then its parent's overrides, then its own."""


_GLOBAL_ONLY = frozenset(GlobalConfig.model_fields) - frozenset(EndpointConfig.model_fields)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) and k != "kinds":
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def initial(settings: Settings) -> GlobalConfig:
    """The starting configuration: the settings' own live sections, already validated as such."""
    return GlobalConfig(
        latency=settings.latency,
        rate_limit=settings.rate_limit,
        tool_call_probability=settings.synthetic.tool_call_probability,
        default_response=settings.synthetic.default_response,
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
            cfg = self._compute(endpoint, self._global, self._chain(endpoint, self._overrides))
            self._effective[endpoint] = cfg
        return cfg

    def inherited(self, endpoint: str) -> dict[str, Any]:
        """What ``endpoint`` overrides of the global configuration: its own overrides on its parent's."""
        return self._chain(endpoint, self._overrides)

    def patch_global(self, patch: Mapping[str, Any]) -> GlobalConfig:
        """Apply a partial update; raises pydantic.ValidationError and changes nothing on bad input."""
        new = GlobalConfig.model_validate(_merge(self._global.model_dump(), patch))
        self._validate(new, self._overrides)
        self._global = new
        self._changed("global", None)
        return new

    def patch_endpoint(self, endpoint: str, patch: Mapping[str, Any]) -> EndpointConfig:
        self._check(endpoint)
        overrides = {**self._overrides, endpoint: _merge(self._overrides.get(endpoint, {}), patch)}
        self._validate(self._global, overrides)
        self._overrides = overrides
        self._changed("endpoint", endpoint)
        return self.for_endpoint(endpoint)

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
            overrides[name] = dict(over)
        self._validate(glob, overrides)
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
    def _chain(endpoint: str, overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        own = overrides.get(endpoint, {})
        parent = PARENTS.get(endpoint)
        return _merge(overrides.get(parent, {}), own) if parent is not None else dict(own)

    @classmethod
    def _validate(cls, glob: GlobalConfig, overrides: Mapping[str, Mapping[str, Any]]) -> None:
        """Every endpoint with overrides of its own or from its parent stays valid (raises if not)."""
        touched = set(overrides) | {child for child, parent in PARENTS.items() if parent in overrides}
        for name in sorted(touched):
            cls._compute(name, glob, cls._chain(name, overrides))

    @staticmethod
    def _compute(endpoint: str, glob: GlobalConfig, over: Mapping[str, Any]) -> EndpointConfig:
        # tool_call_probability and default_response are global only: EndpointConfig forbids them.
        base = glob.model_dump(exclude=_GLOBAL_ONLY)
        return EndpointConfig.model_validate(_merge(base, over))

    def _changed(self, what: str, endpoint: str | None) -> None:
        self._effective = {}
        self.version += 1
        self._notify(what, endpoint)

    def _notify(self, what: str, endpoint: str | None) -> None:
        for listener in self.listeners:
            listener(what, endpoint)
