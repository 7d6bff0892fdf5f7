"""The admin API as a script written for the original Mock LLM Server drives it: its bodies, its names, its
answers (``../shared/reference/original-admin-api.md``), each endpoint of its table in turn."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator

import httpx2
import pytest

from llmreplay.server import BackgroundServer

IDS = [
    "openai-chat",
    "openai-responses",
    "anthropic-messages",
    "gemini-generate",
    "gemini-stream",
    "gemini-generate-v1",
    "gemini-stream-v1",
]
FLAT = {
    "streamInitialDelayMs",
    "streamDelayMs",
    "streamJitterMs",
    "streamChunkSize",
    "toolCallProbability",
    "errorRate",
    "errorTypes",
    "streamInterruptRate",
    "loadDegradationEnabled",
    "loadDegradationFactor",
    "enabled",
    "rateLimit",
    "defaultResponse",
}
RATE = {"enabled", "strategy", "maxRequests", "windowMs", "bucketCapacity", "refillRate", "failAfterN"}
RATE |= {"failProbability"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def api(make_server: Callable[..., BackgroundServer]) -> Iterator[httpx2.Client]:
    srv = make_server(
        latency={"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0},
        rate_limit={"requests": 10, "window_ms": 5000},
    )
    with httpx2.Client(base_url=srv.url, timeout=10) as c:
        yield c


def chat(api: httpx2.Client) -> int:
    return api.post("/v1/chat/completions", json=CHAT).status_code


def test_get_config_carries_the_original_fields(api: httpx2.Client) -> None:
    body = api.get("/api/config").json()
    glob = body["global"]
    assert set(glob) >= FLAT
    assert glob["streamDelayMs"] == 0 and glob["streamChunkSize"] == 10 and glob["toolCallProbability"] == 0.75
    assert glob["errorRate"] == 0 and glob["errorTypes"] == ["server_error"] and glob["enabled"] is True
    assert glob["loadDegradationEnabled"] is False and glob["loadDegradationFactor"] == 2.0
    assert set(glob["rateLimit"]) == RATE
    # bucketCapacity = RATE_LIMIT_REQUESTS, refillRate = requests ÷ window seconds.
    assert glob["rateLimit"]["bucketCapacity"] == 10 and glob["rateLimit"]["refillRate"] == 2.0
    assert body["endpoints"] == {}


def test_patch_global_merges_flat_fields_and_rate_limit_field_by_field(api: httpx2.Client) -> None:
    r = api.patch("/api/config/global", json={"streamDelayMs": 10, "rateLimit": {"maxRequests": 3}})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["global"]["streamDelayMs"] == 10 and "endpoints" in answer  # the full config
    r = api.patch("/api/config/global", json={"rateLimit": {"strategy": "token-bucket", "refillRate": 0.5}})
    glob = r.json()["global"]
    # Merged field by field: maxRequests kept, strategy and refill rate set; the same values in llmreplay's names.
    assert glob["rateLimit"]["maxRequests"] == 3 and glob["rateLimit"]["strategy"] == "token-bucket"
    assert glob["rateLimit"]["refillRate"] == 0.5 and glob["rate_limit"]["window_ms"] == 6000
    assert glob["latency"]["delay_ms"] == 10
    assert api.get("/api/config").json()["global"]["streamDelayMs"] == 10


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"streamDelayMs": -1}, ["streamDelayMs"]),
        ({"errorRate": 2}, ["errorRate"]),
        ({"rateLimit": {"strategy": "nope"}}, ["rateLimit", "strategy"]),
        ({"rateLimit": {"refillRate": 0}}, ["rateLimit", "refillRate"]),
        ({"rateLimit": 5}, ["rateLimit"]),
        ({"errorTypes": "server_error"}, ["errorTypes"]),
        ({"errorTypes": ["no_such_error"]}, ["errorTypes"]),
    ],
)
def test_a_bad_original_body_names_the_original_field(api: httpx2.Client, body: dict, loc: list) -> None:
    before = api.get("/api/config").json()
    r = api.patch("/api/config/global", json=body)
    assert r.status_code == 422, r.text
    assert any(e["loc"][: len(loc)] == loc for e in r.json()["detail"]), r.json()
    assert r.json()["message"].startswith(".".join(map(str, loc)))
    assert api.get("/api/config").json() == before


def test_after_n_is_one_strategy_in_the_original_body(api: httpx2.Client) -> None:
    r = api.patch("/api/config/global", json={"rateLimit": {"enabled": True, "strategy": "after_n", "failAfterN": 1}})
    assert r.status_code == 200, r.text
    assert r.json()["global"]["rateLimit"]["strategy"] == "after-n"
    assert [chat(api), chat(api)] == [200, 429]
    assert api.patch("/api/config/global", json={"rate_limit": {"strategy": "after_n"}}).status_code == 200


def test_patch_endpoint_answers_endpoint_and_config(api: httpx2.Client) -> None:
    r = api.patch("/api/config/endpoints/openai-chat", json={"errorRate": 1, "errorTypes": ["bad_request"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint"] == "openai-chat"
    assert body["config"]["errorRate"] == 1 and body["config"]["errorTypes"] == ["bad_request"]
    assert chat(api) == 400
    endpoints = api.get("/api/config").json()["endpoints"]
    assert endpoints["openai-chat"]["errorRate"] == 1 and endpoints["chat-completions"]["errorRate"] == 1
    r = api.delete("/api/config/endpoints/openai-chat")
    assert r.status_code == 200
    assert r.json()["message"] == "Endpoint overrides cleared, using global config"
    assert r.json()["endpoint"] == "openai-chat" and r.json()["config"]["errorRate"] == 0
    assert chat(api) == 200


def test_gemini_ids_are_configured_apart(api: httpx2.Client) -> None:
    api.patch("/api/config/endpoints/gemini-stream-v1", json={"streamDelayMs": 7})
    listing = api.get("/api/config/endpoints").json()
    assert listing["gemini-stream-v1"]["config"]["streamDelayMs"] == 7
    assert listing["gemini-stream"]["config"]["streamDelayMs"] == 0
    assert set(api.get("/api/config").json()["endpoints"]) == {"gemini-stream-v1"}
    # An override of llmreplay's gemini reaches all four; a finer one still wins.
    api.patch("/api/config/endpoints/gemini", json={"streamDelayMs": 3})
    listing = api.get("/api/config/endpoints").json()
    assert [listing[i]["config"]["streamDelayMs"] for i in IDS[3:]] == [3, 3, 3, 7]


def test_get_endpoints_lists_every_original_id(api: httpx2.Client) -> None:
    body = api.get("/api/config/endpoints").json()
    assert set(IDS) <= set(body)
    assert body["openai-chat"]["label"] == "OpenAI Chat" and body["gemini-stream-v1"]["label"] == "Gemini Stream (v1)"
    for oid in IDS:
        assert {"label", "config", "rateLimiterState"} <= set(body[oid])
        assert FLAT - {"toolCallProbability", "defaultResponse"} <= set(body[oid]["config"])


def test_reset_answers_status_message_config(api: httpx2.Client) -> None:
    start = api.get("/api/config").json()
    api.patch("/api/config/global", json={"streamChunkSize": 2})
    r = api.post("/api/config/reset")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["message"] == "Configuration reset"
    assert r.json()["config"] == start


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/config/endpoints/openai-chats"),
        ("DELETE", "/api/config/endpoints/openai-chats"),
        ("GET", "/api/metrics/latency/openai-chats"),
        ("POST", "/api/rate-limit/reset/openai-chats"),
    ],
)
def test_unknown_endpoint_is_400_with_error(api: httpx2.Client, method: str, path: str) -> None:
    r = api.request(method, path, json={})
    assert r.status_code == 400
    assert r.json()["error"] == "Unknown endpoint: openai-chats"


def test_health(api: httpx2.Client) -> None:
    body = api.get("/api/health").json()
    assert body["status"] == "ok" and body["wsClients"] == 0 and body["timestamp"].endswith("Z")


def test_metrics_latency_and_resets(api: httpx2.Client) -> None:
    assert chat(api) == 200
    m = api.get("/api/metrics").json()
    assert isinstance(m["timestamp"], int)
    assert {"totalActiveConnections", "totalRequestsPerSecond", "uptimeSeconds"} <= set(m["global"])
    chat_metrics = m["endpoints"]["openai-chat"]
    assert chat_metrics["totalRequests"] == 1 and chat_metrics["activeConnections"] == 0
    assert {"activeStreamingConnections", "totalErrors", "totalRateLimited", "requestsPerSecond"} <= set(chat_metrics)
    assert set(IDS) <= set(m["endpoints"])
    lat = api.get("/api/metrics/latency/openai-chat").json()
    assert lat["endpoint"] == "openai-chat" and 0 <= lat["p50"] <= lat["p90"] <= lat["p99"]
    assert api.get("/api/metrics/latency/gemini-stream").json()["p99"] == 0
    r = api.post("/api/metrics/reset").json()
    assert r["status"] == "ok" and r["message"] == "Metrics reset"
    r = api.post("/api/detailed-metrics/reset").json()
    assert r["status"] == "ok" and r["message"] == "Detailed metrics reset"
    assert api.get("/api/metrics").json()["endpoints"]["openai-chat"]["totalRequests"] == 0


def test_rate_limit_resets_and_lists(api: httpx2.Client) -> None:
    api.patch("/api/config/global", json={"rateLimit": {"enabled": True, "strategy": "after-n", "failAfterN": 1}})
    assert [chat(api), chat(api)] == [200, 429]
    r = api.post("/api/rate-limit/reset/openai-chat").json()
    assert r == {**r, "status": "ok", "message": "Rate limiter reset for openai-chat"}
    assert chat(api) == 200
    r = api.post("/api/rate-limit/reset").json()
    assert r["status"] == "ok" and r["message"] == "All rate limiter states reset"
    strategies = api.get("/api/rate-limit/strategies").json()
    assert {s["id"] for s in strategies} == {
        "none", "fixed-window", "sliding-window", "token-bucket", "leaky-bucket", "after-n", "random", "always"
    }  # fmt: skip
    assert all(s["description"] for s in strategies)
    modes = api.get("/api/failure-modes").json()
    assert all(m["id"] and m["description"] for m in modes)


def test_detailed_metrics_and_exports(api: httpx2.Client) -> None:
    assert chat(api) == 200
    assert api.post("/v1/chat/completions", json={**CHAT, "stream": True}).status_code == 200
    d = api.get("/api/detailed-metrics").json()
    e = d["endpoints"]["openai-chat"]
    point = e["timeSeries"][-1]
    assert {
        "timestamp", "activeConnections", "cumulativeConnections", "requestsStarted", "requestsCompleted",
        "requestsFailed", "requestsRateLimited", "avgLatencyMs", "p50LatencyMs", "p95LatencyMs", "p99LatencyMs",
    } <= set(point)  # fmt: skip
    assert point["cumulativeConnections"] == 2
    assert e["peaks"]["totalRequests"] == 2 and e["peaks"]["maxRPS"] >= 1
    assert sum(b["count"] for b in e["latencyHistogram"]) == 2
    assert {"label", "min", "max", "count"} <= set(e["latencyHistogram"][0])
    assert e["totalStreaming"] == 1 and e["totalNonStreaming"] == 1 and e["currentConnections"] == 0
    assert isinstance(e["errors"], list) and "currentRPS" in e
    assert d["global"]["testDurationSeconds"] >= 0 and d["global"]["peaks"]["totalRequests"] == 2
    r = api.get("/api/detailed-metrics/export/json")
    assert 'filename="detailed-metrics.json"' in r.headers["content-disposition"]
    assert r.json()["endpoints"]["openai-chat"]["peaks"]["totalRequests"] == 2
    r = api.get("/api/detailed-metrics/export/csv")
    assert 'filename="detailed-metrics.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(int(row["requestsStarted"]) for row in rows if row["endpoint"] == "chat-completions") == 2
