"""An exchange starts when its request arrived, and a stream that starts late keeps its gaps."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from aiohttp import web

from llmreplay import arrival
from llmreplay.shaping.writer import clock
from tests.schedule_spy import spy_on_streams, steps
from tests.shaping.test_stream_timing import CHUNKS, TEXT, read_stream, text_of


async def _seen_arrival(stamped: bool, held_s: float = 0.0) -> tuple[float, float, float]:
    """When the server said the request arrived, and the writer's clock just before it was sent and when the
    loop (held for ``held_s`` after sending, as by a burst of other requests) could next read it."""
    seen: list[float] = []

    async def handler(request: web.BaseRequest) -> web.Response:
        seen.append(arrival.arrived(request))
        return web.Response(text="ok")

    server = web.Server(handler)
    if stamped:
        arrival.stamp(server)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.05)  # the server has the connection
        sent = clock()
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")  # sent at once: the buffer is empty
        time.sleep(held_s)
        free = clock()
        await reader.read()
        writer.close()
    finally:
        listener.close()
        await server.shutdown()
    return sent, seen[0], free


async def test_a_stamped_server_notes_when_the_request_arrived() -> None:
    sent, seen, _ = await _seen_arrival(stamped=True)
    assert sent - 0.01 <= seen <= clock()  # (the kernel's stamp is wall-clock time: a little slack for its offset)
    assert (await _seen_arrival(stamped=False))[1] == 0.0


@pytest.mark.skipif(arrival.SO_TIMESTAMPNS is None, reason="the kernel's receive stamps are Linux's")
async def test_a_request_waiting_in_the_socket_while_the_loop_is_busy_arrived_when_the_kernel_took_it() -> None:
    # Held 300 ms, as a burst of requests holds the loop: the bytes wait in the socket meanwhile, and every frame
    # of a stream timed from when the loop read them would be that much late.
    sent, seen, free = await _seen_arrival(stamped=True, held_s=0.3)
    assert sent - 0.01 <= seen < free


def test_a_stream_past_its_first_deadline_starts_at_once_and_keeps_its_gaps(make_server, monkeypatch):
    # As if each request had waited 400 ms for a busy server: its first chunk (due at 100 ms) is overdue.
    monkeypatch.setattr(arrival, "arrived", lambda request: clock() - 0.4)
    spy = spy_on_streams(monkeypatch)
    srv = make_server(
        latency={"initial_delay_ms": 100, "delay_ms": 50, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    got = asyncio.run(read_stream(srv.url + "/v1/chat/completions", body))
    assert text_of(got.body) == TEXT
    stream = spy.only(srv)
    # Checked on the writer's schedule, not a stopwatch (which a busy machine skews): the first frame was
    # already overdue when the scheduler got it, so its first run writes it, ...
    assert stream.due[0] <= stream.submitted_at
    # ... and the others keep their 50 ms gaps from when it left, not from the missed schedule: no burst of
    # catch-up frames. Frame 1 is due 50 ms after the writer saw it was behind (at least 400 ms in), at the latest
    # 50 ms after the frames were handed over.
    stream.check_schedule(steps(0.100, 0.050, CHUNKS))
    assert stream.t0 + 0.400 + 0.050 <= stream.due[1] <= stream.submitted_at + 0.050
    stream.check_reads_not_early(got.reads)


@pytest.mark.skipif(arrival.SO_TIMESTAMPNS is None, reason="the kernel's receive stamps are Linux's")
def test_a_stamp_from_before_the_wall_clock_was_set_forward_is_not_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        conn, _ = listener.accept()
        with client, conn:
            conn.setsockopt(socket.SOL_SOCKET, arrival.SO_TIMESTAMPNS, 1)
            conn.setblocking(False)
            assert arrival.received_at(conn) == 0.0  # nothing waiting
            _until_stamped(client, conn)
            before = clock()
            client.sendall(b"GET / HTTP/1.1\r\n\r\n")
            time.sleep(0.05)
            assert before - 0.01 <= arrival.received_at(conn) <= clock()
            real = time.time
            monkeypatch.setattr(arrival.time, "time", lambda: real() + 3600)  # an hour forward
            assert arrival.received_at(conn) == 0.0


def _until_stamped(client: socket.socket, conn: socket.socket) -> None:
    """Wait until the kernel stamps what ``conn`` receives. Linux turns stamping on for the whole machine the
    first time a socket asks, in deferred work: when no other socket has it on (tests in parallel vary), the
    first segments after ``setsockopt`` can arrive unstamped. The server reads those at the read's time."""
    deadline = time.monotonic() + 5
    while True:
        client.sendall(b".")
        time.sleep(0.005)
        stamped = arrival.received_at(conn) != 0.0
        conn.recv(1)
        if stamped:
            return
        assert time.monotonic() < deadline, "the kernel never stamped a segment"
