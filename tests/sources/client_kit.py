"""Upstreams for the client's tests (test_client.py, test_client_body.py) that answer byte by byte as a test says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from yarl import URL

from llmreplay.sources.response import Response

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
"""One upstream connection: its reader, its writer and its number (0 for the first accepted)."""


async def body_of(resp: Response) -> bytes:
    """The rest of an answer's body, read to its end; the answer released."""
    parts = []
    while chunk := await resp.readany():
        parts.append(chunk)
    resp.release()
    return b"".join(parts)


@asynccontextmanager
async def upstream(handle: Handler) -> AsyncIterator[URL]:
    """An upstream on 127.0.0.1 whose every connection ``handle`` serves; its URL."""
    accepted = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n, accepted[0] = accepted[0], accepted[0] + 1
        try:
            await handle(reader, writer, n)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield URL(f"http://127.0.0.1:{port}/v1/x")
    finally:
        server.close()


async def read_request(reader: asyncio.StreamReader, heads: list[bytes] | None = None) -> bytes:
    """One request's body (its head appended to ``heads``)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if heads is not None:
        heads.append(head)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return await reader.readexactly(length)


def ok(body: bytes, *extra: str) -> bytes:
    """A 200 with ``body`` and its length, and ``extra`` header lines."""
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
