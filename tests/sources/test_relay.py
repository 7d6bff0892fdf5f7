"""The record proxy's relay: a stream no stage wraps goes from the upstream's read straight to the client
(``sources/client.py``, ``shaping/relay.py``), records what iterating it recorded, keeps up with an upstream that
sends as fast as it can, and waits for a client that reads slowly."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from llmreplay.model import Answer
from llmreplay.shaping.faultkinds import live as fault_live
from llmreplay.shaping.relay import Piped, Relay
from llmreplay.sources import upstream as upstream_mod
from tests.sources.test_record import CHAT, recording, serve

EVENT = b'data: {"choices":[{"delta":{"content":"relayed"}}]}\n\n'
BLOCK = EVENT * (65536 // len(EVENT))


@asynccontextmanager
async def fast_upstream(blocks: int) -> AsyncIterator[tuple[str, list[int]]]:
    """An upstream that streams ``blocks`` blocks of events as fast as its client takes them; the list holds the
    bytes it has written so far."""
    written = [0]

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for _ in range(blocks):
            await resp.write(BLOCK)
            written[0] += len(BLOCK)
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    async with serve(app) as server:
        yield str(server.make_url("")).rstrip("/"), written


def _count_pipes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the writer piped a body, and how many chunks its relays wrote."""
    counts = [0, 0]
    pipe, call = upstream_mod._Body.pipe, Relay.__call__

    def counted_pipe(self: Any, sink: Callable[[bytes], bool]) -> asyncio.Future[None] | None:
        counts[0] += 1
        return pipe(self, sink)

    def counted_call(self: Relay, data: bytes) -> bool:
        counts[1] += 1
        return call(self, data)

    monkeypatch.setattr(upstream_mod._Body, "pipe", counted_pipe)
    monkeypatch.setattr(Relay, "__call__", counted_call)
    return counts


async def _read(url: str, pause_s: float = 0.0, piece: int = 1 << 20) -> bytes:
    async with (
        aiohttp.ClientSession(read_bufsize=min(piece, 1 << 16)) as s,
        s.post(url + "/v1/chat/completions", json={**CHAT, "stream": True}) as resp,
    ):
        assert resp.status == 200
        got = bytearray()
        while chunk := await resp.content.read(piece):
            got += chunk
            if pause_s:
                await asyncio.sleep(pause_s)
        return bytes(got)


async def _read_slowly(url: str) -> bytes:
    """A client with a small receive buffer that takes 4 KiB at a time: the proxy's writes to it back up."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({**CHAT, "stream": True}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    await loop.sock_sendall(sock, head.encode() + body)
    raw = bytearray()
    with sock:
        while data := await loop.sock_recv(sock, 4096):
            raw += data
            await asyncio.sleep(0.0005)
    headers, _, chunked = bytes(raw).partition(b"\r\n\r\n")
    assert headers.startswith(b"HTTP/1.1 200") and b"chunked" in headers.lower()
    got, at = bytearray(), 0
    while True:
        end = chunked.index(b"\r\n", at)
        size = int(chunked[at:end], 16)
        if size == 0:
            return bytes(got)
        got += chunked[end + 2 : end + 2 + size]
        at = end + 4 + size


async def test_a_stream_is_relayed_through_the_pipe_and_recorded_as_when_iterated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = _count_pipes(monkeypatch)
    async with fast_upstream(4) as (base, _), recording(base) as (url, records):
        piped = await _read(url)
        await records.wait()
    assert counts[0] >= 1 and counts[1] >= 1
    expected = BLOCK * 4 + b"data: [DONE]\n\n"
    assert piped == expected

    # The same exchange with the pipe declined: the writer iterates the body, as it did before the pipe.
    monkeypatch.setattr(upstream_mod._Body, "pipe", lambda self, sink: None)
    async with fast_upstream(4) as (base, _), recording(base) as (url, iterated):
        assert await _read(url) == expected
        await iterated.wait()
    [a], [b] = records, iterated
    assert a.response.raw == b.response.raw == expected
    assert a.response.events is not None and b.response.events is not None
    assert [e.data for e in a.response.events] == [e.data for e in b.response.events]
    assert a.response.error is b.response.error is None


async def test_an_upstream_faster_than_the_loop_is_relayed_whole() -> None:
    # 8 MiB as fast as loopback carries it: aiohttp's reader pauses and resumes its parser under the pipe
    # (reading inside the parser's own callback once stalled the connection for good).
    async with fast_upstream(128) as (base, _), recording(base) as (url, records):
        async with asyncio.timeout(60):
            got = await _read(url)
            await records.wait()
    assert got == BLOCK * 128 + b"data: [DONE]\n\n"
    assert records[0].response.raw == got


async def test_a_slow_client_pauses_the_relay_and_gets_every_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = _count_pipes(monkeypatch)
    async with fast_upstream(64) as (base, written), recording(base) as (url, records):
        async with asyncio.timeout(60):
            got = await _read_slowly(url)
            await records.wait()
    assert got == BLOCK * 64 + b"data: [DONE]\n\n"
    assert written[0] == 64 * len(BLOCK)
    # The client's connection filled up: the pipe stopped, the relay waited for the client, and piped again.
    assert counts[0] > 1
    assert records[0].response.raw == got and records[0].response.error is None


def test_a_stream_a_fault_has_wrapped_is_not_piped() -> None:
    # A stage that holds, cuts or shifts frames wraps the live body: the writer then iterates, and the stage
    # is obeyed frame by frame.
    answer = Answer(200, (("content-type", "text/event-stream"),), (), stream=True, live=_Live())
    assert isinstance(answer.live, Piped)
    for wrapped in (
        fault_live.shifted(answer, 0.5),  # a slow first token, slow headers
        fault_live.settled(_Exchange(), answer, lambda a: a),  # a stage that shapes the whole stream
        dataclasses.replace(answer, live=fault_live._Events(answer)),  # cut into events, for a fault at chunk n
    ):
        assert wrapped.live is not None and not isinstance(wrapped.live, Piped)


@dataclasses.dataclass
class _Exchange:
    t0: float = 0.0


class _Live:
    """Stands for the upstream's body: frames that can be piped."""

    cut = None

    def __aiter__(self) -> _Live:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration

    def close(self, drain: bool = True) -> None:
        return None

    def pipe(self, sink: Callable[[bytes], bool]) -> asyncio.Future[None] | None:
        return None
