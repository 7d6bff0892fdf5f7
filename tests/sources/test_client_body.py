"""The record proxy's client reading answers (sources/response.py): every framing of a body, encodings, interim
and bodiless answers, the pipe to a sink, and a reader slower than its upstream."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from llmreplay.sources.client import Client
from tests.sources.client_kit import body_of, ok, read_request, upstream


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", b"until the end"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            b"hello world",
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", b"old"),
    ],
    ids=["closed-at-the-end", "chunked", "http-1.0"],
)
async def test_each_framing_of_a_body_is_read_to_its_end(answer: bytes, body: bytes) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        for i in range(0, len(answer), 7):  # in small pieces, as a slow network hands them on
            writer.write(answer[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0.001)
        if b"Content-Type: text/plain" in answer:
            writer.close()
        else:
            await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 200 and await body_of(resp) == body
        finally:
            await client.close()


async def test_a_gzip_body_is_decoded_and_loses_its_encoding_header() -> None:
    payload = b'{"choices": []}' * 100

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(ok(gzip.compress(payload), "Content-Encoding: gzip", "Content-Type: application/json"))
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert [k.lower() for k, _ in resp.headers] == ["content-length", "content-type"]
            assert await body_of(resp) == payload
        finally:
            await client.close()


async def test_interim_answers_no_body_answers_and_head_leave_the_connection_usable() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"after continue"))
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await read_request(reader)
        writer.write(ok(b"again"))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")  # HEAD: the length of a body not sent
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 200 and await body_of(resp) == b"after continue"
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 204 and await body_of(resp) == b""
            assert await body_of(await client.request("POST", url, [], b"{}", 5)) == b"again"
            resp = await asyncio.wait_for(client.request("HEAD", url, [], b"", 5), 5)
            assert resp.status == 200 and await asyncio.wait_for(body_of(resp), 5) == b""
        finally:
            await client.close()


async def test_an_answer_nobody_asked_for_changes_nothing_and_the_connection_goes() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        if n == 0:  # the answer asked for, and one more in the same write
            writer.write(ok(b"first") + b"HTTP/1.1 201 Created\r\nX-Stray: 1\r\nContent-Length: 5\r\n\r\nstray")
        else:
            writer.write(ok(b"second"))
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("GET", url, [], b"", 5)
            assert resp.status == 200 and await body_of(resp) == b"first"
            assert resp.status == 200 and resp.headers == [("Content-Length", "5")]
            resp = await client.request("GET", url, [], b"", 5)  # on a new connection: the first was closed
            assert resp.status == 200 and await body_of(resp) == b"second"
        finally:
            await client.close()


async def test_a_pipe_hands_on_each_chunk_and_stops_when_its_sink_is_full() -> None:
    gate = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for word in (b"one", b"two", b"three", b"four"):
            await gate.wait()
            gate.clear()
            writer.write(b"%x\r\n%s\r\n" % (len(word), word))
            await writer.drain()
        await gate.wait()
        writer.write(b"0\r\n\r\n")
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            kept: list[bytes] = []
            sunk: list[bytes] = []
            over = resp.pipe(kept.append, lambda data: sunk.append(data) or len(sunk) < 2)
            assert over is not None
            for _ in range(2):
                gate.set()
                await asyncio.sleep(0.05)
            await asyncio.wait_for(over, 5)  # the sink took its second chunk and wanted no more
            assert kept == sunk == [b"one", b"two"]
            gate.set()
            await asyncio.sleep(0.05)
            assert sunk == [b"one", b"two"]  # the third waits to be read
            assert await resp.readany() == b"three"
            gate.set()
            assert await resp.readany() == b"four"
            gate.set()
            assert await resp.readany() == b""
            resp.release()
        finally:
            await client.close()


async def test_a_slow_reader_pauses_the_upstream_and_gets_every_byte() -> None:
    block = bytes(range(256)) * 256  # 64 KiB
    blocks = 32

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(block) * blocks))
        for _ in range(blocks):
            writer.write(block)
            await writer.drain()
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            await asyncio.sleep(0.2)  # the upstream sends as fast as it can, nobody reads
            assert resp._held < 4 * len(block)  # reading paused near the high-water mark, not the whole body held
            got = await body_of(resp)
            assert got == block * blocks
        finally:
            await client.close()
