"""The aiohttp application: routes every provider API through source, shaper and writer."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from llmreplay.config import Settings
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import hex_id
from llmreplay.model import Answer, Call
from llmreplay.providers import registry
from llmreplay.providers.base import Codec, RenderOptions, Route
from llmreplay.shaping.shaper import Shaper
from llmreplay.shaping.writer import Writer
from llmreplay.sources.synthetic import SyntheticSource

access_log = logging.getLogger("llmreplay.access")
log = logging.getLogger("llmreplay")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Runtime:
    """What the running app holds: settings, the source, the shaper and the writer."""

    settings: Settings
    source: SyntheticSource
    shaper: Shaper
    writer: Writer

    def rng_for(self, call: Call) -> random.Random:
        """The exchange's generator: seeded from the server seed and the call, or fresh."""
        seed = call.headers.get("x-llmreplay-seed")
        if seed is None and self.settings.synthetic.seed is not None:
            seed = str(self.settings.synthetic.seed)
        if seed is None:
            return random.Random()
        digest = hashlib.sha256(call.method.encode() + call.path.encode() + b"\0" + call.body).hexdigest()
        return random.Random(f"{seed}:{digest}")


RUNTIME = web.AppKey("llmreplay.runtime", Runtime)


def create_app(settings: Settings | None = None) -> web.Application:
    """The application for ``settings`` (the embedded defaults when None)."""
    settings = settings or Settings()
    app = web.Application(
        middlewares=[_access_log, _errors],
        client_max_size=int(settings.server.max_body_mb * 1024 * 1024),
    )
    app[RUNTIME] = Runtime(settings, SyntheticSource(settings.synthetic), Shaper(), Writer())
    for route in registry.routes():
        app.router.add_route(route.method, route.path, _handler(route))
    app.router.add_get("/health", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _call(request: web.Request) -> Call:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(ErrorKind.REQUEST_TOO_LARGE, "Request body is too large.") from None
    return _call_of(request, body)


def _call_of(request: web.Request, body: bytes = b"") -> Call:
    return Call(
        method=request.method,
        path=request.path,
        params=dict(request.match_info),
        query=dict(request.query),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def _handler(route: Route) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        t0 = asyncio.get_running_loop().time()
        try:
            call = await _call(request)
        except ApiError as err:
            return await rt.writer.send(request, route.codec.render_error(err, RenderOptions()), t0)
        rng = rt.rng_for(call)
        opts = RenderOptions(
            chunk_size=rt.settings.latency.chunk_size, request_id=hex_id(rng), seed=rng.getrandbits(32)
        )
        ex = Exchange(call, route, t0, rng, rt.settings.latency, opts)
        try:
            answer = rt.shaper.admit(ex) or rt.shaper.shape(ex, _answer(rt, ex))
        except ApiError as err:
            answer = route.codec.render_error(err, opts)
        return await rt.writer.send(request, answer, t0)

    return handle


def _answer(rt: Runtime, ex: Exchange) -> Answer:
    route = ex.route
    if route.op is not None:
        return route.op(ex.call, ex.opts)
    ex.request = route.codec.parse_request(ex.call)
    reply = rt.source.reply(ex.request, ex.rng)
    return route.codec.render(reply, ex.request, ex.opts)


def _codec_for(request: web.Request) -> Codec:
    return registry.guess_codec(_call_of(request))


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure the client can see is in its provider's envelope; never a traceback."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        err = registry.not_found(_call_of(request))
    except web.HTTPMethodNotAllowed as exc:
        err = ApiError(
            ErrorKind.METHOD_NOT_ALLOWED,
            f"Method {request.method} is not allowed on {request.path}; use {', '.join(sorted(exc.allowed_methods))}.",
        )
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unexpected error answering %s %s", request.method, request.path)
        err = ApiError(ErrorKind.SERVER, "The server had an error while processing your request.")
    answer = _codec_for(request).render_error(err, RenderOptions())
    return web.Response(status=answer.status, headers=dict(answer.headers), body=answer.body)


@web.middleware
async def _access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One line per request: method, path (never the query: it may hold a key), status, duration."""
    start = time.perf_counter()
    status = 500
    try:
        resp = await handler(request)
        status = resp.status
        return resp
    finally:
        if not request.app[RUNTIME].settings.server.quiet:
            ms = (time.perf_counter() - start) * 1000
            access_log.info("%s %s %d %.1fms", request.method, request.path, status, ms)
