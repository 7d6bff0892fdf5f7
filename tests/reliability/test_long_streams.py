"""Case 7 of issue 19: a small request that asks for a long stream does not hold the event loop.

A tool whose one string argument must have 60,000 characters, streamed one character a frame on a gap-0 server, is
60,000 frames to render, time and join before the first byte: ~90 ms of CPU in one loop callback (more in a test
process, whose collector walks every object the suite made), and ``/health`` waited as long. The frames of such a
stream are made on the worker thread now (:func:`llmreplay.offload.streams_many`), and written in
slices of a MiB (:data:`llmreplay.shaping.writer.SLICE`).

The figure asserted is a ratio, which a busy or slow machine does not move: the CPU of the loop's longest callback
against the CPU the whole process spent on the request (loop, worker and this test's client reading 19 MB). Before,
one callback held 58-73 % of it; now ~6 %. The figures are printed (``-s``) for docs/reliability.md.
"""

from __future__ import annotations

import gc
import time

import pytest
import requests

from llmreplay import collector
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.reliability.loop_watch import HealthPoller, LoopCpu, LoopLag

CHARS = 60_000
LONGEST_SHARE = 0.2
"""The most of the request's CPU one loop callback may take: 0.58-0.73 on the old code, ~0.06 now."""


def _long_argument() -> dict[str, object]:
    schema = {"type": "object", "properties": {"a": {"type": "string", "minLength": CHARS}}, "required": ["a"]}
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}],
        "tool_choice": "required",
        "stream": True,
    }


def test_a_stream_of_60000_frames_does_not_hold_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    with BackgroundServer(settings(latency={"chunk_size": 1})) as server:
        headers = {"authorization": "Bearer sk-test", "x-llmreplay-gap-ms": "0"}
        url = f"{server.url}/v1/chat/completions"
        # Once before, so that what is measured is the stream and not the first use of the schema code.
        requests.post(url, json={**_long_argument(), "stream": False}, headers=headers, timeout=60).raise_for_status()
        assert server._loop is not None
        # What the suite made so far is kept from the collector, as ``serve`` keeps what it built at start-up
        # (collector.collect_all): else a full pass over every test's objects lands in some callback or other.
        collector.collect_all()
        cpu = LoopCpu(monkeypatch)
        lag = LoopLag(server._loop)
        health = HealthPoller(server.url)
        started = time.process_time()
        try:
            answer = requests.post(url, json=_long_argument(), headers=headers, timeout=60)
            time.sleep(0.1)  # what the server does after the answer counts too
        finally:
            spent = time.process_time() - started
            worst_lag = lag.stop()
            slowest_health = health.stop()
            gc.unfreeze()
        monkeypatch.undo()
    assert answer.status_code == 200, answer.text[:300]
    lines = answer.content.split(b"\n\n")
    print(
        f"\n{len(answer.content) / 1e6:.1f} MB, {len(lines):,} events: longest loop callback "
        f"{cpu.worst * 1000:.1f} ms of CPU of {spent * 1000:.0f} ms the request took ({cpu.worst / spent:.1%}); "
        f"loop late at most {worst_lag * 1000:.0f} ms, /health at most {slowest_health * 1000:.0f} ms"
    )
    assert len(lines) > CHARS and lines[-2] == b"data: [DONE]"
    assert cpu.worst / spent < LONGEST_SHARE
