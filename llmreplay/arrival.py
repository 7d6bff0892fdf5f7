"""When each request's bytes arrived (the start of its exchange), and how long a client may take to send them.

aiohttp starts a handler once the loop gets round to it; under a burst of requests that can be
milliseconds after the bytes came in, and every deadline counted from the handler's start would carry
that delay. The server's connections therefore note when their latest read's bytes came in, and an
exchange starts then (the writer's clock). On asyncio's own loop that is the kernel's receive time of
the bytes (``SO_TIMESTAMPNS``, read with a one-byte ``MSG_PEEK`` before the transport's read): a burst
that keeps the loop busy for tens of milliseconds leaves requests waiting in the socket, and the time
the loop got round to reading them was that much late, which every frame of a replayed stream carried.
Where the transport's socket is not Python's (uvloop, TLS) it is the time of the read. Servers built
elsewhere (aiohttp's test servers) do not note it, and their exchanges start when the handler does.

The same connections guard against slow clients, which aiohttp alone does not: a request line and
headers trickling in a byte at a time would hold a connection (a file descriptor) for as long as the client
likes. A new connection, and each new request on a kept-alive one, must bring its whole head within
``header_timeout_s``; past ``max_connections`` open at once a new connection is closed as soon as it is
accepted, with a log line, so the file limit is never reached. (An idle kept-alive connection is aiohttp's
``keepalive_timeout``.)
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from llmreplay.lane_parser import LaneParser
from llmreplay.shaping.writer import clock

log = logging.getLogger("llmreplay")

FILE_MARGIN = 64
"""Descriptors kept back from the connection cap: cassettes, logs, the upstream's and Redis's sockets."""
CAP_LOG_EVERY_S = 10.0
"""A server at its connection cap says so at most this often (a flood would otherwise flood the log)."""
SO_TIMESTAMPNS: int | None = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)
"""Linux's receive stamps (Python names the constant only on some builds; 35 is its generic value)."""
STALE_STAMP_S = 60.0
"""A receive stamp older than this is not believed: the wall clock, which stamps are read on, was set forward since."""
_STAMP_SPACE = socket.CMSG_SPACE(16) if hasattr(socket, "CMSG_SPACE") else 0
_TIMESPEC = struct.Struct("qq")


def kernel_stamps(transport: asyncio.BaseTransport) -> socket.socket | None:
    """The socket under ``transport``, set to have the kernel stamp what it receives; None where that cannot
    be read (a transport not of asyncio's selector loop, no ``SO_TIMESTAMPNS``)."""
    sock = getattr(transport, "_sock", None)
    if SO_TIMESTAMPNS is None or not _STAMP_SPACE or not isinstance(sock, socket.socket):
        return None
    if not callable(getattr(transport, "_read_ready_cb", None)):
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        return None
    return sock


def received_at(sock: socket.socket) -> float:
    """When the kernel received the first of the bytes waiting on ``sock``, on the writer's clock (never after
    now); 0.0 when none wait or they carry no stamp."""
    try:
        _, ancillary, _, _ = sock.recvmsg(1, _STAMP_SPACE, socket.MSG_PEEK)
    except OSError:
        return 0.0
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, ns = _TIMESPEC.unpack_from(data)
            now = clock()
            # The stamp is wall-clock time: moved onto the monotonic clock by the two clocks' offset now.
            at = sec + ns * 1e-9 - time.time() + now
            # Far in the past it is the wall clock stepped since (a head waits header_timeout_s at most).
            return min(now, at) if now - at < STALE_STAMP_S else 0.0
    return 0.0


Parsed = tuple[RawRequestMessage, StreamReader]
"""A request aiohttp's parser read: its head, and its body's reader."""
Begun = tuple[float, Awaitable[Any]]
"""A request the express lane began and hands on: its start, and the rest of its preparing to await."""


class Lane(Protocol):
    """What answers a request from the connection itself (:mod:`llmreplay.lane`)."""

    def take(self, conn: _StampedHandler, message: RawRequestMessage, payload: StreamReader) -> Parsed | None:
        """None where the request is answered; else the request to hand on to aiohttp (its body read again
        where the lane read it)."""

    def waits_for(self, message: RawRequestMessage) -> bool:
        """Whether the lane would take ``message`` once its body is in (a small one, of a length it names)."""


HOLD_S = 0.01
"""How long a request the lane would take waits for its body to come after its head, before aiohttp has it: an
HTTP client may write a request's head and body apart (httpx does), and the body is then the next read."""


LANE: web.AppKey[Lane] = web.AppKey("llmreplay.lane", Lane)
"""Where an app keeps the lane its server's connections are to offer their requests to (:func:`stamp`)."""


