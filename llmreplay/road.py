"""The one road every API call takes, whatever answers it:

    parse → admission (outcome, quota, scenario step: decided once) → source → shaper stages → writer → observers

Admission comes before any source is asked, so a request that is refused (an injected fault, a rate limit)
uses up no recording and reaches no upstream; a forwarded or replayed answer is shaped, timed, written,
counted and told like a synthetic one. The sources and their order are the runtime's
(:meth:`llmreplay.sources.deck.Deck.sources`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable

from aiohttp import web

from llmreplay import arrival
from llmreplay.codec import RenderOptions, Route
from llmreplay.configmodels import LatencyConfig
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import hex_id
from llmreplay.model import Answer, Call, Wire
from llmreplay.observers import NOTHING_DONE, Done
from llmreplay.providers import registry
from llmreplay.providers.registry import api_key_of
from llmreplay.runtime import RUNTIME, Runtime
from llmreplay.shaping.directives import SETTLED_HERE, Directives, parse_headers
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.scenarios import UnknownScenario
from llmreplay.shaping.writer import clock
from llmreplay.synth.tokens import prompt_tokens

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def handler(route: Route | None) -> Handler:
    """The handler of ``route``; None for the paths no codec knows (replayed or forwarded byte for byte)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        t0 = arrival.start_of(request)
        answer, later, settled = await _prepare(rt, request, route, t0)
        rt.writer.poll()
        # Counted from here: everything before is a few hundred microseconds of CPU, not waiting.
        stream = answer.stream
        endpoint = later.endpoint if isinstance(later, Done) else later.route.endpoint
        rt.observers.started(endpoint, request.method, request.path, stream)
        status = 0 if answer.cut is not None and answer.cut.before_headers else answer.status
        marks: dict[str, float] = {}
        sending = rt.writer.send(request, answer, t0, marks)
        del answer  # a held stream's frames are the writer's alone, let go of as they are sent
        try:
            return await sending
        finally:
            done = later if isinstance(later, Done) else _done(later)
            rt.observers.finished(done, status, stream, marks, t0, clock())
            rt.writer.poll()
            if settled is not None:
                await settled

    return handle


async def _prepare(
    rt: Runtime, request: web.Request, route: Route | None, t0: float
) -> tuple[Answer, Done | Exchange, asyncio.Future[None] | None]:
    """Everything before the first byte: the answer and what the observers will need of it (or, for a request
    read after its answer is sent, the exchange to read it from then)."""
    wire = rt.deck is not None and rt.deck.proxy is not None
    try:
        call = await _call(request, wire)
    except ApiError as err:
        codec = route.codec if route is not None else registry.guess_codec(call_of(request))
        done = dataclasses.replace(NOTHING_DONE, endpoint=_endpoint(route))
        return codec.render_error(err, RenderOptions()), done, None
    verbatim = route is None
    if route is None:
        route = Route(call.method, call.path, "other", registry.guess_codec(call), op=None)
    rng = rt.rng_for(call)
    opts = RenderOptions(chunk_size=rt.settings.latency.chunk_size, request_id=hex_id(rng), seed=rng.getrandbits(32))
    cfg = rt.live.for_endpoint(route.endpoint)
    ex = Exchange(call, route, t0, rng, cfg.latency, opts, config=cfg, verbatim=verbatim)
    rt.writer.poll()
    try:
        answer = await _answer(rt, ex)
    except ApiError as err:
        answer = route.codec.render_error(err, ex.opts)
    return answer, ex if ex.read_later else _done(ex), ex.settled


def _endpoint(route: Route | None) -> str:
    return route.endpoint if route is not None else "other"


