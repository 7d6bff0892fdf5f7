"""The aiohttp application: routes every provider API through source, shaper and writer."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from llmreplay import arrival, limits
from llmreplay.config import Settings
from llmreplay.control import admin, dashboard
from llmreplay.control.live import LatencyConfig
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import hex_id
from llmreplay.metrics import prometheus
from llmreplay.model import Answer, Call, Request, ToolChoice
from llmreplay.providers import registry
from llmreplay.providers.base import Codec, RenderOptions, Route
from llmreplay.runtime import RUNTIME, Runtime, build_runtime
from llmreplay.shaping.directives import Directives, parse_headers
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.ratelimit.quotas import api_key_of
from llmreplay.shaping.scenarios import UnknownScenario
from llmreplay.shaping.writer import clock
from llmreplay.sources.deck import Deck
from llmreplay.synth.tokens import prompt_tokens

access_log = logging.getLogger("llmreplay.access")
log = logging.getLogger("llmreplay")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def create_app(settings: Settings | None = None) -> web.Application:
    """The application for ``settings`` (the embedded defaults when None)."""
    settings = settings or Settings()
    app = web.Application(
        middlewares=[_front(settings.server.body_timeout_s)],
        client_max_size=int(settings.server.max_body_mb * 1024 * 1024),
    )
    app[RUNTIME] = build_runtime(settings)
    limits.redact_parser_errors()
    for route in registry.routes():
        app.router.add_route(route.method, route.path, _handler(route))
    app.on_startup.append(_start_state)
    app.on_cleanup.append(_close_state)
    app.cleanup_ctx.append(_lateness_to_metrics)
    admin.add_routes(app)
    dashboard.add_routes(app)
    prometheus.add_routes(app)
    app.router.add_get("/health", _health)
    if app[RUNTIME].deck is not None:
        # Paths no codec knows (/v1/files, /v1/responses/{id} …) are replayed or forwarded verbatim.
        app.router.add_route("*", "/{tail:.*}", _verbatim)
        app.on_cleanup.append(_close_deck)
    return app


async def _start_state(app: web.Application) -> None:
    rt = app[RUNTIME]
    await rt.state.start(rt.live)


async def _lateness_to_metrics(app: web.Application) -> AsyncIterator[None]:
    """Once a second, the scheduler's lateness counts go into the metrics (a scrape takes them too), so that
    under ``--workers`` every worker's count is in the shared files whichever worker answers the scrape."""
    rt = app[RUNTIME]

    async def every_second() -> None:
        while True:
            await asyncio.sleep(1.0)
            rt.metrics.frame_lateness(*rt.writer.take_lateness())

    task = asyncio.ensure_future(every_second())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _close_state(app: web.Application) -> None:
    await app[RUNTIME].state.close()


async def _close_deck(app: web.Application) -> None:
    deck = app[RUNTIME].deck
    if deck is not None:
        await deck.close()


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


def _latency(base: LatencyConfig, d: Directives) -> LatencyConfig:
    update = {
        k: v
        for k, v in (
            ("initial_delay_ms", d.ttft_ms),
            ("delay_ms", d.gap_ms),
            ("jitter_ms", d.jitter_ms),
            ("chunk_size", d.chunk_size),
        )
        if v is not None
    }
    return base.model_copy(update=update) if update else base


