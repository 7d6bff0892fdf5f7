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
import random
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from llmreplay import arrival, offload
from llmreplay.catalogue import limits
from llmreplay.codec import RenderOptions, Route
from llmreplay.configmodels import LatencyConfig
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import hex_id
from llmreplay.labels import labels
from llmreplay.model import Answer, Call, Request, Wire
from llmreplay.observers import NOTHING_DONE, Done
from llmreplay.providers import registry
from llmreplay.providers.registry import api_key_of
from llmreplay.runtime import RUNTIME, Runtime
from llmreplay.shaping.directives import NONE, SETTLED_HERE, TEST_ID, Directives, parse_headers, passed_on
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.scenarios import UnknownScenario
from llmreplay.shaping.timing import load_factor
from llmreplay.shaping.writer import clock
from llmreplay.sources.cassette import match_of
from llmreplay.synth.tokens import prompt_tokens

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MATCH = web.RequestKey("llmreplay.match", str)
"""What the access log says of the call's cassette: ``hit``, ``recorded`` or ``miss`` (:func:`match_of`)."""
STRICT_MISS = (
    "llmreplay strict mode: no rule and no recording answers this request (x-llmreplay-strict is set; "
    "add a rule with PUT /api/rules or record a cassette)."
)


def handler(route: Route | None) -> Handler:
    """The handler of ``route``; None for the paths no codec knows (replayed or forwarded byte for byte)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        handed = arrival.handed(request)
        if handed is None:
            t0 = arrival.start_of(request)
            answer, later, settled = await _prepare(rt, request, route, t0)
        else:  # begun in the express lane (llmreplay.lane), which cannot write this answer at once
            t0, begun = handed
            answer, later, settled = await begun
        rt.writer.poll()
        # Counted from here: everything before is a few hundred microseconds of CPU, not waiting.
        stream = answer.stream
        endpoint = later.endpoint if isinstance(later, Done) else later.route.endpoint
        rt.observers.started(endpoint, request.method, request.path, stream, route.key if route is not None else None)
        status = 0 if answer.cut is not None and answer.cut.before_headers else answer.status
        marks: dict[str, float] = {}
        match = match_of(later.answered_by)
        if match is not None:
            request[MATCH] = match
        sending = rt.writer.send(request, answer, t0, marks, labels(later))
        del answer  # a held stream's frames are the writer's alone, let go of as they are sent
        try:
            return await sending
        finally:
            if (
                not isinstance(later, Done)
                and later.read_later
                and later.request is None
                and offload.is_big(later.call)
            ):
                await _read_late(later)
            done = later if isinstance(later, Done) else done_of(later)
            rt.observers.finished(done, status, stream, marks, t0, clock())
            rt.writer.poll()
            if settled is not None:
                await settled

    return handle


Prepared = tuple[Answer, Done | Exchange, asyncio.Future[None] | None]
"""An answer and what the observers will need of it (or, for a request read after its answer is sent, the
exchange to read it from then), and what the handler waits for after the last byte."""


async def _prepare(rt: Runtime, request: web.Request, route: Route | None, t0: float) -> Prepared:
    """Everything before the first byte, from the request as aiohttp gives it."""
    wire = rt.deck is not None and rt.deck.proxy is not None
    try:
        call = await _call(request, wire)
    except ApiError as err:
        bare = call_of(request)
        codec = route.codec if route is not None else registry.guess_codec(bare)
        endpoint = route.endpoint if route is not None else "other"
        entry = rt.observers.opened(bare, endpoint, t0, test_id_of(bare.headers))
        done = dataclasses.replace(NOTHING_DONE, endpoint=endpoint, entry=entry, source="error")
        return codec.render_error(err, RenderOptions()), done, None
    return await prepare(rt, call, route, t0)


async def prepare(rt: Runtime, call: Call, route: Route | None, t0: float, request: Request | None = None) -> Prepared:
    """Everything before the first byte, from the call read whole (the handler's, or the express lane's, which
    has read its ``request`` already)."""
    verbatim = route is None
    if route is None:
        route = Route(call.method, call.path, "other", registry.guess_codec(call), op=None)
    # A seeded generator hashes the whole body: ~0.2 s for 30 MB, off the loop with the body's reading.
    rng = await offload.run(rt.rng_for, call) if offload.is_big(call) else rt.rng_for(call)
    opts = options(rt, rng)
    # The finer key where the original server configured one endpoint's calls apart (Gemini's generate, stream).
    cfg = rt.live.for_endpoint(route.config_key)
    ex = Exchange(call, route, t0, rng, cfg.latency, opts, request=request, config=cfg, verbatim=verbatim)
    ex.test_id = test_id_of(call.headers)
    rt.writer.poll()
    try:
        answer = await _answer(rt, ex)
    except ApiError as err:
        answer = route.codec.render_error(err, ex.opts)
        if ex.source is None:
            ex.source = "error"
    ex.entry = rt.observers.opened(call, route.endpoint, t0, ex.test_id, ex)
    if ex.entry is not None:
        ex.entry.family = ex.family
    return answer, ex if ex.read_later else done_of(ex), ex.settled


def options(rt: Runtime, rng: random.Random) -> RenderOptions:
    """An answer's render options: the first draws of every exchange (:func:`first_draws`)."""
    request_id, seed = first_draws(rng)
    return RenderOptions(chunk_size=rt.settings.latency.chunk_size, request_id=request_id, seed=seed)


