"""The writer: the shaper's last stage, the only one that awaits.

A plain body is sent when it is due. A stream's frames are handed to the loop's
:class:`Scheduler`: one timer for every open stream, which wakes at the earliest
deadline and writes every frame then due, at its absolute deadline (exchange start
+ offset), so errors never add up over a long stream and thousands of held streams
cost one timer, not a task wake-up per stream per frame. Frames are joined and
chunk-encoded before the first byte; per frame there is a heap pop and a socket
write. The writer also carries out abnormal endings (:class:`Cut`): a reset, a
close without the end of the body, or a hang until the client gives up.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import logging
import math
import socket
import struct
from array import array
from collections.abc import Callable

from aiohttp import web

from llmreplay import collector, offload
from llmreplay.model import Answer, Cut, Frame
from llmreplay.shaping.chunked import chunk
from llmreplay.shaping.clock import clock
from llmreplay.shaping.lateness import BOUNDS_S, Lateness
from llmreplay.shaping.relay import Piped, Relay
from llmreplay.shaping.timing import batches

log = logging.getLogger("llmreplay.writer")

Headers = tuple[tuple[str, str], ...]

_HANG_POLL_S = 0.25
"""How often a hanging exchange checks whether its client has gone."""


class Writer:
    """Sends an :class:`Answer` whose frames carry their due times."""

    def __init__(self, now: Callable[[], float] = clock) -> None:
        self._now = now
        self._schedulers: dict[asyncio.AbstractEventLoop, Scheduler] = {}

    async def send(
        self,
        request: web.Request,
        answer: Answer,
        t0: float,
        marks: dict[str, float] | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> web.StreamResponse:
        """Write ``answer`` (``t0``: its start on :data:`clock`), with the ``extra`` headers after its own;
        ``marks`` gets ``first`` (the clock's time of the first body write) and ``chunks``."""
        loop = asyncio.get_running_loop()
        if answer.headers_at > 0:
            await _sleep_until(t0 + answer.headers_at, self._now)
        cut = answer.cut
        if cut is not None and cut.before_headers:
            await carry_out(request.transport, cut, t0, self._now)
            return _Dead()
        # Pairs, not a CIMultiDict: aiohttp makes its own of whatever it is given.
        headers = answer.headers + extra if extra else answer.headers
        if answer.live is not None:
            return await self._send_live(request, answer, t0, marks, headers)
        if not answer.stream and cut is None:
            due = t0 + (answer.frames[0].at or 0.0) if answer.frames else t0
            await _sleep_until(due, self._now)
            if marks is not None:
                marks["first"] = self._now()
            return web.Response(status=answer.status, headers=headers, body=answer.body)

        resp = web.StreamResponse(status=answer.status, headers=headers)
        try:
            await resp.prepare(request)
            await resp.write(b"")  # the status line and headers go out now, not with the first frame
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client gone before the first frame")
            chunked = "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
            if offload.few_frames(answer):
                due, pieces = laid_out(answer.frames, t0, chunked)
            else:
                due, pieces = await offload.run(laid_out, answer.frames, t0, chunked, True)
            behind = self._now() - due[0] if due else 0.0
            if behind > 0:
                # Busy past the first frame's due time: it goes out now, counted late, and the rest keep their
                # gaps from it, as a provider's stream does after a slow first token (no burst of catch-up).
                for i in range(1, len(due)):
                    due[i] += behind
            job = self._scheduler(loop).submit(transport, due, pieces, 3 if chunked else 1)
            # From here the job alone holds the frames, and lets each go once it is sent.
            del answer, due, pieces
            collector.hold()
            await job.done
            # Streams that started together end together: let the scheduler write what is due between the
            # endings, as between the arrivals (see :meth:`poll`).
            self.poll()
            if marks is not None and job.first is not None:
                marks["first"] = job.first
                marks["chunks"] = job.i
            if job.lost:
                raise ConnectionResetError("client gone mid-stream")
            if cut is not None:
                await carry_out(request.transport, cut, t0, self._now)
                return _Dead()
            await resp.write_eof()
        except ConnectionError:
            # The client went away mid-stream: there is no one left to answer.
            log.debug("client disconnected during %s", request.path)
        return resp

    async def _send_live(
        self, request: web.Request, answer: Answer, t0: float, marks: dict[str, float] | None, headers: Headers
    ) -> web.StreamResponse:
        """A stream whose frames are still arriving: each is written as it comes (or when a stage holds it to),
        after the status line, the headers and the frames already known, which leave in one write."""
        live = answer.live
        assert live is not None
        resp = _Deferred(status=answer.status, headers=headers)
        drain = False
        n = len(answer.frames)
        first: float | None = None
        try:
            await resp.prepare(request)
            await resp.write(b"".join(f.data for f in answer.frames))
            first = self._now() if n else None
            if isinstance(live, Piped):
                chunked = "chunked" in resp.headers.get("Transfer-Encoding", "").lower()
                relay = Relay(request.transport, request.protocol, chunked, self._now)
                try:
                    await relay.run(live)
                finally:
                    n += relay.n
                    first = first if first is not None else relay.first
            async for frame in live:
                # A frame is due on arrival unless a stage holds it back (a stall): no sleep on the common path.
                if frame.at is not None and t0 + frame.at > self._now():
                    await _sleep_until(t0 + frame.at, self._now)
                await resp.write(frame.data)
                n += 1
                if first is None:
                    first = self._now()
            drain = True
        except ConnectionError:
            log.debug("client disconnected during %s", request.path)
            return resp
        finally:
            live.close(drain)
            if marks is not None and first is not None:
                marks["first"] = first
                marks["chunks"] = n
        cut = answer.cut or live.cut
        if cut is not None:
            await carry_out(request.transport, cut, t0, self._now)
            return _Dead()
        with contextlib.suppress(ConnectionError):  # a client that leaves after the last byte had it all
            await resp.write_eof()
        return resp

    def take_lateness(self) -> tuple[list[int], float]:
        """How late frames went out since the last call, over every loop's scheduler (see :mod:`.lateness`)."""
        total = Lateness()
        for sched in self._schedulers.values():
            total.add(sched.lateness.take())
        return total.take()

    def poll(self) -> None:
        """Write every stream frame already due. Called between pieces of request work, so that a burst of
        arriving requests (each rendered whole before its first byte) cannot hold back the frames of the
        streams already running: asyncio would otherwise run every ready request step before any timer."""
        sched = self._schedulers.get(asyncio.get_running_loop())
        if sched is not None:
            sched.poll()

    def _scheduler(self, loop: asyncio.AbstractEventLoop) -> Scheduler:
        sched = self._schedulers.get(loop)
        if sched is None:
            sched = self._schedulers[loop] = Scheduler(loop, self._now)
        return sched


SLICE = 1 << 20
"""Bytes of one write, for a stream of many frames: frames due together (a gap-0 stream's, all of them) are joined
into one write, and 19 MB of them held the loop ~20 ms in one call (issue 19, case 7)."""
SLICE_GAP_S = 0.001
"""Between the writes a batch is cut into: the loop answers others between two (about a GB a second, more than a
client on the same host reads)."""


def laid_out(
    frames: tuple[Frame, ...], t0: float, chunked: bool, sliced: bool = False
) -> tuple[array[float], list[bytes]]:
    """The scheduler's job for ``frames`` sent from ``t0``: each write's absolute deadline, and its pieces (chunk
    encoded when ``chunked``), frames due together joined (:func:`batches`), and, ``sliced``, cut into writes of at
    most :data:`SLICE` bytes. Done before the first byte, on the worker thread (and sliced) for a stream of many
    frames (:func:`llmreplay.offload.few_frames`)."""
    plan = batches(frames)
    if sliced:
        plan = [
            (at + k * SLICE_GAP_S, data[lo : lo + SLICE])
            for at, data in plan
            for k, lo in enumerate(range(0, len(data), SLICE) if len(data) > SLICE else (0,))
        ]
    due = array("d", [t0 + at for at, _ in plan])
    pieces = [part for _, data in plan for part in chunk(data)] if chunked else [data for _, data in plan]
    return due, pieces


class _Job:
    """One stream's frames, sent in order by the scheduler: ``due[k]`` is frame k's absolute deadline, and
    ``pieces`` the bytes still to send, ``stride`` per frame (size line, frame, CRLF when chunked). Kept flat
    (32 bytes a frame rather than two tuples' 136) and cut down as frames go out: a held stream holds only what
    it has yet to send. ``i`` frames have gone out."""

    __slots__ = ("done", "due", "first", "i", "lost", "pieces", "stride", "transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        due: array[float],
        pieces: list[bytes],
        stride: int,
        done: asyncio.Future[None],
    ):
        self.transport = transport
        self.due = due
        self.pieces = pieces
        self.stride = stride
        self.i = 0
        self.done = done
        self.first: float | None = None
        self.lost = False


class Scheduler:
    """One timer per event loop for every open stream: wakes at the earliest deadline, writes all that is due."""

    def __init__(self, loop: asyncio.AbstractEventLoop, now: Callable[[], float] = clock) -> None:
        self._loop = loop
        self._now = now
        self._heap: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self.lateness = Lateness()

    @property
    def streams(self) -> int:
        return len(self._heap)

    def submit(self, transport: asyncio.Transport, due: array[float], pieces: list[bytes], stride: int = 1) -> _Job:
        """Send frame k (``pieces[k * stride : (k + 1) * stride]``) at ``due[k]``."""
        job = _Job(transport, due, pieces, stride, self._loop.create_future())
        if not due:
            job.done.set_result(None)
            return job
        self._push(due[0], job)
        return job

    def poll(self) -> None:
        """Run now if the earliest frame is due (its timer may be queued behind other work)."""
        heap = self._heap
        if heap and heap[0][0] <= self._now():
            if self._timer is not None:
                self._timer.cancel()
            self._run()

    def _push(self, deadline: float, job: _Job) -> None:
        heapq.heappush(self._heap, (deadline, next(self._seq), job))
        if deadline < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_later(deadline - self._now(), self._run)
            self._timer_at = deadline

    def _run(self) -> None:
        self._timer, self._timer_at = None, math.inf
        heap, clock_now = self._heap, self._now
        counts, late_s, bucket = self.lateness.counts, 0.0, bisect.bisect_left
        now = clock_now()
        while heap and heap[0][0] <= now:
            _, _, job = heapq.heappop(heap)
            transport, due = job.transport, job.due
            if transport.is_closing():
                job.lost = True
                job.done.set_result(None)
                continue
            i, n = job.i, len(due)
            start = i
            while i < n and due[i] <= now:
                i += 1
            late = now - due[start]
            counts[bucket(BOUNDS_S, late)] += 1
            late_s += late
            pieces, cut = job.pieces, (i - start) * job.stride
            transport.writelines(pieces[:cut])
            del pieces[:cut]
            if job.first is None:
                job.first = now
            job.i = i
            if i < n:
                heapq.heappush(heap, (due[i], next(self._seq), job))
            elif not job.done.done():
                job.done.set_result(None)
            now = clock_now()
        self.lateness.sum += late_s
        if heap:
            # A timer set in whole milliseconds may fire a little before the deadline: then nothing is due yet
            # and the next one, due in under a millisecond, fires on the loop's next turn.
            self._timer_at = heap[0][0]
            self._timer = self._loop.call_later(self._timer_at - now, self._run)


async def _sleep_until(deadline: float, now: Callable[[], float]) -> None:
    # A sleep in whole milliseconds may end a little early: sleep again for what is left.
    while (delay := deadline - now()) > 0:
        await asyncio.sleep(delay)


async def carry_out(transport: asyncio.Transport | None, cut: Cut, t0: float, now: Callable[[], float]) -> None:
    """End the answer on ``transport`` as ``cut`` says, when it says (``t0``: the exchange's start)."""
    if cut.how == "hang":
        deadline = t0 + (cut.at if cut.at is not None else float("inf"))
        while transport is not None and not transport.is_closing() and now() < deadline:
            await asyncio.sleep(min(_HANG_POLL_S, max(0.0, deadline - now())))
        _close(transport)
        return
    if cut.at is not None:
        await _sleep_until(t0 + cut.at, now)
    if transport is None or transport.is_closing():
        return
    if cut.how == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: the kernel answers the close with RST, as a crashed peer would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        _close(transport)


def _close(transport: asyncio.BaseTransport | None) -> None:
    if transport is not None and not transport.is_closing():
        transport.close()


class _Deferred(web.StreamResponse):
    """A response whose status line and headers wait for its first write, as aiohttp's ``Response`` does, so
    that they leave with the body bytes that are already in."""

    _send_headers_immediately = False


class _Dead(web.StreamResponse):
    """Returned for a connection the writer has cut: there is nothing left to send."""

    def __init__(self) -> None:
        super().__init__(status=499)

    async def prepare(self, request: web.BaseRequest) -> None:  # type: ignore[override]
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None
