"""Two real llmreplay servers on one redis-server: one global quota, one configuration."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests import serverproc
from tests.serverproc import CHAT, request
from tests.state import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)
PUSHED_WITHIN_S = 5.0
"""Hang guards, not figures: a configuration change is pushed (pub/sub) and seen in milliseconds, ..."""
STORED_WITHIN_S = 20.0
"""... and each process stores its metrics every second (METRICS_EVERY_S)."""
pytest.importorskip("redis")


@pytest.fixture
def servers(redis_server: RedisServer, request: pytest.FixtureRequest) -> Iterator[list[serverproc.Server]]:
    env = {"LLMREPLAY_STATE": redis_server.url, **getattr(request, "param", {})}
    started: list[serverproc.Server] = []
    try:
        for _ in range(2):
            started.append(serverproc.start(env=env))
        yield started
    finally:
        for s in started:
            serverproc.stop(s)


def chat(server: serverproc.Server) -> int:
    return request(server.port, "POST", "/v1/chat/completions", CHAT)[0]


def config(server: serverproc.Server) -> dict:
    status, _, body = request(server.port, "GET", "/api/config")
    assert status == 200
    return json.loads(body)


AFTER_3 = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_MODE": "after_n", "RATE_LIMIT_AFTER_N": "3"}


@pytest.mark.parametrize("servers", [AFTER_3], indirect=True)
def test_one_global_after_n(servers: list[serverproc.Server]) -> None:
    statuses = [chat(servers[i % 2]) for i in range(8)]
    assert statuses == [200, 200, 200, 429, 429, 429, 429, 429]


def test_patch_on_one_is_seen_by_the_other_and_one_token_bucket(servers: list[serverproc.Server]) -> None:
    a, b = servers
    patch = {"rate_limit": {"enabled": True, "strategy": "token-bucket", "requests": 4, "window_ms": 60000}}
    status, _, _ = request(a.port, "PATCH", "/api/config/global", json.dumps(patch).encode())
    assert status == 200
    t0 = time.perf_counter()
    want = config(a)
    while config(b) != want:
        assert time.perf_counter() - t0 < PUSHED_WITHIN_S, f"b still has {config(b)['global']['rate_limit']}"
    statuses = [chat(servers[i % 2]) for i in range(8)]
    assert statuses.count(200) == 4 and statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}

    # and back: a change made on b reaches a
    status, _, _ = request(b.port, "PATCH", "/api/config/global", b'{"rate_limit": {"enabled": false}}')
    assert status == 200
    t0 = time.perf_counter()
    while config(a)["global"]["rate_limit"]["enabled"]:
        assert time.perf_counter() - t0 < PUSHED_WITHIN_S
    assert chat(a) == 200 and chat(b) == 200


def test_scenarios_and_metrics_are_shared(servers: list[serverproc.Server], redis_server: RedisServer) -> None:
    a, b = servers
    status, _, _ = request(a.port, "PUT", "/api/scenarios/flaky", b'{"steps": ["429", "500", "ok"]}')
    assert status == 200
    status, _, body = request(b.port, "GET", "/api/scenarios/flaky")
    assert status == 200 and json.loads(body)["steps"] == ["429", "500", "ok"]
    header = {"x-llmreplay-scenario": "@flaky", "x-llmreplay-scenario-key": "t1"}
    got = [request(s.port, "POST", "/v1/chat/completions", CHAT, header)[0] for s in (a, b, a, b)]
    assert got == [429, 500, 200, 200]

    # each process publishes its metrics for the others to merge
    import redis

    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        t0 = time.perf_counter()
        while len(client.keys("llmreplay:default:metrics:*")) < 2:
            assert time.perf_counter() - t0 < STORED_WITHIN_S
        totals = [
            json.loads(v)["snapshot"]["totals"]["requests"] for v in client.mget(client.keys("llmreplay:*:metrics:*"))
        ]
        assert len(totals) == 2
    finally:
        client.close()

    # a metrics reset on one process resets the merged view, the other's counts included
    t0 = time.perf_counter()
    while json.loads(request(b.port, "GET", "/api/metrics")[2])["totals"]["requests"] < 4:
        assert time.perf_counter() - t0 < STORED_WITHIN_S, "each process stores its metrics every second"
        time.sleep(0.05)
    status, _, _ = request(a.port, "POST", "/api/metrics/reset")
    assert status == 200
    t0 = time.perf_counter()
    while json.loads(request(b.port, "GET", "/api/metrics")[2])["totals"]["requests"] != 0:
        assert time.perf_counter() - t0 < STORED_WITHIN_S, "the other process kept its counts"
        time.sleep(0.05)
