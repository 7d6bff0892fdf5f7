"""Case 12 of issue 19: /ws clients that never read are dropped after a bounded backlog, with a log line, and
keep no compressor state (which cost ~300 KiB a client, and a compression per client per message)."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import time
from collections.abc import Callable

import aiohttp
import pytest

from llmreplay.control.dashboard import BACKLOG_BYTES
from llmreplay.runtime import RUNTIME
from llmreplay.server import BackgroundServer

CLIENTS = 20
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi " * 200}]}


def _never_reading(port: int) -> tuple[socket.socket, bytes]:
    """A WebSocket client that offers per-message deflate, reads the handshake's answer and nothing more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small, so that the server's side fills soon
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n" % key
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head


async def _load(url: str, rt: object, until: Callable[[], bool]) -> int:
    """API calls (each an event for every client) until ``until()``; how many it took."""
    n = 0
    async with aiohttp.ClientSession() as session:
        while not until() and n < 20_000:
            await asyncio.gather(*(session.post(f"{url}/v1/chat/completions", json=CHAT) for _ in range(20)))
            n += 20
    return n


def test_never_reading_ws_clients_are_dropped_with_a_bounded_backlog(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="llmreplay.dashboard")
    srv = make_server()
    assert srv.app is not None
    rt = srv.app[RUNTIME]
    clients = [_never_reading(srv.port) for _ in range(CLIENTS)]
    try:
        for _, head in clients:
            assert head.startswith(b"HTTP/1.1 101")
            assert b"permessage-deflate" not in head.lower()  # no compressor state kept per client
        seen: list[int] = []

        def dropped() -> bool:
            server = srv._runner.server if srv._runner is not None else None
            sizes = [c.transport.get_write_buffer_size() for c in server.connections if c.transport is not None]
            seen.append(max(sizes, default=0))
            return rt.events.clients == 0

        calls = asyncio.run(_load(srv.url, rt, dropped))
        # A send larger than the bound may wait on a client that never reads until SEND_TIMEOUT_S: a deadline
        # for the test, not a figure it checks.
        deadline = time.monotonic() + 60
        while not dropped() and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"{CLIENTS} never-reading clients dropped after {calls} API calls; largest backlog {max(seen)} bytes")
        assert rt.events.clients == 0
        # One message beyond the bound at most (the send before the check that drops it): a batch of at most
        # 1,000 events of a few hundred bytes each.
        assert max(seen) <= BACKLOG_BYTES + 512 * 1024
        lines = [r for r in caplog.records if "not reading" in r.getMessage()]
        assert len(lines) == CLIENTS
    finally:
        for sock, _ in clients:
            sock.close()


def test_ws_clients_past_the_cap_get_a_503_with_a_log_line(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    """Each client's backlog is bounded, and so is their number: 1,000 never-reading clients held 618 MiB."""
    caplog.set_level(logging.WARNING, logger="llmreplay.dashboard")
    srv = make_server(server={"max_ws_clients": 2})
    clients = [_never_reading(srv.port) for _ in range(2)]
    try:
        assert all(head.startswith(b"HTTP/1.1 101") for _, head in clients)
        third, head = _never_reading(srv.port)
        third.close()
        assert head.startswith(b"HTTP/1.1 503")
        assert any("max_ws_clients" in r.getMessage() for r in caplog.records)
    finally:
        for sock, _ in clients:
            sock.close()

    async def after_they_left() -> int:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.ws_connect(f"http://127.0.0.1:{srv.port}/ws") as ws:
                        await ws.close()
                        return 101
                except aiohttp.WSServerHandshakeError as e:
                    if time.monotonic() > deadline:
                        return e.status
                    await asyncio.sleep(0.2)

    assert asyncio.run(after_they_left()) == 101  # their places are free again
