"""Case 25 of issue 19: a slow client cannot hold a connection (a file descriptor) for as long as it likes.

The request line and headers must arrive within ``header_timeout_s``, an idle kept-alive connection is closed
after ``keepalive_timeout_s``, and past ``max_connections`` a new connection is closed at once, with a log
line. What is checked is that the server closes the connection while the client still had bytes to send (a
head that would take 20 s to trickle in), not how fast: a busy machine only makes the close later."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import pytest

from llmreplay.server import BackgroundServer

HEAD = b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"x-pad-%d: y\r\n" % i for i in range(8)) + b"\r\n"


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (read, without waiting, what it sent)."""
    sock.setblocking(False)
    try:
        got = sock.recv(65536)
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)
    return got == b"" or _closed(sock)


def _trickle(port: int, every_s: float) -> tuple[int, float]:
    """Send :data:`HEAD` one byte every ``every_s``; (bytes sent when the server closed, seconds taken)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for sent in range(len(HEAD)):
            if _closed(sock):
                return sent, time.monotonic() - start
            try:
                sock.sendall(HEAD[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return sent, time.monotonic() - start
            time.sleep(every_s)
    return len(HEAD), time.monotonic() - start


def test_a_head_sent_a_byte_at_a_time_is_cut_off(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(server={"quiet": True, "header_timeout_s": 1})
    sent, took = _trickle(srv.port, every_s=0.1)
    print(f"head of {len(HEAD)} bytes at one byte per 0.1 s: closed after {sent} bytes, {took:.2f} s")
    assert sent < len(HEAD) // 2  # would take ~20 s in full; a 1 s deadline cuts it after ~10 bytes


def test_a_new_connection_that_sends_nothing_is_closed(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(server={"quiet": True, "header_timeout_s": 1})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        assert sock.recv(1) == b""  # closed by the server, long before the socket's own 30 s


def test_an_idle_keep_alive_connection_is_closed(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(server={"quiet": True, "keepalive_timeout_s": 1})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(65536)
        assert got.startswith(b"HTTP/1.1 200")
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(
            next(v for k, _, v in (ln.partition(b":") for ln in head.split(b"\r\n")) if k.lower() == b"content-length")
        )
        while len(body) < length:
            body += sock.recv(65536)
        assert sock.recv(1) == b""  # the idle connection is closed, long before the socket's own 30 s


def test_connections_past_the_cap_are_closed_with_a_log_line(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="llmreplay")
    srv = make_server(server={"quiet": True, "max_connections": 4, "header_timeout_s": 60})
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=30) for _ in range(4)]
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as extra:
            assert extra.recv(1) == b""
        assert not any(_closed(s) for s in held)
        held[0].sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert held[0].recv(12).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()
    assert any("connection cap" in r.getMessage() for r in caplog.records)
