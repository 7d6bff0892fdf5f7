"""The upstream source: the real provider, asked live, its answer given back as it arrives.

The call goes upstream as the client sent it (credentials included; the road leaves out the outcome directives
it settles itself) and its answer becomes an :class:`Answer` like any other source's, so that admission, rate
limits, faults, metrics and events apply to it: a plain body once it is in, with its arrival time; a stream as
:class:`LiveFrames`, each network chunk a frame stamped with its arrival, written on by the writer as it comes.
Beside that, every chunk is kept with its arrival offset in a :class:`~llmreplay.sources.capture.Capture`;
when the upstream's answer is over the finished exchange goes to the sink (the recorder), scrubbed of secrets.
An answer longer than ``max_recording`` bytes is relayed whole but not kept: ``skipped`` is told instead.
The upstream is read to its end even when a fault cut the client's stream short, so a recording holds what the
upstream sent; a client that leaves ends the read (nobody pays for tokens no one reads).

Upstream failures reach the client as they happened (an unreachable upstream as a 502, a silent one as a 504,
a dropped connection as a dropped connection) and are recorded as such. The calls go through llmreplay's own
HTTP/1.1 client (:mod:`llmreplay.sources.client`), whose connections hand each chunk of a stream straight to the
client's relay (:mod:`llmreplay.shaping.relay`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace

from multidict import CIMultiDict
from yarl import URL

from llmreplay.cassettes.model import Interaction, RecordedRequest
from llmreplay.cassettes.scrub import Scrubber
from llmreplay.codec import Codec
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call, Cut, Frame, frame_of
from llmreplay.shaping.clock import clock
from llmreplay.sources.base import Play
from llmreplay.sources.capture import Capture, failure, is_stream, skip_header
from llmreplay.sources.client import Client
from llmreplay.sources.response import ChunkSink, Response, UpstreamError
from llmreplay.sources.sigv4 import resign
from llmreplay.sources.silence import Silence
from llmreplay.sources.upstreams import resolve_upstream
from llmreplay.urls import redacted

Sink = Callable[[Interaction], Awaitable[None]]
Skipped = Callable[[RecordedRequest, int], None]
"""Told of an exchange left unrecorded as too large: its request (scrubbed, without its body) and its size."""

_INLINE_BYTES = 256 << 10
"""Largest answer made into its record on the loop: cutting and scrubbing a larger one there (~10 ms a
thousand events) would hold every other client back, so it is done on a thread, which the loop takes the
GIL back from every few milliseconds. Smaller ones are done in place, cheaper than the hop to a thread."""

_DROP_UPSTREAM = frozenset({"accept-encoding"})
"""Upstream bodies must arrive as plain bytes so the recording is what a client decodes."""


class Upstream:
    """Forwards calls to one upstream base URL; every finished exchange goes to ``sink``."""

    name = "upstream"

    def __init__(
        self,
        upstream: str,
        sink: Sink,
        scrub: Scrubber,
        *,
        timeout: float = 600,
        max_recording: int = sys.maxsize,
        skipped: Skipped | None = None,
    ) -> None:
        self.upstream = resolve_upstream(upstream)
        self.shown = redacted(self.upstream)
        """The upstream as it may be shown or stored: a password in the URL (basic auth) as ``***``."""
        self.sink = sink
        self.scrub = scrub
        self.timeout = timeout
        self._silence = Silence(timeout)
        """Watches answers' bodies for a silent upstream, with one timer rather than one moved on every chunk."""
        self.max_recording = max_recording
        """Most bytes of an answer recorded; a longer one is relayed whole and not recorded."""
        self.skipped = skipped
        self._session: Client | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def find(self, ex: Exchange) -> Play | None:
        codec = ex.route.codec
        api = None if ex.verbatim else codec.api

        async def play() -> Answer:
            ex.settled = asyncio.get_running_loop().create_future()
            ex.answered_by = {"upstream": self.shown}
            return await self.forward(ex.call, ex.t0, codec, api, ex.route.endpoint, ex.settled)

        return play

    async def close(self) -> None:
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> Client:
        if self._session is None:
            self._session = Client()
        return self._session

    def target(self, call: Call) -> URL:
        """The upstream URL: base (with any path prefix) + the call's raw path and query."""
        raw = call.wire.target if call.wire is not None else call.path
        return URL(self.upstream + raw, encoded=True)

    async def forward(
        self,
        call: Call,
        t0: float,
        codec: Codec | None,
        api: str | None,
        endpoint: str = "other",
        settled: asyncio.Future[None] | None = None,
    ) -> Answer:
        """The upstream's answer to ``call`` (``t0``: its arrival on the writer's clock); ``settled`` is done once
        its record has gone to the sink."""
        sent = call.wire.headers if call.wire is not None else tuple(call.headers.items())
        headers = CIMultiDict((k, v) for k, v in sent if not skip_header(k) and k.lower() not in _DROP_UPSTREAM)
        headers["Accept-Encoding"] = "identity"
        target = self.target(call)
        resign(call.method, target, headers, call.body)
        recorded = RecordedRequest(
            method=call.method,
            path=call.path,
            query=call.wire.query if call.wire is not None else tuple(call.query.items()),
            headers=tuple((k.lower(), v) for k, v in sent if not skip_header(k)),
            body=call.body,
        )
        capture = Capture(recorded, api, endpoint, settled, self.max_recording)
        try:
            resp = await self._client().request(call.method, target, headers.items(), call.body, self.timeout)
        except UpstreamError as exc:
            return self._failed(capture, codec, exc.kind, exc)
        ctype = next((v for k, v in resp.headers if k.lower() == "content-type"), "")
        stream = is_stream(ctype, call.path)
        out = tuple((k, v) for k, v in resp.headers if not skip_header(k))
        capture.answered(resp.status, tuple((k.lower(), v) for k, v in out), ctype if stream else None)
        body = _Body(resp, capture, t0, self)
        # Whatever of the body came in with the headers leaves with them: one write, one wake-up of the client.
        first = body.ready()
        body.watch()
        if stream:
            return Answer(resp.status, out, first, stream=True, live=body)
        frames = list(first)
        try:
            async for frame in body:
                frames.append(frame)
        finally:
            body.close(drain=False)  # read to its end, or the handler was cancelled: either way, done with it
        whole = b"".join(f.data for f in frames)
        if body.cut is not None:
            # A plain body that broke off is written like a stream, so the cut follows the part that came.
            return Answer(resp.status, out, (Frame(whole, at=clock() - t0),), stream=True, cut=body.cut)
        return Answer(resp.status, out, (Frame(whole, at=clock() - t0),))

    def _failed(self, capture: Capture, codec: Codec | None, error: str, exc: BaseException) -> Answer:
        answer, interaction = failure(capture, codec, error, f"llmreplay record: upstream {self.shown}", exc)
        self._finish(capture, lambda: interaction)
        return answer

    def _finish(self, capture: Capture, record: Callable[[], Interaction]) -> None:
        """The exchange is over: ``record`` makes its record, off the writer's way (cutting a stream into events
        and scrubbing it take longer than sending the last byte)."""
        self._later(self._deliver(capture, record))

    async def _deliver(self, capture: Capture, record: Callable[[], Interaction]) -> None:
        try:
            if capture.dropped:
                if self.skipped is not None:
                    # Its headers say which cassette it was meant for; its body, perhaps large, is not needed.
                    self.skipped(self.scrub.request(replace(capture.req, body=b"")), capture.size)
                return
            if capture.size <= _INLINE_BYTES:
                scrubbed = self.scrub.interaction(record())
            else:
                scrubbed = await asyncio.to_thread(lambda: self.scrub.interaction(record()))
            await self.sink(scrubbed)
        finally:
            if capture.settled is not None and not capture.settled.done():
                capture.settled.set_result(None)

    def _later(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


class _Body:
    """The frames of an upstream answer as they arrive (:class:`~llmreplay.model.LiveFrames`).

    Each chunk is kept in the capture with its arrival time and handed on as one frame; nothing is parsed
    between reading a chunk and handing it on.
    """

    def __init__(self, resp: Response, capture: Capture, t0: float, owner: Upstream) -> None:
        self._resp = resp
        self._capture = capture
        self._t0 = t0
        self._owner = owner
        self._error: str | None = None
        self._over = False
        self._closed = False

    def ready(self) -> tuple[Frame, ...]:
        """What of the body is already in, without waiting."""
        if self._resp.exception() is not None:
            return ()
        data = self._resp.read_nowait()
        if not data:
            return ()
        now = clock()
        self._capture.add(data, now)
        return (frame_of((data, now - self._t0, True)),)

    def pipe(self, sink: ChunkSink) -> asyncio.Future[None] | None:
        """Hand each chunk to ``sink`` in the upstream connection's own read (no task between), kept for the
        recording as when iterated. The future is done when the pipe stops (the body ended or broke, or ``sink``
        took no more); the body is then iterated on, from where it stopped. None: iterate it now."""
        if self._over or self._closed:
            return None
        capture = self._capture
        return self._resp.pipe(lambda data: capture.add(data, clock()), sink)

    @property
    def cut(self) -> Cut | None:
        # The client sees the upstream's connection drop mid-body, as it would have without the proxy.
        return Cut("close") if self._error in ("timeout", "disconnect") else None

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> Frame:
        if self._over:
            raise StopAsyncIteration
        try:
            chunk = await self._resp.readany()
        except UpstreamError as exc:
            chunk, self._error = b"", exc.kind
        if not chunk:
            self._over = True
            raise StopAsyncIteration
        now = clock()
        self._capture.add(chunk, now)
        return frame_of((chunk, now - self._t0, True))

    def close(self, drain: bool = True) -> None:
        """No more frames are wanted. ``drain``: read the rest for the recording (a fault cut the client short);
        else the client is gone, and so is the reason to read on."""
        if self._closed:
            return
        self._closed = True
        self._resp.unpipe()
        if self._over or not drain:
            error = self._error or (None if self._over else "client-disconnect")
            self._end(error)
            return
        self._owner._later(self._drain())

    async def _drain(self) -> None:
        try:
            async for _ in self:
                pass
        finally:
            self._end(self._error)

    def watch(self) -> None:
        """The body is watched for a silent upstream by the upstream's one timer (:mod:`llmreplay.sources.silence`)."""
        capture = self._capture
        self._owner._silence.watch(self._resp, lambda: capture.size)

    def _end(self, error: str | None) -> None:
        self._owner._silence.forget(self._resp)
        self._resp.release()
        capture, end = self._capture, clock()
        self._owner._finish(capture, lambda: capture.interaction(error, end))
