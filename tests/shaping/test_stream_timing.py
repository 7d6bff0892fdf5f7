"""The writer keeps time on a real server: first chunk at the TTFT, then one gap per chunk.

Checked on the writer's own account (see :mod:`tests.schedule_spy`): every frame is scheduled at the
exchange's start plus its offset and leaves no earlier, and the client reads none of it sooner. How *late*
frames leave is the machine's load, not the writer's logic: that figure (TTFT and gap error) is measured by
benchmarks/ (figure 2, ``python -m benchmarks.held``) on a quiet machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
import pytest

from llmreplay.shaping.writer import clock
from tests.schedule_spy import spy_on_streams, steps

TEXT = "The quick brown fox jumps over the lazy dog. " * 4  # 180 chars → 18 chunks of 10
CHUNKS = 18


@dataclasses.dataclass
class Read:
    """A streamed body as the client read it, timed on the writer's clock (one clock for both sides)."""

    sent_at: float
    """Just before the request was sent: earlier than the exchange's start on the server."""
    reads: list[tuple[float, int]]
    """Each network read of the body: when, and how many bytes."""
    body: bytes


async def read_stream(url: str, body: dict, headers: dict[str, str] | None = None) -> Read:
    reads: list[tuple[float, int]] = []
    data = bytearray()
    async with aiohttp.ClientSession() as session:
        sent_at = clock()
        hdrs = {"anthropic-version": "2023-06-01", **(headers or {})}
        async with session.post(url, json=body, headers=hdrs) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                reads.append((clock(), len(chunk)))
                data += chunk
    return Read(sent_at, reads, bytes(data))


def text_of(raw: bytes) -> str:
    """The streamed text, whichever of the two stream formats: every delta, in order."""
    out = []
    for line in raw.decode().splitlines():
        if not line.startswith("data: {"):
            continue
        event = json.loads(line[6:])
        if "choices" in event:
            out.append(event["choices"][0]["delta"].get("content") or "")
        elif event.get("type") == "content_block_delta":
            out.append(event["delta"].get("text", ""))
    return "".join(out)


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_first_chunk_at_ttft_then_steady_gaps(make_server, monkeypatch, path):
    spy = spy_on_streams(monkeypatch)
    srv = make_server(
        latency={"initial_delay_ms": 300, "delay_ms": 50, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    body = {"model": "m", "max_tokens": 1000, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    got = asyncio.run(read_stream(srv.url + path, body))
    assert text_of(got.body) == TEXT
    stream = spy.only(srv)
    # One write per chunk, the first at 300 ms, then every 50 ms (the bookkeeping events ride along).
    stream.check_schedule(steps(0.300, 0.050, CHUNKS))
    assert got.sent_at <= stream.t0
    stream.check_reads_not_early(got.reads)
    # Paced, not held back and sent at the end: the first chunk left before the last was even due
    # (850 ms of slack; the writer's own lateness is well under a millisecond).
    assert stream.sent[0] < stream.due[-1]
