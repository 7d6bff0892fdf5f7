"""An exchange starts when its request arrived, and a stream that starts late keeps its gaps."""

from __future__ import annotations

import asyncio

from aiohttp import web

from llmreplay import arrival
from llmreplay.shaping.writer import clock
from tests.schedule_spy import spy_on_streams, steps
from tests.shaping.test_stream_timing import CHUNKS, TEXT, read_stream, text_of


async def _seen_arrival(stamped: bool) -> float:
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
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await reader.read()
        writer.close()
    finally:
        listener.close()
        await server.shutdown()
    return seen[0]


async def test_a_stamped_server_notes_when_the_request_arrived() -> None:
    before = clock()
    seen = await _seen_arrival(stamped=True)
    assert before <= seen <= clock()
    assert await _seen_arrival(stamped=False) == 0.0


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
