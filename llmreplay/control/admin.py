"""The admin REST API under ``/api``: the original server's paths, plus scenarios and an OpenAPI document.

Every change applies to the next request. Bodies are validated whole by pydantic:
a bad one gets 422 with the field errors and changes nothing.
"""

from __future__ import annotations

import hmac
from typing import Any

import pydantic
from aiohttp import web

from llmreplay.control import admin_journal, admin_rules, adminio, openapi
from llmreplay.control.live import ENDPOINTS, EndpointConfig, GlobalConfig, UnknownEndpoint
from llmreplay.errors import ApiError
from llmreplay.options import explain
from llmreplay.shaping.faultkinds.registry import MODES
from llmreplay.shaping.ratelimit.strategies import BUILTIN

_runtime = adminio.runtime
_json = adminio.json_response
_unprocessable = adminio.unprocessable
_field_errors = adminio.field_errors
_body = adminio.object_body


def _unknown_endpoint(name: str) -> web.Response:
    return _json({"message": f"unknown endpoint {name!r}; known: {', '.join(ENDPOINTS)}"}, 404)


def guards(path: str) -> bool:
    """Whether a set admin token guards ``path``: ``/api/*`` and ``/ws``; never the provider API endpoints or
    the page itself."""
    return path.startswith("/api/") or path == "/ws"


async def refusal(request: web.Request, token: str) -> web.StreamResponse | None:
    """None when a guarded request carries ``token`` (``Authorization: Bearer`` or, for the browser's
    WebSocket, ``?token=``); else the refusal, already sent for a WebSocket."""
    given = request.headers.get("Authorization", "")
    given = given[7:] if given[:7].lower() == "bearer " else request.query.get("token", "")
    if hmac.compare_digest(given.encode(), token.encode()):
        return None
    if request.path == "/ws":
        # A browser cannot read the status of a refused handshake: accept, then close with a code it can see.
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        await sock.close(code=4401, message=b"admin token required")
        return sock
    return _json({"message": "admin token required: send Authorization: Bearer <token>"}, 401)


def error_response(err: ApiError) -> web.Response:
    """Errors on admin paths (unknown path, wrong method) as plain JSON, not a provider envelope."""
    return _json({"message": err.message}, err.http_status)


# ---- configuration ---------------------------------------------------------------------