class _StampedHandler(RequestHandler):
    """aiohttp's connection protocol, noting when it last received bytes and closing one whose request head
    is late; where its server has an express lane, the lane answers what it can before aiohttp sees it."""

    __slots__ = (
        "_handed",
        "_head_by",
        "_head_due",
        "_hold_due",
        "_kernel_at",
        "_lane_job",
        "_read",
        "_sock",
        "arrived",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived = 0.0
        self._head_due: asyncio.TimerHandle | None = None
        self._head_by = 0.0
        """When the awaited head is due, on the loop's clock; 0.0 when none is awaited."""
        self._kernel_at = 0.0
        self._sock: socket.socket | None = None
        self._read: Callable[[], None] | None = None
        self._handed: dict[StreamReader, Begun] | None = None
        self._hold_due: asyncio.TimerHandle | None = None
        self._lane_job: asyncio.Task[Any] | None = None
        """The lane's answer being written on this connection, in a task of its own (:meth:`lane_keeps`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        server = self._manager
        if isinstance(server, _StampingServer):
            if server.over_cap():
                self._drop()
                return
            if server.lane is not None and self._parser is not None:
                self._parser = LaneParser(self._parser, self, server.lane)
            self._expect_head(server.header_timeout_s)
            self._sock = kernel_stamps(transport)
            if self._sock is not None:
                # The stamp is read before the transport's own read takes the bytes (and their stamp) away.
                self._read = transport._read_ready_cb  # type: ignore[attr-defined]
                transport._read_ready_cb = self._read_stamped  # type: ignore[attr-defined]

    def _read_stamped(self) -> None:
        if self._sock is None or self._read is None:  # a read the loop had queued before the connection was lost
            return
        self._kernel_at = received_at(self._sock)
        self._read()

    def data_received(self, data: bytes) -> None:
        self.arrived = self._kernel_at or clock()
        server = self._manager
        idle = not self._head_by and not self._messages and not self._request_in_progress and not self._lane_job
        if idle and isinstance(server, _StampingServer):
            # The first bytes of a request on a kept-alive connection: its head now has a deadline.
            self._expect_head(server.header_timeout_s)
        super().data_received(data)
        if self._head_by and (self._messages or self._upgraded):
            self._head_by = 0.0  # its timer, left to run, finds nothing due

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._head_due is not None:
            self._head_due.cancel()
            self._head_due = None
        self.held(False)
        self._head_by = 0.0
        self._sock = self._read = None
        super().connection_lost(exc)

    def _expect_head(self, timeout_s: float) -> None:
        # One timer a connection, not one a request: a timer made and cancelled for each request on a kept-alive
        # connection cost more than the stamp. A timer already running is moved on when it fires.
        self._head_by = self._loop.time() + timeout_s
        if self._head_due is None:
            self._head_due = self._loop.call_at(self._head_by, self._head_late)

    def _head_late(self) -> None:
        self._head_due = None
        due = self._head_by
        if not due:
            return
        if due > self._loop.time():
            self._head_due = self._loop.call_at(due, self._head_late)
            return
        self._head_by = 0.0
        if self._messages or self._request_in_progress or self._upgraded or self._lane_job:
            return
        log.debug("closed a connection whose request head did not arrive in time")
        self._drop()

    def _drop(self) -> None:
        self.force_close()
        if self.transport is not None:
            self.transport.close()

    def lane_open(self) -> bool:
        """Whether the lane may answer now: aiohttp waits for a request (none queued, none being answered, so
        an answer written now comes in order) and the client reads what is written to it."""
        waiter = self._waiter
        return (
            waiter is not None
            and not waiter.done()
            and not self._messages
            and not self._request_in_progress
            and not self._force_close
            and not self._close
            and not self._upgraded
            and not self._paused
            and self._lane_job is None
            and self.transport is not None
            and not self.transport.is_closing()
        )

    def lane_answered(self) -> None:
        """What aiohttp does after each request it answers: the connection is kept alive from now on."""
        self._head_by = 0.0
        self._keepalive = True
        loop = self._loop
        close_time = loop.time() + self._keepalive_timeout
        self._next_keepalive_close_time = close_time
        if self._keepalive_handle is None:
            self._keepalive_handle = loop.call_at(close_time, self._process_keepalive)
        self._manager.requests_count += 1  # type: ignore[union-attr]

    def held(self, holding: bool) -> None:
        """The lane holds a request for its body (``holding``), or holds none now."""
        if self._hold_due is not None:
            self._hold_due.cancel()
            self._hold_due = None
        if holding:
            self._hold_due = self._loop.call_later(HOLD_S, self._hold_over)

    def _process_keepalive(self) -> None:
        if self._hold_due is not None:
            # A request is held for its body: the connection is not idle, though aiohttp has no request on it yet.
            self._keepalive_handle = self._loop.call_later(HOLD_S, self._process_keepalive)
            return
        if self._lane_job is not None:
            # The lane is answering on it (a stream may outlast the keep-alive): idle from the answer's end only.
            self._keepalive_handle = self._loop.call_later(self._keepalive_timeout, self._process_keepalive)
            return
        super()._process_keepalive()

    def lane_busy(self) -> bool:
        """Whether the lane is answering a request on this connection in a task of its own."""
        return self._lane_job is not None

    def lane_keeps(self, job: asyncio.Task[Any]) -> None:
        """The lane answers the request it just took in ``job``, which ends with :meth:`lane_done`: until then the
        connection is the lane's, and a request that comes after waits (:class:`LaneParser`)."""
        self._lane_job = job

    def lane_done(self, handed: Parsed | None) -> None:
        """The lane's answer is out, or is aiohttp's to write after all (``handed``); then the requests that came
        while it was written are aiohttp's, in order."""
        self._lane_job = None
        parser = self._parser
        if self._manager is None or self._force_close or self._close or not isinstance(parser, LaneParser):
            return  # the connection is gone, or going: nothing more is answered on it
        if handed is None:
            parser.message_consumed()
            self.lane_answered()
        else:
            self._messages.append(handed)
            self._request_count += 1
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)
        if parser.waiting:
            # Read again through aiohttp's own handling, as if just read: the lane may take the first (the
            # connection is idle again), and whatever it does not take is aiohttp's, in order.
            RequestHandler.data_received(self, b"")

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        job = self._lane_job
        if job is not None:
            # aiohttp sees no request on the connection, and would close it at once: the lane's answer gets the
            # time a handler's would.
            await asyncio.wait((job,), timeout=timeout)
            job.cancel()  # past the drain's time it is cut, as aiohttp cuts a handler
        await super().shutdown(timeout)

    def _hold_over(self) -> None:
        """The body of the request the lane held did not come in time: aiohttp has the request, as if its parser
        had just read it, and reads the body as it comes (under the body's deadline)."""
        self._hold_due = None
        # An empty read through aiohttp's own handling: the parser gives the held request back (its body is not
        # in, so the lane passes it on), and aiohttp queues it as any it reads.
        RequestHandler.data_received(self, b"")

    def hand_on(self, message: RawRequestMessage, body: bytes, begun: Begun | None) -> Parsed:
        """``message`` for aiohttp to answer, with a reader of its ``body`` (the lane read the first) and,
        where the lane began answering it, what :func:`handed` gives the handler."""
        payload = StreamReader(self, 2**16, loop=self._loop)
        if body:
            payload.feed_data(body)
        payload.feed_eof()
        if begun is not None:
            if self._handed is None:
                self._handed = {}
            self._handed[payload] = begun
        return message, payload


