"""The record proxy's upstream requests leave when they are made, not a turn of the loop later (issue 23)."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator

import pytest

from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.resume import Resume
from llmreplay.sources.upstream import Upstream


class _Upstream:
    """A keep-alive HTTP/1.1 server on a thread, answering each request once its whole body is in, and telling
    the test (``got``) when it has one: so the test can wait for it without giving its own loop a turn."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = threading.Event()
        self.bodies: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(1 << 16)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(buf) < length:
                    data = conn.recv(1 << 16)
                    if not data:
                        return
                    buf += data
                self.bodies.append(buf[:length])
                buf = buf[length:]
                self.got.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    up = _Upstream()
    yield up
    up.sock.close()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="aiohttp starts its body writer at once from 3.12 on")
async def test_the_request_body_leaves_before_the_loop_turns(upstream: _Upstream) -> None:
    proxy = Upstream(f"http://127.0.0.1:{upstream.port}", sink=_nothing, scrub=Scrubber(ScrubConfig()))
    session = proxy._client()
    try:
        # A first request opens the pooled connection (connecting takes turns of the loop).
        async with session.post(f"http://127.0.0.1:{upstream.port}/v1/chat/completions", data=b'{"a":1}') as resp:
            await resp.read()
        upstream.got.clear()
        body = b'{"model":"gpt-4o","messages":[]}'
        steps = session.post(f"http://127.0.0.1:{upstream.port}/v1/chat/completions", data=body).__await__()
        waiting = next(steps)  # the request runs up to its wait for the answer: no turn of the loop yet
        # Blocking the loop here: only a request that has already left can reach the upstream.
        assert upstream.got.wait(10), "the request had not left when its coroutine first waited"
        assert upstream.bodies[-1] == body
        resp = await Resume(steps, waiting)  # type: ignore[arg-type]
        assert resp.status == 200
        assert await resp.read() == b"{}"
    finally:
        await proxy.close()


async def test_a_body_larger_than_the_write_buffer_arrives_whole(upstream: _Upstream) -> None:
    # Writing it waits for the connection to drain: the rest of the writer runs after its first wait.
    proxy = Upstream(f"http://127.0.0.1:{upstream.port}", sink=_nothing, scrub=Scrubber(ScrubConfig()))
    body = bytes(range(256)) * 8192  # 2 MiB
    try:
        async with proxy._client().post(f"http://127.0.0.1:{upstream.port}/v1/embeddings", data=body) as resp:
            assert resp.status == 200
            await resp.read()
        assert upstream.bodies == [body]
    finally:
        await proxy.close()


async def _nothing(_: object) -> None:
    return None