def _handler(route: Route) -> Handler:
    endpoint = route.endpoint

    async def handle(request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        t0 = arrival.start_of(request)
        prepared = await _prepare(rt, request, route, t0)
        if isinstance(prepared, web.StreamResponse):
            return prepared  # forwarded upstream
        answer, done = prepared
        rt.writer.poll()
        # Counted from here: everything before is a few hundred microseconds of CPU, not waiting.
        stream = answer.stream
        rt.metrics.started(endpoint, stream=stream)
        rt.events.publish("request.start", endpoint=endpoint, method=request.method, path=request.path, stream=stream)
        status = 0 if answer.cut is not None and answer.cut.before_headers else answer.status
        marks: dict[str, float] = {}
        sending = rt.writer.send(request, answer, t0, marks)
        del prepared, answer  # a held stream's frames are the writer's alone, let go of as they are sent
        try:
            return await sending
        finally:
            _record(rt, endpoint, done, status, stream, marks, t0, clock())
            rt.writer.poll()

    return handle


@dataclass(frozen=True, slots=True)
class _Done:
    """What the metrics and the event log need of an answered exchange. Kept while its stream is held instead
    of the exchange itself, whose call and request (and a seeded exchange's 2.5 KiB generator) are kilobytes."""

    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    denied: bool = False
    outcome: Outcome | None = None


_NOTHING_DONE = _Done()


def _done(ex: Exchange) -> _Done:
    req = ex.request
    model = req.model if req is not None else None
    return _Done(model, _input_tokens(ex), ex.output_tokens, ex.denied, ex.outcome)


def _input_tokens(ex: Exchange) -> int:
    """The request's prompt tokens, counted at most once per exchange (a pass over the whole prompt)."""
    if ex.input_tokens is None:
        ex.input_tokens = prompt_tokens(ex.request) if ex.request is not None else 0
    return ex.input_tokens


async def _prepare(
    rt: Runtime, request: web.Request, route: Route, t0: float
) -> tuple[Answer, _Done] | web.StreamResponse:
    """Everything before the first byte: the answer and what the metrics will need of it (or, forwarded, the
    upstream's response)."""
    try:
        call = await _call(request)
    except ApiError as err:
        return route.codec.render_error(err, RenderOptions()), _NOTHING_DONE
    deck = rt.deck
    if deck is not None and deck.plan() == "forward":
        return await _forward(rt, request, route, t0)
    rng = rt.rng_for(call)
    opts = RenderOptions(chunk_size=rt.settings.latency.chunk_size, request_id=hex_id(rng), seed=rng.getrandbits(32))
    cfg = rt.live.for_endpoint(route.endpoint)
    ex = Exchange(call, route, t0, rng, cfg.latency, opts, config=cfg)
    rt.writer.poll()
    try:
        answer = await _answer(rt, ex)
    except ApiError as err:
        answer = route.codec.render_error(err, ex.opts)
    except _Forward:
        return await _forward(rt, request, route, t0)
    return answer, _done(ex)


async def _answer(rt: Runtime, ex: Exchange) -> Answer:
    """Parse, settle the outcome, take the quota, answer, shape: everything up to the first byte."""
    call, route = ex.call, ex.route
    ex.directives = d = parse_headers(call.headers)
    ex.latency = _latency(ex.latency, d)
    if ex.latency.chunk_size != ex.opts.chunk_size:
        ex.opts = dataclasses.replace(ex.opts, chunk_size=ex.latency.chunk_size)
    ex.outcome = d.outcome or await _scenario_step(rt, d)
    ex.api_key = api_key_of(call.headers, call.query)
    if rt.deck is None and route.op is None:
        ex.request = route.codec.parse_request(call)
    elif rt.deck is not None:
        recorded = _replay(rt, rt.deck, ex)
        if recorded is not None:
            await _take_quota(rt, ex)
            return rt.shaper.admit(ex) or rt.shaper.shape(ex, recorded)
    await _take_quota(rt, ex)
    answer = _synthetic(rt, ex)
    rl = ex.config.rate_limit
    if ex.output_tokens and rl.enabled and rl.tokens_per_minute and not ex.denied:
        await rt.state.charge(route.endpoint, ex.api_key if rl.per_key else "", rl, ex.output_tokens)
    return answer


async def _take_quota(rt: Runtime, ex: Exchange) -> None:
    rl = ex.config.rate_limit
    if not rl.enabled:
        return
    tokens = _input_tokens(ex) if rl.tokens_per_minute else 0
    key = ex.api_key if rl.per_key else ""
    ex.admission = await rt.state.admit(ex.route.endpoint, key, rl, tokens)


def _synthetic(rt: Runtime, ex: Exchange) -> Answer:
    route, d = ex.route, ex.directives
    if ex.request is not None:
        ex.request = _with_tool_choice(ex.request, d)
    early = rt.shaper.admit(ex)
    if early is not None:
        return early
    if route.op is not None:
        return rt.shaper.shape(ex, route.op(ex.call, ex.opts))
    assert ex.request is not None
    force = d.tool_call if isinstance(d.tool_call, bool) else None
    reply = rt.source.reply(ex.request, ex.rng, force, ex.input_tokens)
    ex.input_tokens, ex.output_tokens = reply.usage.input_tokens, reply.usage.output_tokens
    return rt.shaper.shape(ex, route.codec.render(reply, ex.request, ex.opts))


class _Forward(Exception):
    """Raised on a miss that the deck sends upstream."""


def _replay(rt: Runtime, deck: Deck, ex: Exchange) -> Answer | None:
    """The recorded answer (unshaped); None when a miss is to be answered synthetically."""
    call, route = ex.call, ex.route
    if route.op is None:
        try:
            ex.request = route.codec.parse_request(call)
        except ApiError:
            # The recording may hold the provider's own answer to this very request.
            ex.request = None
    cs = rt.settings.cassettes
    found = deck.replay.answer(call, route, ex.request, ex.opts, cs.speed, cs.timing)
    if found is not None:
        rt.events.publish("cassette.hit", endpoint=route.endpoint)
        return found
    rt.events.publish("cassette.miss", endpoint=route.endpoint, path=call.path)
    if deck.forwards_misses():
        raise _Forward
    if route.op is None and ex.request is None:
        route.codec.parse_request(call)  # a miss on a bad request: the provider's own 400 naming the field
    if cs.on_miss == "error":
        raise deck.replay.miss_error(call, deck.names)
    return None


async def _forward(
    rt: Runtime, request: web.Request, route: Route, t0: float, verbatim: bool = False
) -> web.StreamResponse:
    """Straight to the upstream and back as it arrives; the exchange is recorded by the deck.

    ``verbatim``: a path no codec knows; the route's codec only lends its error envelope.
    """
    assert rt.deck is not None and rt.deck.proxy is not None
    endpoint = route.endpoint
    rt.metrics.started(endpoint, stream=False)
    status = 502
    try:
        api = None if verbatim else route.codec.api
        resp = await rt.deck.proxy.handle(request, api, endpoint, route.codec)
        status = resp.status
        return resp
    finally:
        rt.metrics.finished(endpoint, status=status, stream=False, total_s=clock() - t0)


async def _verbatim(request: web.Request) -> web.StreamResponse:
    """A path no codec knows: replayed byte for byte, or forwarded, or a 404 naming the miss."""
    rt = request.app[RUNTIME]
    deck = rt.deck
    assert deck is not None
    t0 = arrival.start_of(request)
    call = await _call(request)
    codec = registry.guess_codec(call)
    route = Route(request.method, request.path, "other", codec, op=None)
    if deck.plan() == "forward":
        return await _forward(rt, request, route, t0, verbatim=True)
    cs = rt.settings.cassettes
    answer = deck.replay.answer(call, None, None, RenderOptions(), cs.speed, cs.timing)
    if answer is None:
        if deck.forwards_misses():
            return await _forward(rt, request, route, t0, verbatim=True)
        err = deck.replay.miss_error(call, deck.names)
        err.kind = ErrorKind.NOT_FOUND
        answer = codec.render_error(err, RenderOptions())
    return await rt.writer.send(request, answer, t0)


async def _scenario_step(rt: Runtime, d: Directives) -> Outcome | None:
    if d.scenario is None:
        return None
    try:
        return await rt.state.scenario_next(d.scenario, d.scenario_key)
    except UnknownScenario as exc:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"Unknown scenario @{exc.args[0]}; define it with PUT /api/scenarios/{exc.args[0]}.",
            param="x-llmreplay-scenario",
        ) from None
    except ValueError as exc:
        raise ApiError(
            ErrorKind.INVALID_REQUEST, f"Invalid header x-llmreplay-scenario: {exc}", param="x-llmreplay-scenario"
        ) from None


