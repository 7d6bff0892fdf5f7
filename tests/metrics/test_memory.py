"""Memory stays flat: 100,000 requests over 1,000+ simulated seconds cost no more than 1,000 did."""

from __future__ import annotations

import gc
import tracemalloc

from llmreplay.metrics import Metrics

ENDPOINTS = ("openai.chat", "openai.responses", "anthropic.messages", "gemini.generate", "openai.embeddings")
GROWTH_LIMIT = 64 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Request = tuple[float, str, bool, float, bool, int, float, int]


def plan(first: int, last: int) -> list[Request]:
    """Requests ``first..last-1``, 90 per simulated second, with a few errors, denials and faults.

    Built before tracing starts, so the driver's own arithmetic neither counts nor slows the trace.
    """
    out: list[Request] = []
    for k in range(first, last):
        status = 200 if k % 17 else (429, 500, 503)[k % 3]
        out.append(
            (
                k / 90.0,
                ENDPOINTS[k % 5],
                k % 3 == 0,
                0.0005 * (1 + k % 997),
                k % 50 == 0,
                status,
                0.003 * (1 + k % 1009),
                k % 300,
            )
        )
    return out


def drive(m: Metrics, clock: Clock, requests: list[Request]) -> None:
    for now, endpoint, stream, ttfb, bad, status, total, tokens in requests:
        clock.now = now
        m.started(endpoint, stream=stream)
        m.first_byte(endpoint, ttfb)
        if stream:
            m.chunks(endpoint, 12)
        if bad:
            m.denied(endpoint)
            m.fault(endpoint, "disconnect")
        m.finished(endpoint, status=status, stream=stream, total_s=total, output_tokens=tokens)


def test_memory_is_flat_over_100k_requests() -> None:
    clock = Clock()
    warmup, rest = plan(0, 1_000), plan(1_000, 100_000)
    gc.collect()
    tracemalloc.start()
    try:
        m = Metrics(clock=clock, wall=lambda: 1.7e9, window_s=300)
        drive(m, clock, warmup)
        m.snapshot()
        gc.collect()
        after_1k = tracemalloc.get_traced_memory()[0]
        drive(m, clock, rest)
        m.snapshot()
        gc.collect()
        after_100k = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    seconds = int(clock.now)
    growth = after_100k - after_1k
    print(
        f"\ntraced after 1,000 requests: {after_1k} B; after 100,000 over {seconds} s: {after_100k} B; "
        f"growth {growth} B"
    )
    assert seconds >= 1_000
    assert growth < GROWTH_LIMIT
    snap = m.snapshot()
    assert snap["totals"]["requests"] == 100_000
    assert snap["totals"]["active_connections"] == 0