def first_draws(rng: random.Random) -> tuple[str, int]:
    """The request id and the codec's seed: every exchange's first draws, before its source's (which
    :mod:`llmreplay.drawn` repeats for an unseeded answer drawn again)."""
    return hex_id(rng), rng.getrandbits(32)


async def _answer(rt: Runtime, ex: Exchange) -> Answer:
    """Parse, admit, ask the sources, shape: everything up to the first byte."""
    call = ex.call
    if not ex.config.enabled:
        # Before anything is read, matched or counted against a quota: the endpoint is not there to ask.
        ex.source = "disabled"
        return rt.shaper.refuse(ex, ex.route.codec.render_error(_disabled(ex.route.config_key), ex.opts))
    ex.directives = d = parse_headers(call.headers)
    stored = await rt.responses.serve(ex)
    if stored is not None:
        ex.source = "stored"  # a kept Responses object (retrieve, delete, input items): no model is asked
        return stored
    await _read(rt, ex)
    await rt.responses.continue_from(ex)
    if ex.request is not None:
        ex.family = rt.catalogue.lookup(ex.request.model)
    # A scripted reply is looked for first: its outcome is admission's, and its latency the exchange's.
    hit = rt.rules.match(ex)
    if hit.makes_reply if hit is not None and hit.has_reply else rt.sources[0].name == "synthetic":  # made here
        limits.enforce(rt.settings.models.enforce_limits, ex.family, ex.request, lambda: input_tokens(ex))
    ex.latency = lat = _latency(ex.latency, d, hit.latency if hit is not None else None)
    if lat.chunk_size != ex.opts.chunk_size:
        ex.opts = dataclasses.replace(ex.opts, chunk_size=lat.chunk_size)
    if lat.load_degradation:
        # Taken once, here: the endpoint's answers being sent (the metrics' own count), and this one.
        ex.load = load_factor(lat, rt.metrics.active(ex.route.endpoint) + 1)
    # Admission, decided once and before any source: nothing is used up for a request that is refused.
    ruled = hit.outcome if hit is not None else None
    ex.outcome = d.outcome or ruled or await _scenario_step(rt, d, ex.test_id) or rt.draw(ex.config.failures, ex)
    await _take_quota(rt, ex)
    early = rt.shaper.admit(ex)
    if early is not None:
        if hit is not None and ruled is not None and ex.outcome is ruled and not ex.denied:
            hit.take()  # the rule's own outcome answered: its step is used
            ex.source, ex.answered_by = "rule", {"rule": hit.rule, "step": hit.step}
        else:
            ex.source = "rate-limit" if ex.denied else "fault"
        return early
    if hit is not None and hit.has_reply:
        hit.take()
        answer = await hit.play(ex)
    else:
        if hit is not None:
            hit.take()  # an outcome alone (a stream cut, a stall): the content is the other sources'
        answer = await _source(rt, ex)
        if hit is not None:
            ex.source, ex.answered_by = "rule", {"rule": hit.rule, "step": hit.step, "content": ex.source}
    try:
        rl = ex.config.rate_limit
        if ex.output_tokens and rl.enabled and rl.tokens_per_minute:
            await rt.state.charge(ex.route.config_key, ex.api_key if rl.per_key else "", rl, ex.output_tokens)
        shape = rt.shaper.shape  # a stream of many frames is timed off the loop (issue 19, case 7)
        shaped = shape(ex, answer) if offload.few_frames(answer) else await offload.run(shape, ex, answer)
        return await rt.responses.keep(ex, answer, shaped)
    except BaseException:
        if answer.live is not None:
            answer.live.close(drain=False)  # no writer will read it: let the source let go of its upstream
        raise


async def _read(rt: Runtime, ex: Exchange) -> None:
    """The neutral request, where the route's codec reads one. A request it cannot read is the provider's own
    400, unless a recording or the upstream may answer it (their answer to a bad request is the real one)."""
    route = ex.route
    if ex.verbatim or route.op is not None or ex.request is not None:
        return
    cfg = ex.config
    if rt.forwards_first and not cfg.rate_limit.enabled and not cfg.failures.stream_interrupt_rate:
        # Straight upstream, with no quota to weigh it against and no stream to interrupt: reading it can wait
        # until the answer is out.
        ex.read_later = True
        return
    try:
        if offload.is_big(ex.call):
            ex.request, ex.input_tokens = await offload.run(offload.read, route.codec, ex.call)
        else:
            ex.request = route.codec.parse_request(ex.call)
    except ApiError as err:
        if rt.deck is None:
            raise
        ex.unreadable = err


