"""The Prometheus figures kept as plain numbers between scrapes (issue 23) read the same as when every hook updated
prometheus_client at once: the same samples, the same floats to the last bit."""

from __future__ import annotations

import random
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from llmreplay.metrics.prometheus import PrometheusMetrics


class Direct:
    """Every hook straight into prometheus_client, as the adapter did before it kept its own numbers: into the
    families of an adapter of its own, whose numbers stay untouched (so its flush writes nothing)."""

    def __init__(self) -> None:
        m = PrometheusMetrics()
        self.registry = m.registry
        self.requests, self.in_flight, self.streams, self.ttfb, self.duration = (
            m.requests,
            m.in_flight,
            m.streams,
            m.ttfb,
            m.duration,
        )
        self.input_tokens, self.output_tokens, self.chunks_total = m.input_tokens, m.output_tokens, m.chunks_total
        self.denied_total, self.faults, self.cost_total = m.denied_total, m.faults, m.cost_total

    def started(self, endpoint: str, *, stream: bool) -> None:
        # The adapter made every child of an endpoint at its first sight (the status ones at their first answer).
        for family in (self.streams, self.ttfb, self.duration, self.input_tokens, self.output_tokens):
            family.labels(endpoint)
        for family in (self.chunks_total, self.denied_total):
            family.labels(endpoint)
        self.in_flight.labels(endpoint).inc()
        if stream:
            self.streams.labels(endpoint).inc()

    def first_byte(self, endpoint: str, ttfb_s: float) -> None:
        self.ttfb.labels(endpoint).observe(ttfb_s)

    def finished(self, endpoint: str, *, status: int, stream: bool, total_s: float, input_tokens: int = 0,
                 output_tokens: int = 0) -> None:  # fmt: skip
        self.requests.labels(endpoint, str(status)).inc()
        self.in_flight.labels(endpoint).dec()
        if stream:
            self.streams.labels(endpoint).dec()
        self.duration.labels(endpoint).observe(total_s)
        if input_tokens:
            self.input_tokens.labels(endpoint).inc(input_tokens)
        if output_tokens:
            self.output_tokens.labels(endpoint).inc(output_tokens)

    def chunks(self, endpoint: str, n: int) -> None:
        self.chunks_total.labels(endpoint).inc(n)

    def denied(self, endpoint: str) -> None:
        self.denied_total.labels(endpoint).inc()

    def fault(self, endpoint: str, kind: str) -> None:
        self.faults.labels(endpoint, kind).inc()

    def cost(self, endpoint: str, model: str, usd: float) -> None:
        self.cost_total.labels(endpoint, model).inc(usd)


def _samples(registry: CollectorRegistry) -> dict[tuple[Any, ...], float]:
    out: dict[tuple[Any, ...], float] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            if s.name.endswith("_created") or s.name.startswith("llmreplay_frame_lateness"):
                continue
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture(autouse=True)
def _single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_scrape_reads_what_direct_updates_would_have_made(seed: int) -> None:
    rng = random.Random(seed)
    kept, direct = PrometheusMetrics(), Direct()
    endpoints = ["chat-completions", "messages", "gemini"]
    for i in range(3_000):
        ep, stream = rng.choice(endpoints), rng.random() < 0.3
        for m in (kept, direct):
            m.started(ep, stream=stream)
        ttfb, total = rng.expovariate(20), rng.expovariate(5)
        status = rng.choice([200, 200, 200, 429, 500])
        usd = rng.random() / 1000
        chunks = rng.randrange(0, 40) if stream else 0
        fault = rng.choice(["500", "disconnect", "timeout"]) if rng.random() < 0.1 else None
        for m in (kept, direct):
            m.first_byte(ep, ttfb)
            if chunks:
                m.chunks(ep, chunks)
            if status == 429:
                m.denied(ep)
            if fault:
                m.fault(ep, fault)
            m.finished(ep, status=status, stream=stream, total_s=total, input_tokens=i % 50, output_tokens=i % 7)
            m.cost(ep, "gpt-4o", usd)
        if i % 997 == 0:
            assert _samples(kept.registry) == _samples(direct.registry)  # a scrape between requests too
    assert _samples(kept.registry) == _samples(direct.registry)
    assert kept.exposition() == generate_latest(kept.registry)
