"""Recording reverse proxy: forward to the real provider, stream the answer back, record it.

The client talks to llmreplay as it would to the provider; its request goes
upstream unchanged (credentials included) and the answer comes back as it
arrives: the status line and headers as soon as the upstream's are in, each body
chunk as soon as it is read, so the client's timing is the upstream's. Beside
the copy, each chunk is kept with its arrival offset; when the exchange is over, the
body is cut into events (:mod:`llmreplay.cassettes.splitter`) and the record,
scrubbed of secrets, is handed to the sink. Upstream failures reach the client as they
happened (an unreachable upstream as a 502, a silent one as a 504, a dropped
connection as a dropped connection) and are recorded as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.scrub import Scrubber
from llmreplay.cassettes.splitter import is_stream, split_chunks
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.providers.base import Codec, RenderOptions
from llmreplay.urls import redacted

UPSTREAMS: dict[str, str] = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}

# Connection-level headers (RFC 9110 §7.6.1) belong to one hop; aiohttp sets its own.
_HOP_BY_HOP = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "te", "trailer", "upgrade"}
)
# Upstream bodies must arrive as plain bytes so the recording is what a client decodes.
_DROP_UPSTREAM = frozenset({"accept-encoding"})

Sink = Callable[[Interaction], Awaitable[None]]


def resolve_upstream(name_or_url: str) -> str:
    """``openai``/``anthropic``/``gemini`` or an http(s) URL → base URL without trailing slash."""
    value = name_or_url.strip()
    known = UPSTREAMS.get(value.lower())
    if known is not None:
        return known
    try:
        url = URL(value)
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        names = ", ".join(UPSTREAMS)
        raise ValueError(f"unknown upstream {redacted(name_or_url)!r}: use {names} or an http(s):// base URL")
    return value.rstrip("/")


def _skip(name: str) -> bool:
    n = name.lower()
    return n in _HOP_BY_HOP or n.startswith("proxy-")


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordingProxy:
    """Forwards requests to one upstream base URL and records every exchange."""

    def __init__(
        self,
        upstream: str,
        sink: Sink,
        scrub: Scrubber,
        *,
        timeout: float = 600,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.upstream = resolve_upstream(upstream)
        self.shown = redacted(self.upstream)
        """The upstream as it may be shown or stored: a password in the URL (basic auth) as ``***``."""
        self.sink = sink
        self.scrub = scrub
        self.timeout = timeout
        self._session = session
        self._own_session = session is None
        self._pending: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # No pool limit: a proxy must not queue one client's request behind another's stream.
            # No cookie jar: one client's cookies must never ride along on another's requests.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True
            )
        return self._session

    def target(self, request: web.BaseRequest) -> URL:
        """The upstream URL: base (with any path prefix) + the request's raw path and query."""
        raw = request.rel_url.raw_path
        qs = request.rel_url.raw_query_string
        return URL(self.upstream + raw + ("?" + qs if qs else ""), encoded=True)

    async def handle(
        self,
        request: web.Request,
        api: str | None = None,
        endpoint: str = "other",
        codec: Codec | None = None,
    ) -> web.StreamResponse:
        body = await request.read()
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if not _skip(k) and k.lower() not in _DROP_UPSTREAM
        )
        headers["Accept-Encoding"] = "identity"
        recorded_req = RecordedRequest(
            method=request.method,
            path=request.path,
            query=tuple(request.query.items()),
            headers=tuple((k.lower(), v) for k, v in request.headers.items() if not _skip(k)),
            body=body,
        )
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout)
        # Only what the client sent goes upstream: no User-Agent, Accept or Content-Type of aiohttp's own.
        auto = [h for h in ("User-Agent", "Accept", "Content-Type") if h not in headers]
        t0 = time.perf_counter()
        try:
            upstream = await self._client().request(
                request.method,
                self.target(request),
                headers=headers,
                data=body if body else None,
                timeout=timeout,
                allow_redirects=False,
                skip_auto_headers=auto,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            return await self._fail(request, recorded_req, api, endpoint, codec, t0, "timeout", exc)
        except aiohttp.ClientConnectorError as exc:
            return await self._fail(request, recorded_req, api, endpoint, codec, t0, "connect", exc)
        except aiohttp.ClientError as exc:
            return await self._fail(request, recorded_req, api, endpoint, codec, t0, "disconnect", exc)
        try:
            return await self._relay(request, upstream, recorded_req, api, endpoint, t0)
        finally:
            upstream.release()

    async def _relay(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        recorded_req: RecordedRequest,
        api: str | None,
        endpoint: str,
        t0: float,
    ) -> web.StreamResponse:
        headers_us = _us(t0)
        ctype = upstream.headers.get("Content-Type", "")
        stream = is_stream(ctype, request.path)
        encoded = "Content-Encoding" in upstream.headers
        out = _Relayed(status=upstream.status, reason=upstream.reason)
        for k, v in upstream.headers.items():
            n = k.lower()
            if _skip(n) and not (n == "content-length" and not stream and not encoded):
                continue
            if n == "content-encoding":
                continue  # the body is forwarded decoded
            out.headers.add(k, v)
        sent_headers = tuple((k.lower(), v) for k, v in out.headers.items())
        await out.prepare(request)

        capture = _Capture(recorded_req, upstream.status, sent_headers, ctype if stream else None, headers_us, t0)
        # The status line and headers go out now, with whatever of the body came in with them: one write, and
        # one wake-up of the client, where the upstream's first event shares a packet with its headers.
        first = upstream.content.read_nowait() if upstream.content.exception() is None else b""
        with contextlib.suppress(ConnectionError):  # the client is gone: the relay below finds out, records it
            await out.write(first)
        if first:
            capture.add(first, _us(t0))
        error: str | None = None
        try:
            while True:
                try:
                    chunk = await upstream.content.readany()
                except (TimeoutError, aiohttp.ServerTimeoutError):
                    error = "timeout"
                    break
                except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
                    error = "disconnect"
                    break
                if not chunk:
                    break
                at = _us(t0)
                try:
                    await out.write(chunk)
                except ConnectionError:
                    capture.add(chunk, at)
                    error = "client-disconnect"
                    break
                capture.add(chunk, at)
        except asyncio.CancelledError:
            # aiohttp cancelled the handler (client gone, server stopping): keep what was seen, off this task.
            self._later(self._deliver(capture.interaction("client-disconnect", api, endpoint)))
            raise
        # Mirror the failure: the client sees its connection drop mid-body, as it would have.
        if error in ("timeout", "disconnect") and request.transport is not None:
            request.transport.abort()
        if error is None:
            # The client's last byte goes out before the recording is saved (fsync takes milliseconds).
            # A client that closes after the last byte had all it wanted.
            with contextlib.suppress(ConnectionError):
                await out.write_eof()
        await self._deliver(capture.interaction(error, api, endpoint))
        return out

    async def _deliver(self, interaction: Interaction) -> None:
        await self.sink(self.scrub.interaction(interaction))

    def _later(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _fail(
        self,
        request: web.Request,
        req: RecordedRequest,
        api: str | None,
        endpoint: str,
        codec: Codec | None,
        t0: float,
        error: str,
        exc: BaseException,
    ) -> web.StreamResponse:
        kind = ErrorKind.TIMEOUT if error == "timeout" else ErrorKind.BAD_GATEWAY
        status = 504 if error == "timeout" else 502
        detail = str(exc) or type(exc).__name__
        message = f"llmreplay record: upstream {self.shown} {_WHAT[error]}: {detail}"
        status, headers, body = _error_answer(codec, kind, status, message)
        end_us = _us(t0)
        resp = RecordedResponse(status, headers, body=body, headers_us=end_us, end_us=end_us, error=error)
        await self._deliver(Interaction(req, resp, api, endpoint, _now_rfc3339()))
        out = web.Response(status=status, body=body)
        for k, v in headers:
            out.headers.add(k, v)
        return out


class _Relayed(web.StreamResponse):
    """A response whose status line and headers wait for its first write, as aiohttp's ``Response`` does,
    so that they can leave with the body bytes that came in with them."""

    _send_headers_immediately = False


class _Capture:
    """What has been seen of one upstream response, turned into its record at the end.

    Chunks are only kept with their arrival times while the stream runs; they are cut into events once it
    is over, so the relay does no parsing between reading a chunk and writing it on.
    """

    def __init__(
        self,
        req: RecordedRequest,
        status: int,
        headers: tuple[tuple[str, str], ...],
        stream_type: str | None,
        headers_us: int,
        t0: float,
    ) -> None:
        self.req, self.status, self.headers, self.headers_us, self.t0 = req, status, headers, headers_us, t0
        self.stream_type = stream_type
        self.chunks: list[bytes] = []
        self.arrivals: list[int] = []

    def add(self, chunk: bytes, at_us: int) -> None:
        self.chunks.append(chunk)
        self.arrivals.append(at_us)

    def interaction(self, error: str | None, api: str | None, endpoint: str) -> Interaction:
        end_us = _us(self.t0)
        events: tuple[RecordedEvent, ...] | None = None
        if self.stream_type is not None:
            events = tuple(split_chunks(self.chunks, self.arrivals, self.stream_type, end_us))
        resp = RecordedResponse(
            status=self.status,
            headers=self.headers,
            body=None if events is not None else b"".join(self.chunks),
            events=events,
            headers_us=self.headers_us,
            end_us=end_us,
            error=error,
        )
        return Interaction(self.req, resp, api, endpoint, _now_rfc3339())


_WHAT = {"connect": "is unreachable", "timeout": "timed out", "disconnect": "closed the connection"}


def _error_answer(
    codec: Codec | None, kind: ErrorKind, status: int, message: str
) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """The proxy's own error, in the route's provider envelope when it has one."""
    if codec is not None:
        answer = codec.render_error(ApiError(kind, message, status=status), RenderOptions())
        headers = tuple((k.lower(), v) for k, v in answer.headers if not _skip(k))
        if not any(k == "content-type" for k, _ in headers):
            headers += (("content-type", "application/json"),)
        return answer.status, headers, answer.body
    doc: dict[str, Any] = {"error": {"message": message, "type": kind.value, "code": status}}
    return status, (("content-type", "application/json"),), json.dumps(doc).encode()


def _us(t0: float) -> int:
    return int((time.perf_counter() - t0) * 1_000_000)
