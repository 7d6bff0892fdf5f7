"""Load degradation on a real server: latency grows with the requests in flight on the endpoint.

Checked on the writer's own deadlines (:mod:`tests.schedule_spy`), not a client's stopwatch: each stream is
scheduled at the gaps its load factor asks for. Streams are opened one after another, each once the one before
is being written, so that the k-th sees exactly k in flight (itself included); they are long, and closed once
the last is scheduled, so that none ends on its own while the others start.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import httpx2
import pytest

from llmreplay.server import BackgroundServer
from tests.schedule_spy import TOLERANCE_S, Spy, Stream, spy_on_streams

TTFT_S, GAP_S = 0.010, 0.050
FACTOR, KNEE = 3.0, 10
TEXT = "The quick brown fox jumps over the lazy dog. " * 40  # 180 chunks: 9 s at 1×, far longer than the test
USER = [{"role": "user", "content": "hi"}]
CHAT = {"model": "gpt-4o", "stream": True, "messages": USER}
MESSAGES = {"model": "claude-sonnet-4-6", "max_tokens": 4096, "stream": True, "messages": USER}


def expected_factor(k: int) -> float:
    """The load factor of the k-th stream held open at once (1-based): linear from 1× to FACTOR at KNEE."""
    return 1 + (FACTOR - 1) * (min(k, KNEE) - 1) / (KNEE - 1)


def check_factor(stream: Stream, factor: float) -> None:
    """The stream's first frame at TTFT × factor and every gap GAP × factor, in the answer and as handed to the
    scheduler (frames 1.. may be moved later together, only if the first left late: see ``check_schedule``)."""
    assert abs(stream.offsets[0] - TTFT_S * factor) <= TOLERANCE_S, (stream.offsets[0], factor)
    gaps = [b - a for a, b in itertools.pairwise(stream.offsets)]
    assert len(gaps) > 100
    assert all(abs(g - GAP_S * factor) <= TOLERANCE_S for g in gaps), (gaps[:3], factor)
    due_gaps = [b - a for a, b in itertools.pairwise(stream.due[1:])]
    assert all(abs(g - GAP_S * factor) <= TOLERANCE_S for g in due_gaps)


@asynccontextmanager
async def held(session: aiohttp.ClientSession, url: str, body: dict) -> AsyncIterator[None]:
    """A stream open until the block ends: entered once its first frame is read (so it is in flight, and its
    schedule is the writer's), left by closing the connection."""
    headers = {"anthropic-version": "2023-06-01"}
    async with session.post(url, json=body, headers=headers) as resp:
        assert resp.status == 200
        assert await resp.content.readany()
        yield
        resp.close()


async def wait_idle(admin: str, endpoint: str) -> None:
    """Until the server counts nothing in flight on ``endpoint`` (closed streams are noticed at their next write)."""
    async with httpx2.AsyncClient() as client:
        for _ in range(400):
            snap = (await client.get(admin + "/api/metrics")).json()
            if snap["endpoints"].get(endpoint, {}).get("active_connections", 0) == 0:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{endpoint} still has requests in flight")


async def run(srv: BackgroundServer, spy: Spy) -> None:
    chat, messages = srv.url + "/v1/chat/completions", srv.url + "/v1/messages"
    # Connections of their own: a pooled one would wait for the held streams to end.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with AsyncExitStack() as stack:
            for _ in range(KNEE):
                await stack.enter_async_context(held(session, chat, CHAT))
            # Ten chat streams in flight: another endpoint's lone stream keeps 1×.
            async with held(session, messages, MESSAGES):
                pass
            streams = spy.of(srv)
        assert len(streams) == KNEE + 1
        for k, stream in enumerate(streams[:KNEE], start=1):
            check_factor(stream, expected_factor(k))
        check_factor(streams[KNEE], 1.0)
        # The load gone, a lone chat stream is back to 1×.
        await wait_idle(srv.url, "chat-completions")
        async with held(session, chat, CHAT):
            pass
        check_factor(spy.of(srv)[-1], 1.0)


def test_ten_streams_in_flight_are_slowed_to_the_factor_and_a_lone_one_is_not(
    make_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = spy_on_streams(monkeypatch)
    srv = make_server(
        latency={
            "initial_delay_ms": TTFT_S * 1000,
            "delay_ms": GAP_S * 1000,
            "jitter_ms": 0,
            "load_degradation": True,
            "load_factor": FACTOR,
            "load_knee": KNEE,
        },
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    asyncio.run(run(srv, spy))
    # The tenth (and every later one) is at the factor itself: three times the configured gap.
    assert expected_factor(KNEE) == expected_factor(KNEE + 5) == FACTOR


def test_an_endpoint_of_its_own_degrades_alone(make_server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switched on for one endpoint through the admin API, at a knee of two: its second stream is at the
    factor; the global configuration's endpoints are not degraded."""
    spy = spy_on_streams(monkeypatch)
    srv = make_server(
        latency={"initial_delay_ms": TTFT_S * 1000, "delay_ms": GAP_S * 1000, "jitter_ms": 0},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    patch = {"latency": {"load_degradation": True, "load_factor": 2.5, "load_knee": 2}}
    assert httpx2.patch(srv.url + "/api/config/endpoints/messages", json=patch).status_code == 200

    async def go() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session, AsyncExitStack() as st:
            for url, body in [("/v1/chat/completions", CHAT)] * 2 + [("/v1/messages", MESSAGES)] * 2:
                await st.enter_async_context(held(session, srv.url + url, body))

    asyncio.run(go())
    factors = [1.0, 1.0, 1.0, 2.5]
    streams = spy.of(srv)
    assert len(streams) == len(factors)
    for stream, factor in zip(streams, factors, strict=True):
        check_factor(stream, factor)
