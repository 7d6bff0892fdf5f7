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
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

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


class _StampedHandler(RequestHandler):
    """aiohttp's connection protocol, noting when it last received bytes and closing one whose request head
    is late."""

    __slots__ = ("_head_by", "_head_due", "_kernel_at", "_read", "_sock", "arrived")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived = 0.0
        self._head_due: asyncio.TimerHandle | None = None
        self._head_by = 0.0
        """When the awaited head is due, on the loop's clock; 0.0 when none is awaited."""
        self._kernel_at = 0.0
        self._sock: socket.socket | None = None
        self._read: Callable[[], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        server = self._manager
        if isinstance(server, _StampingServer):
            if server.over_cap():
                self._drop()
                return
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
        idle = not self._head_by and not self._messages and not self._request_in_progress
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
        if self._messages or self._request_in_progress or self._upgraded:
            return
        log.debug("closed a connection whose request head did not arrive in time")
        self._drop()

    def _drop(self) -> None:
        self.force_close()
        if self.transport is not None:
            self.transport.close()


class _StampingServer(web.Server):
    """Builds :class:`_StampedHandler` connections and holds their limits; everything else is aiohttp's."""

    header_timeout_s = 5.0
    max_connections = 0
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


def stamp(server: web.Server, header_timeout_s: float = 5.0, max_connections: int = 0) -> None:
    """Make ``server``'s new connections note when their requests arrive, bring their heads within
    ``header_timeout_s`` and stay under ``max_connections`` (0: the file limit, see :func:`connection_cap`)."""
    if type(server) is web.Server:
        server.__class__ = _StampingServer
    if isinstance(server, _StampingServer):
        server.header_timeout_s = header_timeout_s
        server.max_connections = connection_cap(max_connections)


def arrived(request: web.BaseRequest) -> float:
    """When ``request`` finished arriving, on the writer's clock; 0.0 when its server does not note it."""
    return getattr(request.protocol, "arrived", 0.0)


def start_of(request: web.BaseRequest) -> float:
    """When the exchange answering ``request`` starts: its arrival, or now where that is not noted."""
    return arrived(request) or clock()
