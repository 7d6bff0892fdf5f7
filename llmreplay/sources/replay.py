"""The replay source: answers calls from recorded interactions.

A recording is written back as it came (status, headers, the exact bytes of every
event) with each frame due at its recorded offset divided by the speed (speed 0:
all at once), or with no times at all under synthetic timing so that the timing
stage applies the configured latency. When the call wants a stream and the
recording is a plain body, or the reverse, the recording goes through the neutral
model: the codec reads it into a :class:`Reply` and renders that in the shape the
call asked for.

Choice for a plain recording answering a stream call under recorded timing: the
rendered content frames are spread evenly so that the stream ends when the
recorded body arrived; the recording holds no finer timing to follow.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Iterable
from typing import Literal

from llmreplay.bounded import keep
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, LazyEvents, RecordedResponse
from llmreplay.cassettes.summary import reply_of
from llmreplay.codec import Codec, RenderOptions, Route
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call, Cut, Frame, Request, Usage, frame_of
from llmreplay.providers import registry
from llmreplay.providers.base import content_steps
from llmreplay.synth import tokens

Timing = Literal["recorded", "synthetic"]

log = logging.getLogger("llmreplay.cassettes")

DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"})
"""Recorded headers the server sets itself: the body is stored decoded and is re-framed on the way out."""

OWN_LABELS = "x-llmreplay-"
"""Labels an llmreplay upstream put on what it answered (request id, source, cassette): this server puts its own
on the replay, so a recorded one would come out twice, naming the wrong exchange."""

_CODEC_BY_API: dict[str, Codec] | None = None


def codec_for(api: str | None) -> Codec | None:
    """The generation codec named ``api`` (``openai-chat`` …), if there is one."""
    global _CODEC_BY_API
    if _CODEC_BY_API is None:
        _CODEC_BY_API = {r.codec.api: r.codec for r in registry.routes() if r.op is None}
    return None if api is None else _CODEC_BY_API.get(api)


def _scale(us: int, speed: float) -> float:
    return 0.0 if speed <= 0 else us / 1e6 / speed


def _headers(recorded: Iterable[tuple[str, str]], over: Iterable[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """Recorded headers minus the framing ones and llmreplay's labels; ``over`` (a codec's own) replaces same-named
    ones."""
    own = tuple(over)
    taken = {k.lower() for k, _ in own} | ({"content-type"} if own else set())
    kept = tuple(
        (k, v)
        for k, v in recorded
        if (low := k.lower()) not in DROPPED_HEADERS and low not in taken and not low.startswith(OWN_LABELS)
    )
    return own + kept


@functools.lru_cache(maxsize=1024)
def _recorded_headers(recorded: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """:func:`_headers` of a recording sent as it came, worked out once per set of headers (a load test replays the
    same few recordings again and again)."""
    return _headers(recorded)


PROXY_FAILURE_MARK = b"llmreplay record: upstream"
"""Text of the answer the recorder itself gave when upstream failed before answering
(``sources/record.py``); the client got that answer whole, so replay sends it whole."""


def _cut(resp: RecordedResponse, speed: float, timing: Timing) -> Cut | None:
    """How the recorded exchange failed upstream, as a cut the writer repeats.

    A timeout stalls: as long as recorded (then the connection closes), or until the
    client gives up under synthetic timing. Anything else drops the connection at the
    recorded end; ``client-disconnect`` (the recording client left) just closes it.
    """
    if resp.error is None or (resp.body is not None and PROXY_FAILURE_MARK in resp.body):
        return None
    before = resp.status == 0
    at = None if timing == "synthetic" else _scale(resp.end_us, speed)
    if resp.error == "timeout":
        return Cut("hang", at=at, before_headers=before)
    return Cut("close" if resp.error == "client-disconnect" else "reset", at=at, before_headers=before)


class ReplaySource:
    """Answers calls from an :class:`Index` of recorded interactions."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def answer(
        self,
        call: Call,
        route: Route | None,
        codec_request: Request | None,
        opts: RenderOptions,
        speed: float = 1.0,
        timing: Timing = "recorded",
    ) -> Answer | None:
        """The recorded answer to ``call``, or None on a miss (the caller applies the miss policy)."""
        # Which key a recording went under depends on the recorder knowing the path; try both.
        found = self.index.lookup(call)
        if found is None:
            return None
        return render(found, route, codec_request, opts, speed, timing)

    def miss_error(self, call: Call, cassettes: list[str]) -> ApiError:
        """The error a miss gets: names the cassettes and shows the closest recording and how it differs."""
        names = ", ".join(cassettes) if cassettes else "(none loaded)"
        msg = f"llmreplay: no recorded interaction in cassette(s) {names} matches {call.method.upper()} {call.path}."
        near = self.index.closest(call)
        if near is None:
            msg += " The cassette(s) hold no interactions."
            why = "they hold no interactions"
        else:
            req = near.interaction.request
            where = f"{req.method} {req.path} in cassette {near.cassette}"
            if near.differences:
                msg += f" Closest recorded request ({where}) differs in: " + "; ".join(near.differences) + "."
                # Field names only: the values are in the client's error, and may be long or personal.
                fields = ", ".join(dict.fromkeys(d.split(":", 1)[0] for d in near.differences))
                why = f"closest {near.cassette}#{self.index.position(near.interaction)} differs in {fields}"
            else:
                # Same key fields but every recording of it used up with repeat="none".
                msg += f" Closest recorded request ({where}) matches, but its recordings are used up."
                why = f"closest {near.cassette}#{self.index.position(near.interaction)} is used up"
        log.warning(
            "llmreplay: cassette miss: %s %s in cassette(s) %s: %s",
            call.method.upper(),
            call.path,
            names,
            why,
            extra={"match": "miss", "cassette": names},
        )
        return ApiError(ErrorKind.INVALID_REQUEST, msg, code="cassette_miss")


