"""The writer keeps time on a real server: first chunk at the TTFT, then one gap per chunk.

Generous tolerances here; precise figures are for benchmarks/.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
import pytest

TEXT = "The quick brown fox jumps over the lazy dog. " * 4  # 180 chars → 18 chunks of 10


@pytest.mark.usefixtures("no_gc_pauses")
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_first_chunk_at_ttft_then_steady_gaps(make_server, path):
    srv = make_server(
        latency={"initial_delay_ms": 300, "delay_ms": 50, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    body = {"model": "m", "max_tokens": 1000, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    arrivals = asyncio.run(_arrivals(srv.url + path, body))
    first, gaps = arrivals[0], [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) >= 15
    assert 0.270 <= first <= 0.330, f"first chunk at {first * 1000:.1f} ms"
    bad = [round(g * 1000, 1) for g in gaps if not 0.030 <= g <= 0.070]
    assert not bad, f"gaps outside 50±20 ms: {bad}"


async def _arrivals(url: str, body: dict) -> list[float]:
    """Arrival time (s since the request was sent) of each network read that carried content."""
    out: list[float] = []
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        async with session.post(url, json=body, headers={"anthropic-version": "2023-06-01"}) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                if b'"content":"' in chunk or b"text_delta" in chunk:
                    out.append(time.perf_counter() - start)
    return out
