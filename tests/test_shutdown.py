"""Graceful shutdown of one server process: drain on SIGTERM, refuse new connections, exit 0."""

from __future__ import annotations

import signal
import time

import pytest

from .serverproc import open_stream, refused, request, start, stop

# 20 one-character chunks, 100 ms apart: a stream of about 2 s.
SLOW = {"STREAM_DELAY_MS": "100", "STREAM_CHUNK_SIZE": "1", "DEFAULT_RESPONSE": "x" * 20}


@pytest.fixture
def servers():
    started = []
    yield started
    for s in started:
        stop(s)


def test_idle_server_stops_at_once_with_status_0(servers):
    s = start()
    servers.append(s)
    assert request(s.port, "GET", "/health")[0] == 200
    began = time.monotonic()
    s.signal(signal.SIGTERM)
    assert s.wait() == 0
    assert time.monotonic() - began < 5


def test_sigterm_mid_stream_lets_the_stream_finish(servers):
    s = start(env=SLOW)
    servers.append(s)
    sock, lines = open_stream(s.port)
    with sock:
        assert next(lines).startswith(b"HTTP/1.1 200")
        first = next(line for line in lines if line.startswith(b"data: "))
        assert b"chat.completion.chunk" in first
        s.signal(signal.SIGTERM)
        s.wait_for("stopping: no new connections")
        assert refused(s.port)
        assert s.proc.poll() is None  # still draining
        rest = [line for line in lines if line.startswith(b"data: ")]
    assert rest[-1] == b"data: [DONE]"
    text = b"".join(rest)
    assert text.count(b'"content":"x"') + first.count(b'"content":"x"') == 20
    assert s.wait() == 0


def test_second_sigterm_exits_at_once(servers):
    s = start(env={**SLOW, "DEFAULT_RESPONSE": "x" * 300})  # a 30 s stream
    servers.append(s)
    sock, lines = open_stream(s.port)
    with sock:
        next(line for line in lines if line.startswith(b"data: "))
        began = time.monotonic()
        s.signal(signal.SIGTERM)
        s.wait_for("stopping: no new connections")
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=10) == 1
        assert time.monotonic() - began < 10
        assert b"data: [DONE]" not in list(lines)


def test_drain_timeout_cuts_a_stream_that_outlasts_it(servers):
    s = start(env={**SLOW, "DEFAULT_RESPONSE": "x" * 300, "LLMREPLAY_DRAIN_S": "0.5"})
    servers.append(s)
    sock, lines = open_stream(s.port)
    with sock:
        next(line for line in lines if line.startswith(b"data: "))
        began = time.monotonic()
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=15) == 0
        assert time.monotonic() - began < 10
        assert b"data: [DONE]" not in list(lines)
