"""The original Mock LLM Server's vocabulary for the one live configuration: its endpoint ids and its flat
camelCase fields, translated onto llmreplay's nested ones and back.

Nothing is stored in this vocabulary. A body in it is translated into a patch of llmreplay's own fields
(:func:`translate`), which :class:`~llmreplay.control.live.LiveConfig` validates and applies like any other;
what the admin API answers carries both vocabularies side by side (:func:`flat`, :func:`config_view`), so
a script written for either finds its names. The facts are the original's (``types.ts``, ``registry.ts``),
restated in ``../shared/reference/original-admin-api.md``.
"""

from __future__ import annotations

import copy
import math
import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo

from llmreplay.control.live import ENDPOINTS, EndpointConfig, GlobalConfig, LiveConfig, RateLimitConfig
from llmreplay.shaping.faultkinds.registry import ALIASES as FAULT_ALIASES

IDS: dict[str, tuple[str, str]] = {
    "openai-chat": ("chat-completions", "OpenAI Chat"),
    "openai-responses": ("responses", "OpenAI Responses"),
    "anthropic-messages": ("messages", "Anthropic"),
    "gemini-generate": ("gemini-generate", "Gemini (v1beta)"),
    "gemini-stream": ("gemini-stream", "Gemini Stream (v1beta)"),
    "gemini-generate-v1": ("gemini-generate-v1", "Gemini (v1)"),
    "gemini-stream-v1": ("gemini-stream-v1", "Gemini Stream (v1)"),
}
"""The original's endpoint ids, in its order: the llmreplay name each one is, and the original's label."""

ALIASES: dict[str, str] = {oid: name for oid, (name, _) in IDS.items() if oid != name}
"""Original ids spelled differently from the llmreplay name they are (the Gemini ids are llmreplay's own)."""

FIELDS: dict[str, tuple[str, ...]] = {
    "streamInitialDelayMs": ("latency", "initial_delay_ms"),
    "streamDelayMs": ("latency", "delay_ms"),
    "streamJitterMs": ("latency", "jitter_ms"),
    "streamChunkSize": ("latency", "chunk_size"),
    "toolCallProbability": ("tool_call_probability",),
    "errorRate": ("failures", "error_rate"),
    "streamInterruptRate": ("failures", "stream_interrupt_rate"),
    "loadDegradationEnabled": ("latency", "load_degradation"),
    "loadDegradationFactor": ("latency", "load_factor"),
    "defaultResponse": ("default_response",),
}
"""Each flat field of the original and the llmreplay field it is (``enabled`` is spelled alike in both)."""

RATE_FIELDS: dict[str, str] = {
    "enabled": "enabled",
    "strategy": "strategy",
    "maxRequests": "requests",
    "windowMs": "window_ms",
    "failAfterN": "after_n",
    "failProbability": "probability",
}
"""The ``rateLimit`` object's fields and llmreplay's ``rate_limit`` ones; ``bucketCapacity`` is ``requests``
too and ``refillRate`` is ``requests`` ÷ window seconds (llmreplay keeps one capacity and one window)."""

BUCKETS = frozenset({"token-bucket", "leaky-bucket"})

ERROR_TYPES: tuple[str, ...] = (
    "server_error",
    "bad_request",
    "authentication_error",
    "permission_denied",
    "timeout",
    "slow_response",
    "connection_reset",
)
"""The original's error types: outcomes of llmreplay's grammar under these very names (kinds or aliases of a
spelling, ``shaping/faultkinds/``), so ``errorTypes`` are ``failures.kinds`` of weight 1."""

_SPELLED = {alias.means: alias.name for alias in FAULT_ALIASES.values()}
"""llmreplay spellings the original had a word for (``500`` → ``server_error``), read back in its words."""


class BadBody(ValueError):
    """A body in the original's vocabulary that cannot be translated: ``loc`` names the field."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


def resolve(endpoint: str) -> str | None:
    """The llmreplay name of an endpoint id in either vocabulary; None for an unknown one."""
    name = ALIASES.get(endpoint, endpoint)
    return name if name in ENDPOINTS else None


def original_id(name: str) -> str:
    """The original's id of an llmreplay name where it has one (``chat-completions`` → ``openai-chat``)."""
    return next((oid for oid, target in ALIASES.items() if target == name), name)


def type_of(kind: str) -> str:
    """The original's error type for a fault kind, where it has one; else the kind's own spelling."""
    return _SPELLED.get(kind, kind)