async def _answer(rt: Runtime, ex: Exchange) -> Answer:
    """Parse, admit, ask the sources, shape: everything up to the first byte."""
    call = ex.call
    ex.directives = d = parse_headers(call.headers)
    ex.latency = _latency(ex.latency, d)
    if ex.latency.chunk_size != ex.opts.chunk_size:
        ex.opts = dataclasses.replace(ex.opts, chunk_size=ex.latency.chunk_size)
    _read(rt, ex)
    # Admission, decided once and before any source: nothing is used up for a request that is refused.
    ex.outcome = d.outcome or await _scenario_step(rt, d) or rt.draw(ex.config.failures)
    ex.api_key = api_key_of(call.headers, call.query)
    await _take_quota(rt, ex)
    early = rt.shaper.admit(ex)
    if early is not None:
        return early
    answer = await _source(rt, ex)
    try:
        rl = ex.config.rate_limit
        if ex.output_tokens and rl.enabled and rl.tokens_per_minute:
            await rt.state.charge(ex.route.endpoint, ex.api_key if rl.per_key else "", rl, ex.output_tokens)
        return rt.shaper.shape(ex, answer)
    except BaseException:
        if answer.live is not None:
            answer.live.close(drain=False)  # no writer will read it: let the source let go of its upstream
        raise


def _read(rt: Runtime, ex: Exchange) -> None:
    """The neutral request, where the route's codec reads one. A request it cannot read is the provider's own
    400, unless a recording or the upstream may answer it (their answer to a bad request is the real one)."""
    route = ex.route
    if ex.verbatim or route.op is not None:
        return
    if rt.forwards_first and not ex.config.rate_limit.enabled:
        # Straight upstream, and no quota to weigh it against: reading it can wait until the answer is out.
        ex.read_later = True
        return
    try:
        ex.request = route.codec.parse_request(ex.call)
    except ApiError as err:
        if rt.deck is None:
            raise
        ex.unreadable = err


async def _source(rt: Runtime, ex: Exchange) -> Answer:
    """The first source, in the runtime's order, that has an answer gives it."""
    for source in rt.sources:
        play = source.find(ex)
        if play is not None:
            ex.source = source.name
            return await play()
    if ex.unreadable is not None:
        raise ex.unreadable
    assert rt.deck is not None  # the synthetic source answers every readable call
    raise rt.deck.cassette.miss_error(ex.call, verbatim=ex.verbatim)


async def _take_quota(rt: Runtime, ex: Exchange) -> None:
    rl = ex.config.rate_limit
    if not rl.enabled:
        return
    tokens = input_tokens(ex) if rl.tokens_per_minute else 0
    key = ex.api_key if rl.per_key else ""
    ex.admission = await rt.state.admit(ex.route.endpoint, key, rl, tokens)


def input_tokens(ex: Exchange) -> int:
    """The request's prompt tokens, counted at most once per exchange (a pass over the whole prompt)."""
    if ex.input_tokens is None:
        ex.input_tokens = prompt_tokens(ex.request) if ex.request is not None else 0
    return ex.input_tokens


def _done(ex: Exchange) -> Done:
    if ex.read_later and ex.request is None:
        # The upstream had its say on a request its codec cannot read; the observers go without its model.
        with contextlib.suppress(ApiError):
            ex.request = ex.route.codec.parse_request(ex.call)
    req = ex.request
    model = req.model if req is not None else None
    return Done(ex.route.endpoint, model, input_tokens(ex), ex.output_tokens, ex.denied, ex.outcome)


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


async def _call(request: web.Request, wire: bool) -> Call:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(ErrorKind.REQUEST_TOO_LARGE, "Request body is too large.") from None
    # The outcome directives are settled on this road: an upstream (an llmreplay, say) does not act on them again.
    return call_of(request, body, wire, leave_out=SETTLED_HERE)


def call_of(
    request: web.Request, body: bytes = b"", wire: bool = False, leave_out: frozenset[str] = frozenset()
) -> Call:
    """The call, free of aiohttp; ``wire`` keeps it as it came too (less the ``leave_out`` headers, lower-case
    names), for an upstream and its recording."""
    kept = None
    if wire:
        url = request.rel_url
        qs = url.raw_query_string
        target = url.raw_path + ("?" + qs if qs else "")
        headers = tuple((k, v) for k, v in request.headers.items() if k.lower() not in leave_out)
        kept = Wire(target, headers, tuple(request.query.items()))
    return Call(
        method=request.method,
        path=request.path,
        params=dict(request.match_info),
        query=dict(request.query),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        wire=kept,
    )
