"""``GET /metrics``: Prometheus' text format, fed by the same hooks as the JSON metrics."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmreplay.app import RUNTIME, create_app
from llmreplay.config import Settings
from llmreplay.metrics import Metrics
from llmreplay.metrics.prometheus import PrometheusMetrics, add_routes

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
EP = "chat-completions"


def _settings(**sections: dict[str, Any]) -> Settings:
    data: dict[str, Any] = {"latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}, **sections}
    return Settings.model_validate(data)


def _app(settings: Settings | None = None):
    app = create_app(settings or _settings())
    add_routes(app)  # a no-op once create_app does it
    return app


async def _scrape(client, headers: dict[str, str] | None = None) -> dict[str, dict[tuple, float]]:
    r = await client.get("/metrics", headers=headers or {})
    assert r.status == 200, await r.text()
    assert r.headers["Content-Type"].startswith("text/plain")
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(await r.text()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def _ep(**labels: str) -> tuple:
    return tuple(sorted({"endpoint": EP, **labels}.items()))


@pytest.fixture(autouse=True)
def _single_process(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


async def test_counters_match_the_traffic(aiohttp_client):
    client = await aiohttp_client(_app())
    for _ in range(3):
        r = await client.post("/v1/chat/completions", json=CHAT)
        assert r.status == 200
        await r.read()
    r = await client.post("/v1/chat/completions", json=CHAT, headers={"x-llmreplay-status": "503"})
    assert r.status == 503
    r = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    body = await r.read()
    assert body.endswith(b"data: [DONE]\n\n")

    m = await _scrape(client)
    assert m["llmreplay_requests_total"] == {_ep(status="200"): 4, _ep(status="503"): 1}
    assert m["llmreplay_faults_total"] == {_ep(kind="503"): 1}
    assert m["llmreplay_streams_in_flight"] == {_ep(): 0}
    assert m["llmreplay_requests_in_flight"] == {_ep(): 0}
    assert m["llmreplay_request_duration_seconds_count"] == {_ep(): 5}
    assert m["llmreplay_time_to_first_byte_seconds_count"][_ep()] >= 4
    assert m["llmreplay_stream_chunks_total"][_ep()] > 0
    assert m["llmreplay_input_tokens_total"][_ep()] > 0
    assert m["llmreplay_output_tokens_total"][_ep()] > 0
    assert m["llmreplay_rate_limited_total"] == {_ep(): 0}
    # The stream's writes, each counted once by how late it left.
    writes = m["llmreplay_frame_lateness_seconds_count"][()]
    assert writes > 0
    assert m["llmreplay_frame_lateness_seconds_bucket"][(("le", "+Inf"),)] == writes

    # The JSON metrics are fed by the very same calls.
    snap = client.app[RUNTIME].metrics.snapshot()
    assert snap["endpoints"][EP]["requests"] == 5


async def test_rate_limit_denials(aiohttp_client):
    client = await aiohttp_client(_app(_settings(rate_limit={"enabled": True, "mode": "always"})))
    for _ in range(2):
        r = await client.post("/v1/chat/completions", json=CHAT)
        assert r.status == 429
    m = await _scrape(client)
    assert m["llmreplay_rate_limited_total"] == {_ep(): 2}
    assert m["llmreplay_requests_total"] == {_ep(status="429"): 2}


async def test_each_app_has_its_own_registry(aiohttp_client):
    one = await aiohttp_client(_app())
    two = await aiohttp_client(_app())
    await (await one.post("/v1/chat/completions", json=CHAT)).read()
    assert (await _scrape(one))["llmreplay_requests_total"] == {_ep(status="200"): 1}
    assert (
        "llmreplay_requests_total" not in await _scrape(two) or (await _scrape(two))["llmreplay_requests_total"] == {}
    )


async def test_reset_leaves_prometheus_counters_alone(aiohttp_client):
    client = await aiohttp_client(_app())
    await (await client.post("/v1/chat/completions", json=CHAT)).read()
    client.app[RUNTIME].metrics.reset()
    assert (await _scrape(client))["llmreplay_requests_total"] == {_ep(status="200"): 1}


async def test_token_required_when_asked(aiohttp_client):
    settings = _settings(server={"admin_token": "s3cret", "metrics_require_token": True})
    client = await aiohttp_client(_app(settings))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer nope"})).status == 401
    await _scrape(client, {"Authorization": "Bearer s3cret"})


async def test_open_by_default_even_with_an_admin_token(aiohttp_client):
    client = await aiohttp_client(_app(_settings(server={"admin_token": "s3cret"})))
    await _scrape(client)


def test_add_routes_twice_keeps_one_adapter():
    app = create_app(_settings())
    first = add_routes(app)
    assert add_routes(app) is first
    assert app[RUNTIME].metrics.prometheus is first


def test_label_values_are_bounded():
    prom = PrometheusMetrics()
    for i in range(200):
        prom.started(f"e{i}", stream=False)
        prom.finished(f"e{i}", status=200, stream=False, total_s=0.01)
        prom.fault("e0", f"kind{i}")
    endpoints = {s.labels["endpoint"] for f in prom.registry.collect() for s in f.samples if "endpoint" in s.labels}
    kinds = {s.labels["kind"] for f in prom.registry.collect() for s in f.samples if "kind" in s.labels}
    assert len(endpoints) <= 64 and "other" in endpoints
    assert len(kinds) <= 32 and "other" in kinds


def test_metrics_without_prometheus_is_the_plain_store():
    m = Metrics()
    m.started("x", stream=True)
    m.first_byte("x", 0.1)
    m.chunks("x", 3)
    m.denied("x")
    m.fault("x", "500")
    m.finished("x", status=500, stream=True, total_s=0.2)
    assert m.snapshot()["endpoints"]["x"]["requests"] == 1