def render(
    it: Interaction,
    route: Route | None,
    codec_request: Request | None,
    opts: RenderOptions,
    speed: float,
    timing: Timing,
) -> Answer:
    """The answer an interaction gives to a call of the given shape."""
    resp = it.response
    problem = resp.unreadable()
    if problem is not None:
        where = f"{it.request.method} {it.request.path} recorded {it.recorded_at or 'at an unknown time'}"
        raise ApiError(ErrorKind.SERVER, f"llmreplay: the cassette's recording of {where} is unreadable: {problem}.")
    codec = codec_for(it.api)
    convertible = (
        codec is not None
        and route is not None
        and route.op is None
        and codec_request is not None
        and resp.error is None
        and 200 <= resp.status < 300
        and not _same_shape(codec, it, codec_request)
    )
    if convertible:
        assert codec is not None and codec_request is not None
        try:
            if resp.stream and not codec_request.stream:
                return _stream_to_body(codec, resp, codec_request, opts, speed, timing)
            return _to_stream(codec, resp, codec_request, opts, speed, timing)
        except (ValueError, KeyError, TypeError, IndexError, ApiError):
            pass  # a recording the codec cannot read is still worth sending as it was
    return as_recorded(resp, speed, timing, codec, opts)


def as_recorded(
    resp: RecordedResponse, speed: float, timing: Timing, codec: Codec | None = None, opts: RenderOptions | None = None
) -> Answer:
    """The recorded response as it came: same status, headers and bytes."""
    try:
        headers = _recorded_headers(resp.headers)
    except TypeError:  # a value that is not text (an imported cassette's list) cannot be kept by the headers
        headers = _headers(resp.headers)
    synthetic = timing == "synthetic"
    headers_at = 0.0 if synthetic else _scale(resp.headers_us, speed)
    cut = _cut(resp, speed, timing)
    if resp.events is not None:
        # One pass without a call per event (_scale written out: the same deadlines, bit for bit).
        if synthetic:
            frames = tuple([frame_of((data, None, True)) for _, data in resp.events])
        elif speed <= 0:
            frames = tuple([frame_of((data, 0.0, True)) for _, data in resp.events])
        else:
            frames = tuple([frame_of((data, at / 1e6 / speed, True)) for at, data in resp.events])
        return Answer(resp.status, headers, frames, stream=True, headers_at=headers_at, cut=cut)
    body = resp.body or b""
    steps = _steps(codec, body, opts) if synthetic else 1
    frame = Frame(body, at=None if synthetic else _scale(resp.end_us, speed))
    # A failed plain exchange is written like a stream so the cut can follow the partial body.
    return Answer(resp.status, headers, (frame,), stream=cut is not None, steps=steps, headers_at=headers_at, cut=cut)


def _steps(codec: Codec | None, body: bytes, opts: RenderOptions | None) -> int:
    """Content steps of a plain body, so synthetic latency matches the same answer streamed."""
    if codec is None:
        return 1
    try:
        return content_steps(codec.body_to_reply(body), (opts or RenderOptions()).chunk_size)
    except (ValueError, KeyError, TypeError, IndexError, ApiError):
        return 1


def _stream_to_body(
    codec: Codec, resp: RecordedResponse, req: Request, opts: RenderOptions, speed: float, timing: Timing
) -> Answer:
    reply = codec.events_to_reply(codec.parse_events(resp.raw))
    ans = codec.render(reply, dataclasses.replace(req, stream=False), opts)
    headers = _headers(resp.headers, ans.headers)
    if timing == "synthetic":
        return dataclasses.replace(ans, headers=headers)
    frame = Frame(ans.body, at=_scale(resp.end_us, speed))
    return dataclasses.replace(ans, headers=headers, frames=(frame,), headers_at=_scale(resp.end_us, speed))


def _same_shape(codec: Codec, it: Interaction, req: Request) -> bool:
    """Whether the recorded bytes are in the shape the call asked for (a stream's framing is the codec's to
    tell: Gemini's, say, depends on the query it was asked with)."""
    if it.response.stream != req.stream:
        return False
    return not req.stream or codec.same_framing(it.request.query, req)