def _bad_config(exc: pydantic.ValidationError, model: type[pydantic.BaseModel]) -> web.Response:
    """422 whose message words the first error as start-up does ("expected a number ≥ 0, at most 600000")."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(x) for x in first["loc"]) or "body"
    return _json({"message": f"{where}: {explain(model, first)}", "detail": _field_errors(exc)}, 422)


async def get_config(request: web.Request) -> web.Response:
    return _json(_runtime(request).live.snapshot())


async def patch_global(request: web.Request) -> web.Response:
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        new = _runtime(request).live.patch_global(body)
    except pydantic.ValidationError as exc:
        return _bad_config(exc, GlobalConfig)
    return _json(new.model_dump())


async def get_endpoints(request: web.Request) -> web.Response:
    return _json(_runtime(request).live.endpoints())


async def patch_endpoint(request: web.Request) -> web.Response:
    name = request.match_info["endpoint"]
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        cfg = _runtime(request).live.patch_endpoint(name, body)
    except UnknownEndpoint:
        return _unknown_endpoint(name)
    except pydantic.ValidationError as exc:
        return _bad_config(exc, EndpointConfig)
    return _json({"endpoint": name, "overrides": _runtime(request).live.overrides[name], "effective": cfg.model_dump()})


async def delete_endpoint(request: web.Request) -> web.Response:
    name = request.match_info["endpoint"]
    try:
        _runtime(request).live.clear_endpoint(name)
    except UnknownEndpoint:
        return _unknown_endpoint(name)
    return _json({"endpoint": name, "overrides": {}})


async def reset_config(request: web.Request) -> web.Response:
    rt = _runtime(request)
    rt.live.reset()
    await rt.state.reset_limits()
    return _json(rt.live.snapshot())


# ---- metrics ----------------------------------------------------------------------------


async def metrics_snapshot(rt: Any) -> dict[str, Any]:
    """The metrics snapshot: every process's counters when the state is shared, else this process's."""
    shared = getattr(rt.state, "shared_metrics", None)
    if shared is not None:
        merged = await shared()
        if merged is not None:
            return merged
    return rt.metrics.snapshot()


async def get_metrics(request: web.Request) -> web.Response:
    return _json(await metrics_snapshot(_runtime(request)))


async def get_latency(request: web.Request) -> web.Response:
    name = request.match_info["endpoint"]
    found = _runtime(request).metrics.latency(name)
    if found is None and name in ENDPOINTS:
        empty = {"p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
        found = {"endpoint": name, "count": 0, "ttfb": empty, "total": dict(empty)}
    if found is None:
        return _unknown_endpoint(name)
    return _json(found)


async def reset_metrics(request: web.Request) -> web.Response:
    rt = _runtime(request)
    rt.metrics.reset()
    await rt.state.reset_metrics()
    return _json({"reset": True})


async def get_detailed(request: web.Request) -> web.Response:
    return _json(_runtime(request).metrics.detailed())


async def export_json(request: web.Request) -> web.Response:
    resp = _json(_runtime(request).metrics.detailed())
    resp.headers["content-disposition"] = 'attachment; filename="llmreplay-metrics.json"'
    return resp


async def export_csv(request: web.Request) -> web.Response:
    return web.Response(
        text=_runtime(request).metrics.csv(),
        content_type="text/csv",
        headers={"content-disposition": 'attachment; filename="llmreplay-metrics.csv"'},
    )


# ---- rate limits, failure modes, scenarios ---------------------------------------------


async def reset_rate_limits(request: web.Request) -> web.Response:
    name = request.match_info.get("endpoint")
    if name is not None and name not in ENDPOINTS:
        return _unknown_endpoint(name)
    await _runtime(request).state.reset_limits(name)
    return _json({"reset": name or "all"})


def strategies() -> list[dict[str, Any]]:
    """Every rate-limit strategy, from the one list of them (``shaping/ratelimit/strategies.py``)."""
    return [{"name": s.name, "description": s.description, "parameters": list(s.parameters)} for s in BUILTIN]


def failure_modes() -> list[dict[str, Any]]:
    """Every failure kind, from the one list of them (``shaping/faultkinds/registry.py``); ``when`` and
    ``example`` (a spelling with its parameters filled in, for the dashboard) come with the original fields."""
    return [
        {"name": m.name, "description": m.description, "syntax": m.syntax, "when": m.when, "example": m.example}
        for m in MODES
    ]


async def get_strategies(request: web.Request) -> web.Response:
    return _json(strategies())


async def get_failure_modes(request: web.Request) -> web.Response:
    return _json(failure_modes())


class ScenarioBody(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    steps: str | list[str] = pydantic.Field(description='Outcomes in order, e.g. "429,429,ok" or ["429", "ok"].')


async def get_scenarios(request: web.Request) -> web.Response:
    return _json([s.as_json() for s in await _runtime(request).state.scenarios()])


async def get_scenario(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    found = next((s for s in await _runtime(request).state.scenarios() if s.name == name), None)
    if found is None:
        return _json({"message": f"no scenario named {name!r}"}, 404)
    return _json(found.as_json())


async def put_scenario(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        parsed = ScenarioBody.model_validate(body)
        scenario = await _runtime(request).state.define_scenario(name, parsed.steps)
    except pydantic.ValidationError as exc:
        return _unprocessable(_field_errors(exc))
    except ValueError as exc:
        return _unprocessable([{"loc": ["steps"], "msg": str(exc), "type": "value_error"}])
    return _json(scenario.as_json())


async def delete_scenario(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not await _runtime(request).state.remove_scenario(name):
        return _json({"message": f"no scenario named {name!r}"}, 404)
    return _json({"deleted": name})


async def reset_scenarios(request: web.Request) -> web.Response:
    await _runtime(request).state.reset_scenarios()
    return _json({"reset": True})


async def get_openapi(request: web.Request) -> web.Response:
    return _json(openapi.document(ROUTES, BODIES, {**admin_journal.QUERIES, **admin_rules.QUERIES}))


ROUTES: adminio.Routes = [
    ("GET", "/api/config", get_config, "Current configuration: global and per-endpoint overrides."),
    ("PATCH", "/api/config/global", patch_global, "Update the global configuration (partial)."),
    ("GET", "/api/config/endpoints", get_endpoints, "Every endpoint with its overrides and effective config."),
    ("PATCH", "/api/config/endpoints/{endpoint}", patch_endpoint, "Override configuration for one endpoint."),
    ("DELETE", "/api/config/endpoints/{endpoint}", delete_endpoint, "Clear an endpoint's overrides."),
    ("POST", "/api/config/reset", reset_config, "Back to the configuration the server started with."),
    ("GET", "/api/metrics", get_metrics, "Current metrics snapshot."),
    ("GET", "/api/metrics/latency/{endpoint}", get_latency, "Latency percentiles (p50, p90, p95, p99) of an endpoint."),
    ("POST", "/api/metrics/reset", reset_metrics, "Reset all metrics."),
    ("POST", "/api/rate-limit/reset", reset_rate_limits, "Reset every rate limiter."),
    ("POST", "/api/rate-limit/reset/{endpoint}", reset_rate_limits, "Reset one endpoint's rate limiters."),
    ("GET", "/api/rate-limit/strategies", get_strategies, "Rate-limit strategies and their parameters."),
    ("GET", "/api/detailed-metrics", get_detailed, "Full metrics: histograms and the per-second time series."),
    ("GET", "/api/detailed-metrics/export/json", export_json, "Detailed metrics as a JSON download."),
    ("GET", "/api/detailed-metrics/export/csv", export_csv, "The time series as CSV."),
    ("GET", "/api/failure-modes", get_failure_modes, "Every failure kind, with its syntax and a description."),
    ("GET", "/api/scenarios", get_scenarios, "Named scenarios."),
    ("GET", "/api/scenarios/{name}", get_scenario, "One named scenario."),
    ("PUT", "/api/scenarios/{name}", put_scenario, "Define or replace a named scenario."),
    ("DELETE", "/api/scenarios/{name}", delete_scenario, "Remove a named scenario."),
    ("POST", "/api/scenarios/reset", reset_scenarios, "Restart every scenario key from its first step."),
    ("GET", "/api/openapi.json", get_openapi, "This API's OpenAPI 3.1 document."),
    *admin_rules.ROUTES,
    *admin_journal.ROUTES,
]

BODIES: adminio.Bodies = {
    ("PATCH", "/api/config/global"): GlobalConfig,
    ("PATCH", "/api/config/endpoints/{endpoint}"): EndpointConfig,
    ("PUT", "/api/scenarios/{name}"): ScenarioBody,
    **admin_rules.BODIES,
    **admin_journal.BODIES,
}


def add_routes(app: web.Application) -> None:
    for method, path, handler, _ in ROUTES:
        app.router.add_route(method, path, handler)