def handed(request: web.BaseRequest) -> Begun | None:
    """What the express lane began of ``request``, which it hands to the handler to finish; None for a request
    it did not begin."""
    box = getattr(request.protocol, "_handed", None)
    return box.pop(request.content, None) if box else None


class _StampingServer(web.Server):
    """Builds :class:`_StampedHandler` connections and holds their limits; everything else is aiohttp's."""

    header_timeout_s = 5.0
    max_connections = 0
    lane: Lane | None = None
    _cap_logged = -CAP_LOG_EVERY_S

    def __call__(self) -> RequestHandler:
        return _StampedHandler(self, loop=self._loop, **self._kwargs)

    def over_cap(self) -> bool:
        """Whether the connection just made is one too many (it is counted already), said in the log."""
        if len(self.connections) <= self.max_connections:
            return False
        now = self._loop.time()
        if now - self._cap_logged >= CAP_LOG_EVERY_S:
            self._cap_logged = now
            log.warning(
                "at the connection cap (%d open, max_connections): closing new connections until some close",
                self.max_connections,
            )
        return True


def connection_cap(configured: int) -> int:
    """``configured``, or where that is 0 the open-file limit less :data:`FILE_MARGIN`."""
    if configured:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(1, (soft if soft != resource.RLIM_INFINITY else 65536) - FILE_MARGIN)


def stamp(
    server: web.Server, header_timeout_s: float = 5.0, max_connections: int = 0, lane: Lane | None = None
) -> None:
    """Make ``server``'s new connections note when their requests arrive, bring their heads within
    ``header_timeout_s``, stay under ``max_connections`` (0: the file limit, see :func:`connection_cap`) and
    offer their requests to ``lane`` first."""
    if type(server) is web.Server:
        server.__class__ = _StampingServer
    if isinstance(server, _StampingServer):
        server.header_timeout_s = header_timeout_s
        server.max_connections = connection_cap(max_connections)
        server.lane = lane


def arrived(request: web.BaseRequest) -> float:
    """When ``request`` finished arriving, on the writer's clock; 0.0 when its server does not note it."""
    return getattr(request.protocol, "arrived", 0.0)


def start_of(request: web.BaseRequest) -> float:
    """When the exchange answering ``request`` starts: its arrival, or now where that is not noted."""
    return arrived(request) or clock()