def _with_tool_choice(req: Request, d: Directives) -> Request:
    """A tool named by ``x-llmreplay-tool-call`` is forced, as a named tool choice would."""
    if not isinstance(d.tool_call, str):
        return req
    if not any(t.name == d.tool_call for t in req.tools):
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"Invalid header x-llmreplay-tool-call: no tool named {d.tool_call!r} in the request.",
            param="x-llmreplay-tool-call",
        )
    return dataclasses.replace(req, tool_choice=ToolChoice("required", (d.tool_call,)))


def _record(
    rt: Runtime,
    endpoint: str,
    done: _Done,
    status: int,
    stream: bool,
    marks: dict[str, float],
    t0: float,
    end: float,
) -> None:
    m, hub = rt.metrics, rt.events
    ttfb = marks["first"] - t0 if "first" in marks else None
    if ttfb is not None:
        m.first_byte(endpoint, ttfb)
    chunks = int(marks.get("chunks", 0))
    if chunks:
        m.chunks(endpoint, chunks)
    model = done.model
    if done.denied:
        m.denied(endpoint)
        hub.publish("rate_limited", endpoint=endpoint, model=model)
    if done.outcome is not None and not done.outcome.is_ok:
        m.fault(endpoint, done.outcome.name)
        hub.publish("fault", endpoint=endpoint, fault=done.outcome.text)
    tokens_in = done.input_tokens
    tokens_out = done.output_tokens if status < 400 else 0
    m.finished(
        endpoint,
        status=status,
        stream=stream,
        total_s=end - t0,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )
    if not hub.clients:
        return  # no dashboard watching: nothing to word
    hub.publish(
        "request.end",
        endpoint=endpoint,
        model=model,
        status=status,
        stream=stream,
        duration_ms=round((end - t0) * 1000, 2),
        ttfb_ms=None if ttfb is None else round(ttfb * 1000, 2),
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        chunks=chunks,
    )


