"""The admin REST API under ``/api``: the original server's paths, plus scenarios and an OpenAPI document.

Every change applies to the next request. Bodies are validated whole by pydantic:
a bad one gets 422 with the field errors and changes nothing.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import pydantic
from aiohttp import web

from llmreplay.control import (
    admin_cassettes,
    admin_config,
    admin_journal,
    admin_rules,
    admin_usage,
    adminio,
    openapi,
    original,
)
from llmreplay.control.live import PARENTS
from llmreplay.errors import ApiError
from llmreplay.metrics import original as original_metrics
from llmreplay.metrics.export import iso
from llmreplay.shaping.faultkinds.registry import MODES
from llmreplay.shaping.ratelimit.strategies import BUILTIN

_runtime = adminio.runtime
_json = adminio.json_response
_unprocessable = adminio.unprocessable
_field_errors = adminio.field_errors
_body = adminio.object_body
_unknown_endpoint = admin_config.unknown


def guards(path: str) -> bool:
    """Whether a set admin token guards ``path``: ``/api/*`` and ``/ws``; never the provider API endpoints or
    the page itself."""
    return path.startswith("/api/") or path == "/ws"


async def refusal(request: web.Request, token: str) -> web.StreamResponse | None:
    """None when a guarded request carries ``token`` (``Authorization: Bearer`` or, for the browser's
    WebSocket, ``?token=``); else the refusal, already sent for a WebSocket."""
    given = request.headers.get("Authorization", "")
    given = given[7:] if given[:7].lower() == "bearer " else request.query.get("token", "")
    # A header byte that is not UTF-8 arrives as a lone surrogate (aiohttp's surrogateescape): encoded back, it
    # is simply a wrong token.
    if hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode()):
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


# ---- metrics ----------------------------------------------------------------------------


async def metrics_snapshot(rt: Any) -> dict[str, Any]:
    """The metrics snapshot: every process's counters when the state is shared, else this process's."""
    shared = getattr(rt.state, "shared_metrics", None)
    if shared is not None:
        merged = await shared()
        if merged is not None:
            return merged
    return rt.metrics.snapshot()


def metrics_view(snap: dict[str, Any]) -> dict[str, Any]:
    """``GET /api/metrics``: llmreplay's snapshot with the original's fields beside its own, every endpoint
    under the original's id too (the four Gemini ids read ``gemini``'s counts), and its ``global``."""
    endpoints = {name: {**e, **original_metrics.endpoint_fields(e)} for name, e in snap["endpoints"].items()}
    _alias(endpoints, {**original_metrics.EMPTY, **original_metrics.endpoint_fields(original_metrics.EMPTY)})
    return {**snap, "timestamp": _now_ms(), "endpoints": endpoints, "global": original_metrics.global_fields(snap)}


def detailed_view(rt: Any) -> dict[str, Any]:
    """``GET /api/detailed-metrics`` and its JSON export: llmreplay's detailed metrics with the original's."""
    detailed = rt.metrics.detailed()
    theirs = original_metrics.detailed_view(detailed)
    endpoints = {name: {**e, **theirs["endpoints"].get(name, {})} for name, e in detailed["endpoints"].items()}
    _alias(endpoints, None)
    return {**detailed, "timestamp": _now_ms(), "endpoints": endpoints, "global": theirs["global"]}


def _alias(endpoints: dict[str, Any], empty: dict[str, Any] | None) -> None:
    for oid, (name, _) in original.IDS.items():
        found = endpoints.get(PARENTS.get(name, name), empty)
        if found is not None:
            endpoints.setdefault(oid, found)


def _now_ms() -> int:
    return round(time.time() * 1000)


async def get_metrics(request: web.Request) -> web.Response:
    return _json(metrics_view(await metrics_snapshot(_runtime(request))))


async def get_latency(request: web.Request) -> web.Response:
    eid = request.match_info["endpoint"]
    name = original.resolve(eid)
    if name is None:
        return _unknown_endpoint(eid)
    found = _runtime(request).metrics.latency(PARENTS.get(name, name))
    if found is None:
        empty = {"p50": 0.0, "p90": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
        found = {"count": 0, "ttfb": empty, "total": dict(empty)}
    total = found["total"]
    # The original's flat percentiles are of the whole request, as its were.
    return _json({**found, "endpoint": eid, "p50": total["p50"], "p90": total["p90"], "p99": total["p99"]})


async def _reset(request: web.Request) -> None:
    rt = _runtime(request)
    rt.metrics.reset()
    await rt.state.reset_metrics()


async def reset_metrics(request: web.Request) -> web.Response:
    await _reset(request)
    return adminio.done("Metrics reset", reset=True)


async def reset_detailed(request: web.Request) -> web.Response:
    """The original kept its detailed metrics apart; llmreplay has one store, so this resets it all too."""
    await _reset(request)
    return adminio.done("Detailed metrics reset", reset=True)


async def get_detailed(request: web.Request) -> web.Response:
    return _json(detailed_view(_runtime(request)))


async def export_json(request: web.Request) -> web.Response:
    resp = _json(detailed_view(_runtime(request)))
    resp.headers["content-disposition"] = 'attachment; filename="detailed-metrics.json"'
    return resp


async def export_csv(request: web.Request) -> web.Response:
    return web.Response(
        text=_runtime(request).metrics.csv(),
        content_type="text/csv",
        headers={"content-disposition": 'attachment; filename="detailed-metrics.csv"'},
    )


async def health(request: web.Request) -> web.Response:
    return _json({"status": "ok", "wsClients": _runtime(request).events.clients, "timestamp": iso(time.time())})


# ---- rate limits, failure modes, scenarios ---------------------------------------------


async def reset_rate_limits(request: web.Request) -> web.Response:
    eid = request.match_info.get("endpoint")
    state = _runtime(request).state
    if eid is None:
        await state.reset_limits(None)
        return adminio.done("All rate limiter states reset", reset="all")
    name = original.resolve(eid)
    if name is None:
        return _unknown_endpoint(eid)
    for key in admin_config.limiter_keys(name):
        await state.reset_limits(key)
    return adminio.done(f"Rate limiter reset for {eid}", reset=eid)


def strategies() -> list[dict[str, Any]]:
    """Every rate-limit strategy, from the one list of them (``shaping/ratelimit/strategies.py``)."""
    return [
        {"id": s.name, "name": s.name, "description": s.description, "parameters": list(s.parameters)} for s in BUILTIN
    ]


def failure_modes() -> list[dict[str, Any]]:
    """Every failure kind, from the one list of them (``shaping/faultkinds/registry.py``); ``when`` and
    ``example`` (a spelling with its parameters filled in, for the dashboard) come with the original fields
    (``id``, the original server's name for it, is ``name``)."""
    return [
        {
            "id": m.name,
            "name": m.name,
            "description": m.description,
            "syntax": m.syntax,
            "when": m.when,
            "example": m.example,
        }
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
    *admin_config.ROUTES,
    ("GET", "/api/metrics", get_metrics, "Current metrics snapshot."),
    ("GET", "/api/metrics/latency/{endpoint}", get_latency, "Latency percentiles (p50, p90, p95, p99) of an endpoint."),
    ("POST", "/api/metrics/reset", reset_metrics, "Reset all metrics."),
    ("GET", "/api/health", health, "Liveness, with the number of WebSocket clients."),
    ("POST", "/api/rate-limit/reset", reset_rate_limits, "Reset every rate limiter."),
    ("POST", "/api/rate-limit/reset/{endpoint}", reset_rate_limits, "Reset one endpoint's rate limiters."),
    ("GET", "/api/rate-limit/strategies", get_strategies, "Rate-limit strategies and their parameters."),
    ("GET", "/api/detailed-metrics", get_detailed, "Full metrics: histograms and the per-second time series."),
    ("GET", "/api/detailed-metrics/export/json", export_json, "Detailed metrics as a JSON download."),
    ("GET", "/api/detailed-metrics/export/csv", export_csv, "The time series as CSV."),
    ("POST", "/api/detailed-metrics/reset", reset_detailed, "Reset all metrics (the same store as /api/metrics)."),
    ("GET", "/api/failure-modes", get_failure_modes, "Every failure kind, with its syntax and a description."),
    ("GET", "/api/scenarios", get_scenarios, "Named scenarios."),
    ("GET", "/api/scenarios/{name}", get_scenario, "One named scenario."),
    ("PUT", "/api/scenarios/{name}", put_scenario, "Define or replace a named scenario."),
    ("DELETE", "/api/scenarios/{name}", delete_scenario, "Remove a named scenario."),
    ("POST", "/api/scenarios/reset", reset_scenarios, "Restart every scenario key from its first step."),
    ("GET", "/api/openapi.json", get_openapi, "This API's OpenAPI 3.1 document."),
    *admin_rules.ROUTES,
    *admin_journal.ROUTES,
    *admin_cassettes.ROUTES,
    *admin_usage.ROUTES,
]

BODIES: adminio.Bodies = {
    **admin_config.BODIES,
    ("PUT", "/api/scenarios/{name}"): ScenarioBody,
    **admin_rules.BODIES,
    **admin_journal.BODIES,
    **admin_cassettes.BODIES,
}


def add_routes(app: web.Application) -> None:
    for method, path, handler, _ in ROUTES:
        app.router.add_route(method, path, handler)