async def _source(rt: Runtime, ex: Exchange) -> Answer:
    """The first source, in the runtime's order, that has an answer gives it. In strict mode only a recording
    may: a request no rule or recording answers is the client's 400, which the test's teardown reports."""
    strict = ex.directives.strict
    if rt.deck is not None:
        rt.deck.check_name(ex.call.headers)
    for source in rt.sources:
        if strict and source.name != "cassette":
            continue
        play = source.find(ex)
        if play is not None:
            if source.name == "synthetic" and source is not rt.sources[0]:  # a recording missed: made here
                limits.enforce(rt.settings.models.enforce_limits, ex.family, ex.request, lambda: input_tokens(ex))
            ex.source = source.name
            missed = ex.answered_by
            answer = await play()
            if source.name == "upstream" and rt.deck is not None:
                rt.deck.forwarded(ex, missed)
            return answer
    if ex.unreadable is not None:
        raise ex.unreadable
    if rt.deck is not None:
        raise rt.deck.cassette.miss_error(ex.call, verbatim=ex.verbatim)
    assert strict  # the synthetic source answers every readable call
    raise ApiError(ErrorKind.INVALID_REQUEST, STRICT_MISS, param="x-llmreplay-strict")


async def _take_quota(rt: Runtime, ex: Exchange) -> None:
    rl = ex.config.rate_limit
    if not rl.enabled:
        return
    tokens = input_tokens(ex) if rl.tokens_per_minute else 0
    if rl.per_key:  # the credential's digest (a sha256) only where a quota is kept per key
        ex.api_key = api_key_of(ex.call.headers, ex.call.query)
    ex.admission = await rt.state.admit(ex.route.config_key, ex.api_key if rl.per_key else "", rl, tokens)


def input_tokens(ex: Exchange) -> int:
    """The request's prompt tokens, counted at most once per exchange (a pass over the whole prompt)."""
    if ex.input_tokens is None:
        ex.input_tokens = prompt_tokens(ex.request) if ex.request is not None else 0
    return ex.input_tokens


async def _read_late(ex: Exchange) -> None:
    """A big request read once its answer is out (see :func:`_read`), off the loop as :func:`_read` reads one."""
    with contextlib.suppress(ApiError):
        ex.request, ex.input_tokens = await offload.run(offload.read, ex.route.codec, ex.call)


def done_of(ex: Exchange) -> Done:
    if ex.read_later and ex.request is None:
        # The upstream had its say on a request its codec cannot read; the observers go without its model.
        with contextlib.suppress(ApiError):
            ex.request = ex.route.codec.parse_request(ex.call)
    req = ex.request
    model = req.model if req is not None else None
    return Done(
        ex.route.endpoint,
        model,
        input_tokens(ex),
        ex.output_tokens,
        ex.denied,
        ex.outcome,
        ex.source,
        ex.answered_by,
        ex.reply,
        ex.entry,
        ex.route.key,
        ex.call.method,
        ex.call.path,
        ex.family,
        ex.tokens_later,
    )


async def _scenario_step(rt: Runtime, d: Directives, test_id: str | None) -> Outcome | None:
    if d.scenario is None:
        return None
    # A test's cursor is its own: tests sharing one server and one scenario key do not advance each other's.
    key = d.scenario_key if test_id is None else f"{test_id}\0{d.scenario_key or ''}"
    try:
        return await rt.state.scenario_next(d.scenario, key)
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


def _latency(base: LatencyConfig, d: Directives, ruled: Mapping[str, float] | None) -> LatencyConfig:
    """The exchange's latency: the endpoint's, then a rule's, then the request's own headers."""
    if d is NONE and not ruled:
        return base
    update = dict(ruled) if ruled else {}
    for k, v in (
        ("initial_delay_ms", d.ttft_ms),
        ("delay_ms", d.gap_ms),
        ("jitter_ms", d.jitter_ms),
        ("chunk_size", d.chunk_size),
    ):
        if v is not None:
            update[k] = v
    return base.model_copy(update=update) if update else base


def _disabled(endpoint: str) -> ApiError:
    """What a switched-off endpoint answers: a 404, which no SDK retries (see docs/shaping.md)."""
    return ApiError(
        ErrorKind.NOT_FOUND,
        f"The {endpoint} endpoint is switched off on this llmreplay server (enabled: false in its configuration); "
        "the admin API switches it back on: PATCH /api/config/global or /api/config/endpoints/<endpoint> with "
        '{"enabled": true}.',
        code="endpoint_disabled",
    )


def test_id_of(headers: Mapping[str, str]) -> str | None:
    """The test a call belongs to, where it names one."""
    return headers.get(TEST_ID) or None


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
        kept = Wire(target, passed_on(request.headers.items(), leave_out), tuple(request.query.items()))
    return Call(
        method=request.method,
        path=request.path,
        params=dict(request.match_info),
        query=dict(request.query),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        wire=kept,
    )