def _codec_for(request: web.Request) -> Codec:
    """The codec of the route ``request`` matched (``/v1/messages`` is Anthropic's even without its headers);
    on no route, the one the call looks like."""
    resource = request.match_info.route.resource
    if resource is not None:
        found = _codecs_by_route().get((request.method, resource.canonical))
        if found is not None:
            return found
    return registry.guess_codec(_call_of(request))


@functools.cache
def _codecs_by_route() -> dict[tuple[str, str], Codec]:
    return {(r.method, r.path): r.codec for r in registry.routes()}


def _front(body_timeout_s: float) -> Middleware:
    """The one middleware every request goes through, outermost concern first: the access log, the error
    envelope, the admin token, the body deadline. One coroutine rather than four middlewares, because aiohttp
    wraps each middleware anew for every request."""

    @web.middleware
    async def front(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            try:
                resp = await _guarded(request, handler, body_timeout_s)
            except ApiError as exc:
                resp = _error_answer(request, exc)
            except web.HTTPNotFound:
                resp = _error_answer(request, registry.not_found(_call_of(request)))
            except web.HTTPMethodNotAllowed as exc:
                allowed = ", ".join(sorted(exc.allowed_methods))
                msg = f"Method {request.method} is not allowed on {request.path}; use {allowed}."
                resp = _error_answer(request, ApiError(ErrorKind.METHOD_NOT_ALLOWED, msg))
            except web.HTTPException:
                raise
            except Exception:
                log.exception("unexpected error answering %s %s", request.method, request.path)
                err = ApiError(ErrorKind.SERVER, "The server had an error while processing your request.")
                resp = _error_answer(request, err)
            status = resp.status
            return resp
        finally:
            if not request.app[RUNTIME].settings.server.quiet:
                _log_access(request, status, start)

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


def _log_access(request: web.Request, status: int, start: float) -> None:
    """One line per request: method, path (never the query: it may hold a key), status, duration."""
    ms = (time.perf_counter() - start) * 1000
    access_log.info(
        "%s %s %d %.1fms",
        request.method,
        request.path,
        status,
        ms,
        extra={"method": request.method, "path": request.path, "status": status, "duration_ms": round(ms, 1)},
    )
