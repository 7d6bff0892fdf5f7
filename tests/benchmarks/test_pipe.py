"""Figure 4's floor (benchmarks/pipe.py) relays what each side sends, whole and in order, and closes each side
when the other does."""

from __future__ import annotations

import asyncio
import contextlib

from benchmarks.harness import free_port
from benchmarks.pipe import serve


async def test_the_pipe_relays_both_ways_and_closes_with_the_upstream() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readexactly(5)
        for part in (b"one:", request, b":two"):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.close()

    upstream = await asyncio.start_server(answer, "127.0.0.1", 0)
    up_port = upstream.sockets[0].getsockname()[1]
    port = free_port()
    piping = asyncio.ensure_future(serve(port, up_port))
    try:
        for _ in range(200):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.01)
        writer.write(b"hel")
        await asyncio.sleep(0)  # the rest comes in a second write, perhaps before the upstream is connected
        writer.write(b"lo")
        assert await asyncio.wait_for(reader.read(), 10) == b"one:hello:two"  # read to the end: the pipe closed
        writer.close()
    finally:
        piping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await piping
        upstream.close()
        await upstream.wait_closed()
