"""An upstream's answer as llmreplay's client reads it (:mod:`llmreplay.sources.client`): its head, then its body,
taken a chunk at a time or piped to a sink from the connection's own read.

A connection reads on whatever its answer's reader takes: past ``_HIGH_WATER`` bytes read and not taken (the
client downstream is slower than the upstream) it stops reading until they are.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Literal, Protocol

Failure = Literal["connect", "timeout", "disconnect"]
ChunkSink = Callable[[bytes], bool]
"""Takes a chunk of the body as it is read; False once it can take no more now (its client is gone or slow)."""

_HIGH_WATER = 1 << 16
"""Bytes read and not yet taken before the connection stops reading."""
_DECODED = frozenset({"gzip", "x-gzip", "deflate"})


class UpstreamError(Exception):
    """The upstream could not be reached, was silent for the timeout or dropped the connection."""

    def __init__(self, kind: Failure, message: str) -> None:
        super().__init__(message)
        self.kind: Failure = kind


class Connection(Protocol):
    """What an answer asks of the connection it is read from."""

    loop: asyncio.AbstractEventLoop

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> None: ...

    def done(self, resp: Response) -> None:
        """The answer is no longer read: the connection goes back to its pool or is closed."""
        ...


class Response:
    """One call's answer on its connection: the head once in, then the body as the connection reads it.

    The body is taken by ``readany`` (a chunk at a time, as it comes) or by a pipe (``pipe``: every chunk handed to a
    sink from the connection's read, with no task between), never both at once. ``total_bytes``, ``is_eof``,
    ``exception`` and ``set_exception`` are what :class:`~llmreplay.sources.silence.Silence` watches."""

    __slots__ = (
        "_chunks",
        "_conn",
        "_decoder",
        "_error",
        "_held",
        "_keep",
        "_over",
        "_sink",
        "_waiter",
        "complete",
        "head",
        "headers",
        "method",
        "status",
        "total_bytes",
    )

    def __init__(self, conn: Connection, method: str) -> None:
        self._conn = conn
        self.method = method
        self.status = 0
        self.headers: list[tuple[str, str]] = []
        self.head: asyncio.Future[None] = conn.loop.create_future()
        self.complete = False
        """The upstream's whole message is in (a chunk may still wait to be taken)."""
        self.total_bytes = 0
        self._chunks: list[bytes] = []
        self._held = 0
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._sink: ChunkSink | None = None
        self._keep: Callable[[bytes], None] | None = None
        self._over: asyncio.Future[None] | None = None
        self._decoder: zlib._Decompress | None = None

    # The answer as it comes, from the connection's parser.

    def on_head(self, status: int) -> None:
        self.status = status
        for i, (name, value) in enumerate(self.headers):
            if name.lower() == "content-encoding" and value.strip().lower() in _DECODED:
                # As aiohttp's auto_decompress: the recording holds what a client decodes, and the header goes
                # with the encoding (Accept-Encoding is identity, so only an upstream that ignores it gets here).
                self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
                del self.headers[i]
                break
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, data: bytes) -> None:
        if self._decoder is not None:
            try:
                data = self._decoder.decompress(data)
            except zlib.error as exc:
                self.set_exception(UpstreamError("disconnect", f"Can not decode the upstream's body: {exc}"))
                self._conn.close()
                return
            if not data:
                return
        self.total_bytes += len(data)
        sink = self._sink
        if sink is not None:
            self._keep(data)  # type: ignore[misc]
            if not sink(data):
                self.unpipe()
            return
        self._chunks.append(data)
        self._held += len(data)
        if self._held > _HIGH_WATER:
            self._conn.pause()
        self._wake()

    def on_end(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is not None and (rest := decoder.flush()):
            self.on_body(rest)
        self.complete = True
        self.unpipe()
        self._wake()

    def set_exception(self, exc: BaseException) -> None:
        if self.complete or self._error is not None:
            return
        self._error = exc
        if not self.head.done():
            self.head.set_exception(exc)
            self.head.exception()  # retrieved: nobody may be waiting for it any more
        self.unpipe()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # The body as it is taken.

    def exception(self) -> BaseException | None:
        return self._error

    def is_eof(self) -> bool:
        return self.complete

    def read_nowait(self) -> bytes:
        """Whatever of the body is in and not yet taken, without waiting (b"" if none)."""
        chunks = self._chunks
        if not chunks:
            return b""
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._held = 0
        self._conn.resume()
        return data

    async def readany(self) -> bytes:
        """The next part of the body, as soon as there is one; b"" at its end; the failure if it broke."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self.complete:
                return b""
            self._waiter = self._conn.loop.create_future()
            await self._waiter
        return self.read_nowait()

    def pipe(self, keep: Callable[[bytes], None], sink: ChunkSink) -> asyncio.Future[None] | None:
        """Hand every chunk, first what is already in, to ``keep`` and then ``sink`` as the connection reads it.
        The future is done when the pipe stops: the body ended or broke, or ``sink`` could take no more. None if
        it is over already."""
        if self.complete or self._error is not None:
            return None
        self._over = over = self._conn.loop.create_future()
        data = self.read_nowait()
        if data:
            keep(data)
            if not sink(data):
                over.set_result(None)
                self._over = None
                return over
        self._keep, self._sink = keep, sink
        return over

    def unpipe(self) -> None:
        """Stop handing chunks on (the body ended or broke, the sink is full, or the exchange was cut short)."""
        self._sink = self._keep = None
        over, self._over = self._over, None
        if over is not None and not over.done():
            over.set_result(None)

    def release(self) -> None:
        """Done with this answer: its connection goes back to the pool if the upstream's message is all in and
        the connection may be kept, else it is closed."""
        self.unpipe()
        self._conn.done(self)
