"""The record proxy's HTTP/1.1 client: each request written in one send on a pooled connection, its answer read by
httptools' parser in the connection's own callback (:mod:`llmreplay.sources.response`).

aiohttp's client costs about 117 µs of CPU a call against 45 µs for this one (docs/performance.md, "The proxy's
own client"), most of it before the upstream sees a byte: in a burst of proxied streams that is what kept the
first bytes waiting. A proxy needs little of a general client: no cookies,
redirects, proxies from the environment, or retries of calls that are not idempotent; one request at a time per
connection; no pool limit (one client's request must never queue behind another's stream). What it keeps of
aiohttp's behaviour: the same keep-alive (15 s idle), TLS with the system's default context, the URL's user and
password as basic auth, gzip and deflate bodies decoded, one retry of an idempotent call whose pooled connection
turned out closed, and timeouts for connecting and for the head (the body's silence is watched by
:mod:`llmreplay.sources.silence`).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httptools
from yarl import URL

from llmreplay.shaping.clock import clock
from llmreplay.sources.response import Response, UpstreamError

KEEP_ALIVE_S = 15.0
"""How long an idle connection is kept for the next call (aiohttp's default)."""
_DNS_TTL_S = 10.0
_CLOSED_A_TURN = 16
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
"""Calls sent again when a pooled connection turns out closed before any answer: never a POST, which may have been
taken (and billed) however its connection then ended."""


class _Conn(asyncio.Protocol):
    """One connection to the upstream, one call at a time."""

    def __init__(self, pool: Client, key: tuple[str, str, int], loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.key = key
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.resp: Response | None = None
        self.idle_since = 0.0
        self.reusable = False
        self.closed = False
        self._paused = False
        self._parser = httptools.HttpResponseParser(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        resp = self.resp
        if resp is None or resp.complete:
            self.close()  # bytes nobody asked for: this connection cannot be trusted with the next call
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            resp.set_exception(UpstreamError("disconnect", f"Response from the upstream unreadable: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool._forget(self)
        resp = self.resp
        if resp is None or resp.complete:
            return
        if resp.head.done() and resp.exception() is None and not _framed(resp.headers):
            # A body that runs until the connection closes (no length, not chunked) ends here.
            resp.on_end()
            return
        resp.set_exception(UpstreamError("disconnect", "Server disconnected"))

    # httptools' callbacks.

    def on_header(self, name: bytes, value: bytes) -> None:
        resp = self.resp
        if resp is None or resp.complete:
            return  # an answer nobody asked for, in the same read as the one asked for (see below)
        resp.headers.append((name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape")))

    def on_headers_complete(self) -> None:
        resp = self.resp
        assert resp is not None
        if resp.complete:
            # A second answer in the read that ended the first: it must not change the first's status or headers,
            # and an upstream that answers unasked is not trusted with the next call.
            self.reusable = False
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            resp.headers = []  # an interim answer (100 Continue): the real one follows
            return
        self.reusable = self._parser.should_keep_alive()
        resp.on_head(status)
        if resp.method == "HEAD" or status in (204, 304):
            # No body follows, whatever the headers say; the parser would wait for one, so the connection goes.
            self.reusable = self.reusable and status in (204, 304)
            resp.on_end()

    def on_body(self, body: bytes) -> None:
        resp = self.resp
        if resp is not None and not resp.complete:
            resp.on_body(body)

    def on_message_complete(self) -> None:
        resp = self.resp
        if resp is None or not resp.head.done():
            return  # the end of an interim answer
        if not resp.complete:
            resp.on_end()

    # Flow and reuse.

    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def done(self, resp: Response) -> None:
        if self.resp is not resp:
            return
        self.resp = None
        if self.closed or not resp.complete or not self.reusable or resp.exception() is not None:
            self.close()
            return
        self.resume()
        self.idle_since = clock()
        self.pool._idle.setdefault(self.key, []).append(self)

    def close(self) -> None:
        self.closed = True
        self.pool._forget(self)
        if self.transport is not None:
            self.transport.close()


def _framed(headers: list[tuple[str, str]]) -> bool:
    return any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers)


class Client:
    """Pooled HTTP/1.1 connections to any number of upstreams, with no limit on their number. ``tls``: the context
    https connections are made with (by default the system's, made when first needed)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._open: set[_Conn] = set()
        self._tls = tls
        self._addresses: dict[tuple[str, int], tuple[float, asyncio.Future[list[Any]]]] = {}
        """Each host's addresses and when they were looked up: a burst of new connections to one upstream asks
        the resolver once, not once each (aiohttp keeps them 10 s too)."""

    async def request(
        self, method: str, url: URL, headers: Iterable[tuple[str, str]], body: bytes, timeout: float
    ) -> Response:
        """The upstream's answer to one call, once its head is in; UpstreamError if it never came."""
        host, port = url.raw_host, url.port
        if not host or port is None or url.scheme not in ("http", "https"):
            raise UpstreamError("connect", f"Cannot connect to {url.scheme}://{host}: not an http(s) URL")
        pairs = list(headers)
        lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host_port_subcomponent}"]
        if url.raw_user is not None and not any(k.lower() == "authorization" for k, _ in pairs):
            creds = f"{url.user or ''}:{url.password or ''}".encode()
            lines.append("Authorization: Basic " + base64.b64encode(creds).decode("ascii"))
        lines.extend(f"{k}: {v}" for k, v in pairs)
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
        key = (url.scheme, host, port)
        while True:
            conn, reused = self._take(key), True
            if conn is None:
                conn, reused = await self._connect(key, timeout), False
            resp = Response(conn, method)
            conn.resp = resp
            conn.transport.writelines((head, body))  # type: ignore[union-attr]
            try:
                await _within(resp, timeout)
            except UpstreamError as exc:
                conn.close()
                if reused and exc.kind == "disconnect" and resp.total_bytes == 0 and method in _IDEMPOTENT:
                    continue  # the pooled connection had been closed by the upstream meanwhile
                raise
            except BaseException:
                # Cancelled, or closed unawaited: the answer is nobody's, and the connection cannot be trusted with
                # the next call.
                conn.close()
                raise
            return resp

    def _take(self, key: tuple[str, str, int]) -> _Conn | None:
        idle = self._idle.get(key)
        now = clock()
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if now - conn.idle_since < KEEP_ALIVE_S:
                return conn
            # The newest is past the keep-alive, so every older one is: after a burst, hundreds of them, whose
            # closing would hold the loop for milliseconds. They go a few a turn, after this call has left.
            stale = [conn, *idle]
            idle.clear()
            asyncio.get_running_loop().call_soon(_close_some, stale)
        return None

    async def _connect(self, key: tuple[str, str, int], timeout: float) -> _Conn:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        # A task of its own with a timer rather than asyncio.timeout, which needs a task: the express lane starts a
        # call in the connection's callback, outside any.
        opening = loop.create_task(self._open_to(loop, key, tls))
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            opening.cancel()

        timer = loop.call_later(timeout, expire)
        try:
            conn = await opening
        except asyncio.CancelledError as exc:
            if not expired:
                _abandon(opening)
                raise
            raise UpstreamError("timeout", f"Connection timeout to host {scheme}://{host}:{port}") from exc
        except OSError as exc:
            raise UpstreamError("connect", f"Cannot connect to host {host}:{port} [{exc.strerror or exc}]") from exc
        except UnicodeError as exc:
            # A name the resolver cannot even encode (an empty or over-long label): no such host.
            raise UpstreamError("connect", f"Cannot connect to host {host}:{port} [{exc}]") from exc
        except BaseException:
            _abandon(opening)  # closed unawaited
            raise
        finally:
            timer.cancel()
        self._open.add(conn)
        return conn

    async def _open_to(
        self, loop: asyncio.AbstractEventLoop, key: tuple[str, str, int], tls: ssl.SSLContext | None
    ) -> _Conn:
        """A new connection to the first of the host's addresses that takes one."""
        _, host, port = key
        addresses = await self._resolve(loop, host, port)
        error: OSError | None = None
        for address in addresses:
            try:
                _, conn = await loop.create_connection(
                    lambda: _Conn(self, key, loop), *address, ssl=tls, server_hostname=host if tls else None
                )
                return conn
            except OSError as exc:
                error = exc
        raise error or OSError(f"no address for {host}")

    async def _resolve(self, loop: asyncio.AbstractEventLoop, host: str, port: int) -> list[tuple[str, int]]:
        try:
            ipaddress.ip_address(host)
            return [(host, port)]
        except ValueError:
            pass
        now = clock()
        known = self._addresses.get((host, port))
        if known is None or now - known[0] >= _DNS_TTL_S:
            # One lookup shared by every connection asked for meanwhile: a burst's first calls all come here.
            lookup = asyncio.ensure_future(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM))
            lookup.add_done_callback(lambda f: f.cancelled() or f.exception())  # its error is raised where awaited
            known = self._addresses[(host, port)] = (now, lookup)
        try:
            infos = await asyncio.shield(known[1])
        except OSError:
            if self._addresses.get((host, port)) is known:
                del self._addresses[(host, port)]
            raise
        return list(dict.fromkeys((str(info[4][0]), port) for info in infos))

    def _forget(self, conn: _Conn) -> None:
        self._open.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    async def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._idle.clear()
        await asyncio.sleep(0)  # the transports' closing callbacks run


def _abandon(opening: asyncio.Task[_Conn]) -> None:
    """A connection being opened for a call that is gone: stopped, or closed if it was made."""
    if not opening.cancel() and not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _close_some(conns: list[_Conn]) -> None:
    for conn in conns[-_CLOSED_A_TURN:]:
        conn.close()
    del conns[-_CLOSED_A_TURN:]
    if conns:
        asyncio.get_running_loop().call_soon(_close_some, conns)


async def _within(resp: Response, timeout: float) -> None:
    """Wait for the upstream's head; a timeout if it has not come in ``timeout`` seconds."""
    head = resp.head
    if head.done():
        head.result()
        return
    timer = asyncio.get_running_loop().call_later(
        timeout, resp.set_exception, UpstreamError("timeout", "Timeout on reading data from socket")
    )
    try:
        await head
    finally:
        timer.cancel()