# ---- into llmreplay's fields -------------------------------------------------------------------------------------


def speaks(body: Mapping[str, Any]) -> bool:
    """Whether a body names any of the original's fields."""
    return any(k in FIELDS or k in ("rateLimit", "errorTypes") for k in body)


Where = dict[tuple[str, ...], tuple[str | int, ...]]
"""Where each translated llmreplay field came from: its location in the original's vocabulary."""


def translate(body: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[dict[str, Any], Where]:
    """A body in either vocabulary (or both) as a patch of llmreplay's fields, and where each translated field
    came from (llmreplay path → original location), so a refusal names the field the client sent.

    ``current`` is the configuration the patch applies to (a ``model_dump``): ``refillRate`` needs the
    capacity it divides. Raises :class:`BadBody` for what cannot be translated; values are validated later,
    with the rest, by the live configuration."""
    patch: dict[str, Any] = {k: v for k, v in body.items() if not (k in FIELDS or k in ("rateLimit", "errorTypes"))}
    where: Where = {}
    for name, path in FIELDS.items():
        if name in body:
            _put(patch, path, body[name])
            where[path] = (name,)
    if "errorTypes" in body:
        _put(patch, ("failures", "kinds"), _kinds(body["errorTypes"]))
        where[("failures", "kinds")] = ("errorTypes",)
    if "rateLimit" in body:
        rl = body["rateLimit"]
        if not isinstance(rl, Mapping):
            raise BadBody(("rateLimit",), "must be an object")
        for field, value in _rate_limit(rl, current.get("rate_limit", {}), where).items():
            _put(patch, ("rate_limit", field), value)
    return patch, where


def _kinds(types: Any) -> dict[str, float]:
    if not isinstance(types, list) or not types:
        raise BadBody(("errorTypes",), f"must be a non-empty list of: {', '.join(ERROR_TYPES)}")
    for i, t in enumerate(types):
        if not isinstance(t, str):
            raise BadBody(("errorTypes", i), f"must be one of {', '.join(ERROR_TYPES)} (or a fault kind)")
    # The original draws uniformly: weight 1 each.
    return {t: 1.0 for t in types}


def _rate_limit(rl: Mapping[str, Any], current: Mapping[str, Any], where: Where) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in rl.items():
        if name not in ("bucketCapacity", "refillRate"):
            field = RATE_FIELDS.get(name, name)
            out[field] = value
            where[("rate_limit", field)] = ("rateLimit", name)
    strategy = str(out.get("strategy", current.get("strategy", ""))).replace("_", "-")
    bucket = strategy in BUCKETS
    # One capacity and one window in llmreplay: in one body naming both, the strategy's own field wins.
    if "bucketCapacity" in rl and (bucket or "maxRequests" not in rl):
        out["requests"] = rl["bucketCapacity"]
        where[("rate_limit", "requests")] = ("rateLimit", "bucketCapacity")
    if "refillRate" in rl and (bucket or "windowMs" not in rl):
        rate, capacity = rl["refillRate"], out.get("requests", current.get("requests"))
        if not _number(rate) or rate <= 0:
            raise BadBody(("rateLimit", "refillRate"), "expected a number > 0 (tokens per second)")
        if _number(capacity) and capacity > 0:
            window = capacity / rate * 1000
            # Past a float's range the window stays infinite, for window_ms's bound to refuse naming refillRate.
            out["window_ms"] = max(1, round(window)) if math.isfinite(window) else window
            where[("rate_limit", "window_ms")] = ("rateLimit", "refillRate")
    return out


def _number(v: Any) -> bool:
    # An integer past a float's range (10**400) is no usable number either: the field's bound refuses it.
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= sys.float_info.max and math.isfinite(v)


def _put(into: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = into
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def located(loc: tuple[str | int, ...], where: Where) -> tuple[str | int, ...]:
    """A validation error's location in the vocabulary the client used."""
    for n in range(len(loc), 0, -1):
        found = where.get(tuple(str(x) for x in loc[:n]))
        if found is not None:
            return (*found, *loc[n:])
    return loc


# ---- out of llmreplay's fields -----------------------------------------------------------------------------------


def flat(cfg: Mapping[str, Any], effective: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The original's fields for a configuration (a ``model_dump``), or for a partial one (overrides: then
    ``effective`` is the whole configuration they make, for what the original derives from two fields)."""
    out: dict[str, Any] = {}
    for name, path in FIELDS.items():
        node: Any = cfg
        for part in path:
            node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
        if node is not _MISSING:
            out[name] = node
    kinds = cfg.get("failures", {}).get("kinds")
    if isinstance(kinds, Mapping):
        out["errorTypes"] = [type_of(k) for k in kinds]
    rl = cfg.get("rate_limit")
    if isinstance(rl, Mapping):
        whole = effective.get("rate_limit", rl) if effective is not None else rl
        view = rate_view(whole)
        out["rateLimit"] = view if effective is None else {k: v for k, v in view.items() if _SOURCES[k] & set(rl)}
    return out


_MISSING = object()
_SOURCES: dict[str, set[str]] = {
    **{name: {field} for name, field in RATE_FIELDS.items()},
    "bucketCapacity": {"requests"},
    "refillRate": {"requests", "window_ms"},
}


def rate_view(rl: Mapping[str, Any]) -> dict[str, Any]:
    """The original's ``rateLimit`` object of a whole ``rate_limit`` section."""
    out = {name: rl[field] for name, field in RATE_FIELDS.items()}
    out["bucketCapacity"] = rl["requests"]
    out["refillRate"] = round(rl["requests"] / (rl["window_ms"] / 1000), 6)
    return out


def both(cfg: Mapping[str, Any], effective: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A configuration (or overrides) in both vocabularies: llmreplay's nested sections and the original's
    flat fields side by side in one object (no name is shared but ``enabled``, which means the same)."""
    return {**cfg, **flat(cfg, effective)}


def config_view(live: LiveConfig) -> dict[str, Any]:
    """``GET /api/config``: ``global`` in both vocabularies, and under ``endpoints`` every endpoint that differs
    from it, keyed by its llmreplay name and by the original's id. An entry holds the endpoint's own overrides
    (llmreplay's fields) and, in the original's, everything it overrides, its parent's included."""
    snap = live.snapshot()
    endpoints: dict[str, Any] = {}
    for name in ENDPOINTS:
        inherited = live.inherited(name)
        if inherited:
            effective = live.for_endpoint(name).model_dump()
            endpoints[name] = {**snap["endpoints"].get(name, {}), **flat(inherited, effective)}
    for oid, name in ALIASES.items():
        if name in endpoints:
            endpoints[oid] = endpoints[name]
    return {"global": both(snap["global"]), "endpoints": endpoints}


def endpoint_ids() -> list[str]:
    """Every id the admin API takes: llmreplay's names, then the original's that differ from them."""
    return [*ENDPOINTS, *ALIASES]


# ---- the bodies' schemas, for the OpenAPI document ----------------------------------------------------------------


def _optional(info: FieldInfo, description: str | None = None) -> tuple[Any, FieldInfo]:
    """An llmreplay field's declaration (bounds, description) as an optional field of a body."""
    field = copy.copy(info)
    field.default = None
    if description is not None:
        field.description = description
    return info.annotation | None, field


def _field(path: tuple[str, ...]) -> FieldInfo:
    owner: type[BaseModel] = GlobalConfig
    for part in path[:-1]:
        owner = owner.model_fields[part].annotation  # type: ignore[assignment]
    return owner.model_fields[path[-1]]


_rate = RateLimitConfig.model_fields
OriginalRateLimit = create_model(
    "OriginalRateLimit",
    **{name: _optional(_rate[field]) for name, field in RATE_FIELDS.items()},
    bucketCapacity=_optional(_rate["requests"], "Bucket size: the same value as maxRequests."),
    refillRate=(float | None, Field(None, gt=0, description="Tokens per second: maxRequests ÷ window seconds.")),
)
_flat: dict[str, Any] = {
    **{name: _optional(_field(path)) for name, path in FIELDS.items()},
    "errorTypes": (list[str] | None, Field(None, description="Drawn uniformly: " + ", ".join(ERROR_TYPES) + ".")),
    "rateLimit": (OriginalRateLimit | None, None),
}
GlobalBody = create_model("GlobalBody", __base__=GlobalConfig, **_flat)
"""``PATCH /api/config/global``: llmreplay's fields and the original's, in one body."""
EndpointBody = create_model(
    "EndpointBody",
    __base__=EndpointConfig,
    **{k: v for k, v in _flat.items() if FIELDS.get(k, ("",))[0] in EndpointConfig.model_fields or k not in FIELDS},
)
"""``PATCH /api/config/endpoints/{endpoint}``: the same but the global-only fields."""
