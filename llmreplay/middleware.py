"""The one middleware every request goes through: the access log, the error envelope, the admin token and the
body deadline, outermost concern first."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from llmreplay import limits, scoping
from llmreplay.codec import Codec, RenderOptions
from llmreplay.control import admin
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.journal.view import without_keys
from llmreplay.labels import CASSETTE, SOURCE
from llmreplay.providers import registry
from llmreplay.road import MATCH, Handler, call_of
from llmreplay.runtime import RUNTIME

access_log = logging.getLogger("llmreplay.access")
log = logging.getLogger("llmreplay")

Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def front(body_timeout_s: float) -> Middleware:
    """One coroutine rather than four middlewares, because aiohttp wraps each middleware anew for every
    request."""

    @web.middleware
    async def front(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        resp: web.StreamResponse | None = None
        try:
            try:
                if request.path.startswith(scoping.PREFIX):
                    request, handler = await scoping.unwrap(request)
                resp = await _guarded(request, handler, body_timeout_s)
            except ApiError as exc:
                resp = _error_answer(request, exc)
            except web.HTTPNotFound:
                resp = _error_answer(request, registry.not_found(call_of(request)))
            except web.HTTPMethodNotAllowed as exc:
                allowed = ", ".join(sorted(exc.allowed_methods))
                msg = f"Method {request.method} is not allowed on {request.path}; use {allowed}."
                resp = _error_answer(request, ApiError(ErrorKind.METHOD_NOT_ALLOWED, msg))
            except web.HTTPException:
                raise
            except Exception:
                log.exception("unexpected error answering %s %s", request.method, without_keys(request.path))
                err = ApiError(ErrorKind.SERVER, "The server had an error while processing your request.")
                resp = _error_answer(request, err)
            status = resp.status
            return resp
        finally:
            if not request.app[RUNTIME].settings.server.quiet:
                _log_access(request, status, start, resp)

    return front


async def _guarded(request: web.Request, handler: Handler, body_timeout_s: float) -> web.StreamResponse:
    token = request.app[RUNTIME].settings.server.admin_token
    if token and admin.guards(request.path):
        refused = await admin.refusal(request, token)
        if refused is not None:
            return refused
    if request.can_read_body:
        err = await limits.read_body(request, body_timeout_s)
        if err is not None:
            resp = _error_answer(request, err)
            resp.force_close()  # the rest of the body is unread
            return resp
    return await handler(request)


def _error_answer(request: web.Request, err: ApiError) -> web.Response:
    """Every failure the client can see is in its provider's envelope; never a traceback."""
    if request.path.startswith("/api/"):
        return admin.error_response(err)
    answer = _codec_for(request).render_error(err, RenderOptions())
    return web.Response(status=answer.status, headers=dict(answer.headers), body=answer.body)


def _codec_for(request: web.Request) -> Codec:
    """The codec of the route ``request`` matched (``/v1/messages`` is Anthropic's even without its headers);
    on no route, the one the call looks like."""
    resource = request.match_info.route.resource
    if resource is not None:
        found = _codecs_by_route().get((request.method, resource.canonical))
        if found is not None:
            return found
    return registry.guess_codec(call_of(request))


@functools.cache
def _codecs_by_route() -> dict[tuple[str, str], Codec]:
    return {(r.method, r.path): r.codec for r in registry.routes()}


def _log_access(request: web.Request, status: int, start: float, resp: web.StreamResponse | None = None) -> None:
    """One line per request: method, path (never the query: it may hold a key, and a key-shaped part of the
    path is redacted), status, duration, what answered (a rule, a recording, the upstream, the synthetic
    source) and, where a cassette took part, ``hit``, ``recorded`` or ``miss`` and which cassette
    (``NAME#INDEX`` for a hit, ``*`` for a miss in every cassette loaded)."""
    source = cassette = None
    if resp is not None:
        # Ours are the last: an answer recorded from (or forwarded by) another llmreplay carries its labels too.
        source, cassette = _last(resp, SOURCE), _last(resp, CASSETTE)
    match = request.get(MATCH) if cassette is not None else None
    log_access(request.method, request.path, status, start, source, match, cassette)


def log_access(
    method: str, path: str, status: int, start: float, source: str | None, match: str | None, cassette: str | None
) -> None:
    """The access log's line for one request (``start``: its ``time.perf_counter()``), wherever it was answered."""
    ms = (time.perf_counter() - start) * 1000
    path = without_keys(path)
    access_log.info(
        "%s %s %d %.1fms%s%s",
        method,
        path,
        status,
        ms,
        f" {source}" if source else "",
        f" {match} {cassette}" if match else "",
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(ms, 1),
            "source": source,
            "match": match,
            "cassette": cassette,
        },
    )


def _last(resp: web.StreamResponse, name: str) -> str | None:
    found = resp.headers.getall(name, None)
    return found[-1] if found else None