def _to_stream(
    codec: Codec, resp: RecordedResponse, req: Request, opts: RenderOptions, speed: float, timing: Timing
) -> Answer:
    if resp.stream:
        reply = codec.events_to_reply(codec.parse_events(resp.raw))
    else:
        reply = codec.body_to_reply(resp.body or b"")
    ans = codec.render(reply, dataclasses.replace(req, stream=True), opts)
    headers = _headers(resp.headers, ans.headers)
    if timing == "synthetic":
        return dataclasses.replace(ans, headers=headers)
    return dataclasses.replace(ans, headers=headers, frames=spread(ans.frames, _scale(resp.end_us, speed)))


_TOKENS_KEPT = 8192
"""Recordings whose token counts are kept (each replay of one would otherwise parse its whole stream again)."""
WARM_KEPT = _TOKENS_KEPT // 2
"""At most this many are counted ahead (:func:`warm_tokens`), so that replays of others do not clear them at once."""
WARM_BUDGET_S = 1.0
"""How long a server starting may spend counting its recordings' tokens ahead."""
_tokens_seen: dict[int, tuple[Interaction, Usage | None]] = {}


def replayed_tokens(it: Interaction) -> Usage | None:
    """What a replayed answer counts in the metrics: the recorded usage, and where the recording has none (a
    stream asked without ``include_usage``) the estimate synthetic replies use for the same content; None for a
    recording with no reply to count (an error, a path no codec knows)."""
    kept = _tokens_seen.get(id(it))
    if kept is not None and kept[0] is it:
        return kept[1]
    usage = _final_usage(it)
    reply = reply_of(it) if usage is None else None
    if reply is not None:
        usage = reply.usage
        if not usage.output_tokens:
            out = sum(tokens.candidate_tokens(c)[0] for c in reply.candidates)
            usage = dataclasses.replace(usage, output_tokens=out)
    # The recording is kept with its count, so its id cannot be reused by another while the count is here.
    keep(_tokens_seen, id(it), (it, usage), _TOKENS_KEPT)
    return usage


def warm_tokens(interactions: Iterable[Interaction], budget_s: float = WARM_BUDGET_S) -> int:
    """Count ahead the tokens of recorded streams whose events are decoded already (a small cassette's, see
    :data:`~llmreplay.cassettes.store.EAGER_FILE_MAX`), at most :data:`WARM_KEPT` of them within ``budget_s``;
    returns how many. Counted when its replay ends instead, a stream recorded without usage is parsed whole
    (~0.2 ms for 40 events) on the loop among other streams' frames: 1,000 replays ending together spent 0.2 s so."""
    deadline = time.perf_counter() + budget_s
    counted = 0
    for it in interactions:
        events = it.response.events
        if events is None or (isinstance(events, LazyEvents) and not events.decoded):
            continue
        if counted >= WARM_KEPT or time.perf_counter() >= deadline:
            break
        try:
            replayed_tokens(it)
        except Exception:  # a recording the count trips on is counted (and the error logged) when it is replayed
            continue
        counted += 1
    return counted


TAIL_EVENTS = 3
"""A stream's usage is in its last events (OpenAI's usage chunk, Anthropic's message_delta, Gemini's last
usageMetadata, Responses' response.completed), each a running total: read first, it spares parsing the whole
stream (a 500-event stream: ~9 ms parsed whole, ~0.1 ms its tail)."""


def _final_usage(it: Interaction) -> Usage | None:
    """The usage a long recorded stream reports at its end, read from its last events alone; None when they
    hold none (a stream asked without usage, a codec that needs the whole stream to say)."""
    events, codec = it.response.events, codec_for(it.api)
    if codec is None or events is None or len(events) <= 2 * TAIL_EVENTS or not 200 <= it.response.status < 300:
        return None
    try:
        usage = codec.events_to_reply(codec.parse_events(b"".join(e.data for e in events[-TAIL_EVENTS:]))).usage
    except Exception:  # a tail the codec cannot read alone: the whole stream is read instead
        return None
    return usage if usage.output_tokens else None


def count_tokens(ex: Exchange, it: Interaction) -> None:
    """Give the exchange a replayed recording's tokens (:func:`replayed_tokens`), which the metrics, the dashboard
    and token quotas count as they count a synthetic reply's; the prompt's stays the estimate where none was
    recorded."""
    usage = replayed_tokens(it)
    if usage is not None:
        ex.output_tokens = usage.output_tokens
        if usage.input_tokens:
            ex.input_tokens = usage.input_tokens


def spread(frames: tuple[Frame, ...], end: float) -> tuple[Frame, ...]:
    """Paced frames evenly up to ``end``; bookkeeping frames ride with the paced frame before them
    (leading ones with the first)."""
    steps = sum(1 for f in frames if f.paced) or 1
    first = end / steps
    out: list[Frame] = []
    n = 0
    t = first
    for f in frames:
        if f.paced:
            n += 1
            t = end * n / steps
        out.append(Frame(f.data, at=t, paced=f.paced))
    return tuple(out)
