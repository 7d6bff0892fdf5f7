"""Each request on a kept-alive connection has its own head deadline, counted from its first bytes, although
the connection keeps one timer for all of them (arrival.py: a timer made and cancelled per request cost more
than the kernel's stamp). What is checked is which connections are closed, not when: a busy machine only
makes a close later."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable

from llmreplay.server import BackgroundServer
from tests.reliability.test_slow_clients import HEAD, _closed


def _ask(conn: http.client.HTTPConnection) -> None:
    conn.request("GET", "/v1/models")
    with conn.getresponse() as resp:
        assert resp.status == 200
        resp.read()


def _kept_alive(port: int) -> http.client.HTTPConnection:
    """A connection that has had one request answered, and stays open."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    _ask(conn)
    return conn


def test_requests_spread_past_the_deadline_each_on_time_keep_their_connection(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(server={"quiet": True, "header_timeout_s": 1})
    conn = _kept_alive(srv.port)
    sock = conn.sock
    for _ in range(4):  # 2 s in all, twice the deadline: each head comes whole, at once
        time.sleep(0.5)
        _ask(conn)
    assert conn.sock is sock  # the same connection throughout
    conn.close()


def test_a_later_head_trickled_on_a_kept_alive_connection_is_cut_off(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(server={"quiet": True, "header_timeout_s": 1})
    conn = _kept_alive(srv.port)
    sock = conn.sock
    time.sleep(0.5)  # the first request's deadline is still ahead when the second's head begins
    sent = 0
    try:
        while sent < len(HEAD) and not _closed(sock):
            sock.sendall(HEAD[sent : sent + 1])
            sent += 1
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass
    conn.close()
    assert sent < len(HEAD) // 2  # would take ~14 s in full; its own 1 s deadline cuts it after ~10 bytes
