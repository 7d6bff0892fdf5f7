"""What every admin API module shares: the runtime of a request, JSON answers, and the 422 of a bad body (the
field errors pydantic found, or why the body is not a JSON object)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from aiohttp import web

from llmreplay.runtime import RUNTIME, Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Routes = list[tuple[str, str, Handler, str]]
"""(method, path, handler, summary) of each admin route; the summary goes into the OpenAPI document."""
Bodies = dict[tuple[str, str], type[pydantic.BaseModel]]
"""The body model of each (method, path) that takes one, for the OpenAPI document."""
Queries = dict[tuple[str, str], type[pydantic.BaseModel]]
"""The query-string model of each (method, path) that takes parameters: its fields are the OpenAPI document's
query parameters."""


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def unprocessable(errors: list[dict[str, Any]]) -> web.Response:
    first = errors[0]
    where = ".".join(str(x) for x in first["loc"]) or "body"
    return json_response({"message": f"{where}: {first['msg']}", "detail": errors}, 422)


def field_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


async def json_body(request: web.Request) -> Any | web.Response:
    """The body as JSON (an empty body is ``{}``), or the 422 that says why it is not JSON."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return unprocessable([{"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}])


async def object_body(request: web.Request) -> dict[str, Any] | web.Response:
    """The body as a JSON object, or the 422 that says why it is not one."""
    data = await json_body(request)
    if isinstance(data, web.Response | dict):
        return data
    return unprocessable([{"loc": ["body"], "msg": "must be a JSON object", "type": "dict_type"}])


def unknown_endpoint(name: str, known: list[str]) -> web.Response:
    """The original server's answer to an endpoint id it does not know (400 ``error``), with llmreplay's
    ``message`` listing the known ones."""
    return json_response(
        {"error": f"Unknown endpoint: {name}", "message": f"unknown endpoint {name!r}; known: {', '.join(known)}"},
        400,
    )


def done(message: str, **fields: Any) -> web.Response:
    """An action's answer: the original's ``status`` and ``message`` beside llmreplay's own ``fields``."""
    return json_response({**fields, "status": "ok", "message": message})
