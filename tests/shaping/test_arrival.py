"""An exchange starts when its request arrived, and a stream that starts late keeps its gaps."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiohttp import web

from llmreplay import arrival
from llmreplay.shaping.writer import clock
from tests.shaping.test_stream_timing import TEXT, _arrivals


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


@pytest.mark.usefixtures("no_gc_pauses")
def test_a_stream_past_its_first_deadline_starts_at_once_and_keeps_its_gaps(make_server, monkeypatch):
    # As if each request had waited 400 ms for a busy server: its first chunk (due at 100 ms) is overdue.
    monkeypatch.setattr(arrival, "arrived", lambda request: clock() - 0.4)
    srv = make_server(
        latency={"initial_delay_ms": 100, "delay_ms": 50, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    arrivals = asyncio.run(_arrivals(srv.url + "/v1/chat/completions", body))
    assert len(arrivals) >= 15
    assert arrivals[0] < 0.08, f"first chunk at {arrivals[0] * 1000:.1f} ms: it was overdue, so at once"
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    bad = [round(g * 1000, 1) for g in gaps if not 0.030 <= g <= 0.070]
    assert not bad, f"gaps outside 50±20 ms (a catch-up burst?): {bad}"
