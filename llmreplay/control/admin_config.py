"""The configuration routes of the admin API (``/api/config…``), in both vocabularies.

A body may use llmreplay's nested fields, the original Mock LLM Server's flat camelCase ones, or both
(:mod:`llmreplay.control.original` translates them onto the one live configuration); an endpoint is named
by llmreplay's name or the original's id. Answers carry llmreplay's fields and the original's side by side.
A bad body gets 422 naming the field as the client spelled it, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pydantic
from aiohttp import web
from pydantic import BaseModel

from llmreplay.control import adminio, original
from llmreplay.control.live import PARENTS, EndpointConfig, GlobalConfig
from llmreplay.options import explain

_runtime = adminio.runtime
_json = adminio.json_response

CLEARED = "Endpoint overrides cleared, using global config"
T = TypeVar("T")


def unknown(name: str) -> web.Response:
    return adminio.unknown_endpoint(name, original.endpoint_ids())


def _bad_config(exc: pydantic.ValidationError, model: type[BaseModel], where: original.Where) -> web.Response:
    """422 whose message words the first error as start-up does ("expected a number ≥ 0, at most 600000"),
    each location in the vocabulary the client used."""
    errors = adminio.field_errors(exc)
    for err in errors:
        err["loc"] = list(original.located(tuple(err["loc"]), where))
    first = exc.errors(include_url=False)[0]
    shown = ".".join(str(x) for x in errors[0]["loc"]) or "body"
    return _json({"message": f"{shown}: {explain(model, first)}", "detail": errors}, 422)


async def get_config(request: web.Request) -> web.Response:
    return _json(original.config_view(_runtime(request).live))


async def _patched(
    request: web.Request, current: dict[str, Any], apply: Callable[[dict[str, Any]], T], model: type[BaseModel]
) -> T | web.Response:
    """Read a body in either vocabulary, translate it for ``current`` and ``apply`` it; or the 422 saying why
    not, in the client's words."""
    body = await adminio.object_body(request)
    if isinstance(body, web.Response):
        return body
    where: original.Where = {}
    try:
        patch, where = original.translate(body, current)
        return apply(patch)
    except original.BadBody as err:
        return adminio.unprocessable([{"loc": list(err.loc), "msg": err.msg, "type": "value_error"}])
    except pydantic.ValidationError as exc:
        return _bad_config(exc, model, where)


async def patch_global(request: web.Request) -> web.Response:
    live = _runtime(request).live
    new = await _patched(request, live.glob.model_dump(), live.patch_global, GlobalConfig)
    if isinstance(new, web.Response):
        return new
    # llmreplay answers the global configuration, the original the whole one: both fit in one object.
    return _json({**new.model_dump(), **original.config_view(live)})


def _entry(rt: Any, eid: str, name: str) -> dict[str, Any]:
    effective = rt.live.for_endpoint(name).model_dump()
    rl = effective["rate_limit"]
    return {
        "overrides": rt.live.overrides.get(name, {}),
        "effective": effective,
        "label": original.IDS.get(eid, original.IDS.get(original.original_id(name), (name, name)))[1],
        "config": original.both(effective),
        # The limiter's settings; its counts live in the quota table (or Redis) and are not read here.
        "rateLimiterState": {**original.rate_view(rl), "strategy": rl["strategy"] if rl["enabled"] else "none"},
    }


async def get_endpoints(request: web.Request) -> web.Response:
    rt = _runtime(request)
    return _json({eid: _entry(rt, eid, original.resolve(eid) or eid) for eid in original.endpoint_ids()})


def _named(request: web.Request) -> tuple[str, str]:
    """(the endpoint id as the client gave it, its llmreplay name); the name is "" for an unknown id."""
    eid = request.match_info["endpoint"]
    return eid, original.resolve(eid) or ""


async def patch_endpoint(request: web.Request) -> web.Response:
    eid, name = _named(request)
    if not name:
        return unknown(eid)
    live = _runtime(request).live
    cfg = await _patched(
        request, live.for_endpoint(name).model_dump(), lambda patch: live.patch_endpoint(name, patch), EndpointConfig
    )
    if isinstance(cfg, web.Response):
        return cfg
    effective = cfg.model_dump()
    return _json(
        {"endpoint": eid, "overrides": live.overrides[name], "effective": effective, "config": original.both(effective)}
    )


async def delete_endpoint(request: web.Request) -> web.Response:
    eid, name = _named(request)
    if not name:
        return unknown(eid)
    live = _runtime(request).live
    live.clear_endpoint(name)
    config = original.both(live.for_endpoint(name).model_dump())
    return _json({"endpoint": eid, "overrides": {}, "config": config, "message": CLEARED})


async def reset_config(request: web.Request) -> web.Response:
    rt = _runtime(request)
    rt.live.reset()
    await rt.state.reset_limits()
    view = original.config_view(rt.live)
    return adminio.done("Configuration reset", config=view, **view)


def limiter_keys(name: str) -> list[str]:
    """The quota tables a reset of ``name`` clears: its own, its finer keys' and its parent's (Gemini's four
    ids refine ``gemini``, whose table the road may still key them by)."""
    return [name, *(child for child, parent in PARENTS.items() if parent == name), *filter(None, [PARENTS.get(name)])]


BODIES: adminio.Bodies = {
    ("PATCH", "/api/config/global"): original.GlobalBody,
    ("PATCH", "/api/config/endpoints/{endpoint}"): original.EndpointBody,
}

ROUTES: adminio.Routes = [
    ("GET", "/api/config", get_config, "Configuration: global and per-endpoint overrides, in both vocabularies."),
    ("PATCH", "/api/config/global", patch_global, "Update the global configuration (partial, either vocabulary)."),
    ("GET", "/api/config/endpoints", get_endpoints, "Every endpoint with its overrides and effective config."),
    ("PATCH", "/api/config/endpoints/{endpoint}", patch_endpoint, "Override configuration for one endpoint."),
    ("DELETE", "/api/config/endpoints/{endpoint}", delete_endpoint, "Clear an endpoint's overrides."),
    ("POST", "/api/config/reset", reset_config, "Back to the configuration the server started with."),
]
