"""RedisState against a real redis-server: the same answers as the in-memory state, shared between instances."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from llmreplay.config import Settings
from llmreplay.control.live import LiveConfig, RateLimitConfig, initial
from llmreplay.shaping.outcomes import OK
from llmreplay.shaping.ratelimit.quotas import Admission, Quotas
from llmreplay.shaping.scenarios import UnknownScenario
from tests.state import REDIS_SERVER, RedisServer, start_redis

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)
HEARD_WITHIN_S = 5.0
"""A guard against a hang, not a figure: a change published on one replica reaches the other in milliseconds."""

redis_state = pytest.importorskip("llmreplay.state.redis")
RedisState = redis_state.RedisState
redis_link = pytest.importorskip("llmreplay.state.redis_link")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    srv = start_redis()
    yield srv
    srv.stop()


@pytest.fixture
def prefix() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def pair(server: RedisServer, prefix: str) -> AsyncIterator[tuple[Any, Quotas, Clock]]:
    clock = Clock()
    state = RedisState(server.url, prefix=prefix, clock=clock)
    yield state, Quotas(clock), clock
    await state.close()


def same(a: Admission, b: Admission) -> bool:
    def norm(x: Admission) -> tuple[Any, ...]:
        q = x.quota

        def st(s: Any) -> Any:
            return None if s is None else (s.limit, s.remaining, round(s.reset_after, 9))

        retry = None if q.retry_after is None else round(q.retry_after, 9)
        return (x.allowed, x.reason, st(q.requests), st(q.tokens), retry)

    return norm(a) == norm(b)


async def replay(pair: tuple[Any, Quotas, Clock], cfg: RateLimitConfig, times: list[float], tokens: int = 0) -> None:
    state, quotas, clock = pair
    for t in times:
        clock.now = 1000.0 + t
        mine, theirs = (
            await state.admit("chat-completions", "", cfg, tokens),
            quotas.admit("chat-completions", "", cfg, tokens),
        )
        assert same(mine, theirs), (t, mine, theirs)


def rl(**kw: Any) -> RateLimitConfig:
    return RateLimitConfig(enabled=True, **kw)


# ---- every strategy replays the in-memory unit-test sequences exactly --------------------------
async def test_fixed_window(pair: Any) -> None:
    await replay(
        pair,
        rl(strategy="fixed-window", requests=3, window_ms=10_000),
        [0, 1, 2, 3, 9.999, 9.5, 10, 10.1, 10.2, 10.3, 47],
    )


async def test_fixed_window_burst_across_boundary(pair: Any) -> None:
    await replay(pair, rl(strategy="fixed-window", requests=2, window_ms=1000), [0.0, 0.9, 0.99, 1.0, 1.01, 1.02])


async def test_sliding_window(pair: Any) -> None:
    cfg = rl(strategy="sliding-window", requests=2, window_ms=1000)
    await replay(pair, cfg, [0.0, 0.9, 0.95, 0.999, 1.0, 1.5, 1.9, 2.95, 3.0, 3.01])


async def test_token_bucket(pair: Any) -> None:
    cfg = rl(strategy="token-bucket", requests=5, window_ms=5000)
    await replay(pair, cfg, [0] * 6 + [0.5, 1.0, 1.0, 3.0, 3.0, 3.0] + [100] * 7)


async def test_leaky_bucket(pair: Any) -> None:
    cfg = rl(strategy="leaky-bucket", requests=2, window_ms=1000)
    await replay(pair, cfg, [0, 0, 0, 0.25, 0.5, 0.5] + [1.0 + 0.5 * i for i in range(20)] + [20])


async def test_after_n(pair: Any) -> None:
    await replay(pair, rl(strategy="after-n", after_n=3, window_ms=5000), [0, 0, 0, 0, 100, 5000])


async def test_after_zero_and_always_and_none(pair: Any) -> None:
    await replay(pair, rl(strategy="after-n", after_n=0), [0, 1])
    await replay(pair, rl(strategy="always", requests=7, window_ms=2000), [0, 1])
    await replay(pair, rl(strategy="none", requests=4), [0] * 5)


async def test_random_matches_with_the_same_generator(server: RedisServer, prefix: str) -> None:
    clock = Clock()
    state = RedisState(server.url, prefix=prefix, rng=random.Random(5), clock=clock)
    quotas = Quotas(clock, random.Random(5))
    cfg = rl(strategy="random", probability=0.3)
    try:
        for _ in range(200):
            assert same(await state.admit("messages", "", cfg, 0), quotas.admit("messages", "", cfg, 0))
        # with a token limit the draw still decides, and tokens are taken in Redis
        cfg = rl(strategy="random", probability=0.3, tokens_per_minute=10_000)
        for _ in range(50):
            assert same(await state.admit("messages", "", cfg, 100), quotas.admit("messages", "", cfg, 100))
    finally:
        await state.close()


async def test_tokens_per_minute_with_charge_and_debt(pair: Any) -> None:
    state, quotas, clock = pair
    cfg = rl(strategy="token-bucket", requests=100, window_ms=60_000, tokens_per_minute=600)
    for t, prompt, completion in [
        (0, 200, 300),
        (1, 200, 0),
        (2, 50, 0),
        (30, 100, 400),
        (31, 10, 0),
        (200, 600, 0),
        (200, 1, 0),
    ]:
        clock.now = 1000.0 + t
        mine, theirs = await state.admit("responses", "k", cfg, prompt), quotas.admit("responses", "k", cfg, prompt)
        assert same(mine, theirs), (t, mine, theirs)
        if completion and mine.allowed:
            await state.charge("responses", "k", cfg, completion)
            quotas.charge("responses", "k", cfg, completion)
    # a request denied for requests still reports the token bucket (peeked, untouched)
    cfg = rl(strategy="after-n", after_n=1, tokens_per_minute=600)
    await replay(pair, cfg, [0, 1, 2], tokens=100)


async def test_config_change_and_keys_and_reset(pair: Any) -> None:
    state, _, _ = pair
    cfg = rl(strategy="after-n", after_n=1)
    assert (await state.admit("gemini", "a", cfg, 0)).allowed
    assert not (await state.admit("gemini", "a", cfg, 0)).allowed
    assert (await state.admit("gemini", "b", cfg, 0)).allowed  # another key, its own quota
    assert (await state.admit("models", "a", cfg, 0)).allowed  # another endpoint too
    assert (await state.admit("gemini", "a", rl(strategy="after-n", after_n=2), 0)).allowed  # new config: fresh
    await state.reset_limits("gemini")
    assert (await state.admit("gemini", "a", cfg, 0)).allowed
    assert not (await state.admit("models", "a", cfg, 0)).allowed  # untouched by the gemini reset
    await state.reset_limits()
    assert (await state.admit("models", "a", cfg, 0)).allowed


async def test_keys_expire(server: RedisServer, prefix: str) -> None:
    state = RedisState(server.url, prefix=prefix)
    try:
        await state.admit("chat-completions", "", rl(strategy="token-bucket", requests=5, window_ms=2000), 0)
        await state.admit("chat-completions", "", rl(strategy="sliding-window", requests=5, window_ms=2000), 0)
        names = [n async for n in state.redis.scan_iter(match=f"llmreplay:{prefix}:*")]
        assert len(names) == 2
        for name in names:
            assert 0 < await state.redis.pttl(name) <= 2000 + 1000
    finally:
        await state.close()


async def test_two_instances_share_one_quota(server: RedisServer, prefix: str) -> None:
    a, b = RedisState(server.url, prefix=prefix), RedisState(server.url, prefix=prefix)
    try:
        cfg = rl(strategy="token-bucket", requests=4, window_ms=60_000)
        results = await asyncio.gather(*(s.admit("messages", "", cfg, 0) for s in [a, b] * 5))
        assert sum(r.allowed for r in results) == 4
        assert {r.reason for r in results if not r.allowed} == {"requests"}
    finally:
        await a.close()
        await b.close()


# ---- scenarios ---------------------------------------------------------------------------------
async def test_scenarios_shared_between_instances(server: RedisServer, prefix: str) -> None:
    a, b = RedisState(server.url, prefix=prefix), RedisState(server.url, prefix=prefix)
    try:
        assert (await a.scenario_next("429,500", "k")).text == "429"
        assert (await b.scenario_next("429,500", "k")).text == "500"
        assert await a.scenario_next("429,500", "k") == OK
        assert (await b.scenario_next("429,500", None)).text == "429"  # no key: the spec is the key
        assert (await b.scenario_next("429,500", "other")).text == "429"
        with pytest.raises(ValueError):
            await a.scenario_next("nonsense!", None)

        await a.define_scenario("flaky", ["503", "ok", "429"])
        assert [s.as_json() for s in await b.scenarios()] == [{"name": "flaky", "steps": ["503", "ok", "429"]}]
        assert (await b.scenario_next("@flaky", "x")).text == "503"
        assert (await a.scenario_next("@flaky", "x")) == OK
        await b.define_scenario("flaky", "500")  # redefining restarts its keys
        assert (await a.scenario_next("@flaky", "x")).text == "500"
        await a.reset_scenarios()
        assert (await b.scenario_next("@flaky", "x")).text == "500"
        assert (await b.scenario_next("429,500", "k")).text == "429"
        assert await b.remove_scenario("flaky") and not await a.remove_scenario("flaky")
        with pytest.raises(UnknownScenario):
            await a.scenario_next("@flaky", "x")
        with pytest.raises(ValueError):
            await a.define_scenario("bad", "nope!")
    finally:
        await a.close()
        await b.close()


# ---- live configuration -------------------------------------------------------------------------
async def test_config_patch_reaches_the_other(server: RedisServer, prefix: str) -> None:
    live_a, live_b = LiveConfig(initial(Settings())), LiveConfig(initial(Settings()))
    a, b = RedisState(server.url, prefix=prefix), RedisState(server.url, prefix=prefix)
    await a.start(live_a)
    await b.start(live_b)
    try:
        heard: list[tuple[str, str | None]] = []
        arrived = asyncio.Event()

        def on_change(what: str, endpoint: str | None) -> None:
            heard.append((what, endpoint))
            arrived.set()

        live_b.listeners.append(on_change)
        await asyncio.wait_for(asyncio.gather(a.following.wait(), b.following.wait()), 2.0)
        live_a.patch_global({"rate_limit": {"enabled": True, "strategy": "token-bucket", "requests": 4}})
        # Pushed through pub/sub (there is no polling to fall back on), so it comes in milliseconds; the bound
        # only guards against a hang. A "within 100 ms" figure would fail on a busy machine, not on a bug.
        await asyncio.wait_for(arrived.wait(), HEARD_WITHIN_S)
        assert heard == [("remote", None)]
        assert live_b.snapshot() == live_a.snapshot()
        assert live_b.for_endpoint("messages").rate_limit.requests == 4

        arrived.clear()
        live_b.patch_endpoint("messages", {"latency": {"delay_ms": 7}})
        await asyncio.wait_for(arrived.wait(), HEARD_WITHIN_S)  # b hears nothing from itself ...
        assert heard[-1] == ("endpoint", "messages")
        for _ in range(int(HEARD_WITHIN_S / 0.01)):  # ... and a gets it
            if live_a.overrides:
                break
            await asyncio.sleep(0.01)
        assert live_a.snapshot() == live_b.snapshot()

        # a replica that starts later loads the configuration in force
        live_c = LiveConfig(initial(Settings()))
        c = RedisState(server.url, prefix=prefix)
        await c.start(live_c)
        assert live_c.snapshot() == live_b.snapshot()
        await c.close()
    finally:
        await a.close()
        await b.close()


# ---- metrics ------------------------------------------------------------------------------------
class FakeMetrics:
    def __init__(self, requests: int) -> None:
        self.requests = requests

    def snapshot(self) -> dict[str, Any]:
        return {"totals": {"requests": self.requests, "peak_rps": self.requests}, "endpoints": {}}

    def reset(self) -> None:
        self.requests = 0


async def test_shared_metrics(server: RedisServer, prefix: str) -> None:
    a, b = RedisState(server.url, prefix=prefix), RedisState(server.url, prefix=prefix)
    assert await a.shared_metrics() is None
    a.attach_metrics(FakeMetrics(3))
    b.attach_metrics(FakeMetrics(5))
    await a.start(LiveConfig(initial(Settings())))
    await b.start(LiveConfig(initial(Settings())))
    try:
        for _ in range(100):
            merged = await a.shared_metrics()
            if merged and merged["processes"] == 2:
                break
            await asyncio.sleep(0.01)
        assert merged == {"totals": {"requests": 8, "peak_rps": 5}, "endpoints": {}, "processes": 2}
    finally:
        await a.close()
        await b.close()


async def test_a_metrics_reset_reaches_every_process(server: RedisServer, prefix: str) -> None:
    a, b = RedisState(server.url, prefix=prefix), RedisState(server.url, prefix=prefix)
    mine, theirs = FakeMetrics(3), FakeMetrics(5)
    a.attach_metrics(mine)
    b.attach_metrics(theirs)
    await a.start(LiveConfig(initial(Settings())))
    await b.start(LiveConfig(initial(Settings())))
    try:
        for _ in range(100):
            merged = await a.shared_metrics()
            if merged and merged["processes"] == 2 and b.following.is_set():
                break
            await asyncio.sleep(0.01)
        assert merged is not None and merged["totals"]["requests"] == 8
        mine.reset()  # what the admin API does to its own process before telling the others
        await a.reset_metrics()
        for _ in range(200):
            merged = await a.shared_metrics()
            if theirs.requests == 0 and merged is not None and merged["totals"]["requests"] == 0:
                break
            await asyncio.sleep(0.01)
        assert theirs.requests == 0
        assert merged is not None and merged["totals"]["requests"] == 0, "no count from before the reset"
    finally:
        await a.close()
        await b.close()


# ---- outages ------------------------------------------------------------------------------------
@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    srv = start_redis()
    yield srv
    srv.stop()


@pytest.mark.parametrize("policy", ["open", "closed"])
async def test_redis_going_away(
    own_server: RedisServer, policy: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_link, "RETRY_AFTER_OUTAGE_S", 0.0)
    state = RedisState(own_server.url, on_error=policy)
    live = LiveConfig(initial(Settings()))
    await state.start(live)
    cfg = rl(strategy="after-n", after_n=100)
    try:
        assert (await state.admit("messages", "", cfg, 0)).allowed
        own_server.stop()
        caplog.set_level(logging.WARNING, logger="llmreplay.state")
        for _ in range(3):
            t0 = time.perf_counter()
            got = await state.admit("messages", "", cfg, 0)
            # Refused at once, not waited out to the client's 0.5 s timeouts: a refused connection costs a few
            # milliseconds even on a busy machine, so this bound is a hang guard with a wide margin.
            assert time.perf_counter() - t0 < 1.0
            if policy == "open":
                assert got.allowed and got.quota.requests is None
                assert await state.scenario_next("429", "k") == OK
            else:
                assert not got.allowed and got.reason == "state"
                assert (await state.scenario_next("429", "k")).status == 503
        down = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(down) == 1, caplog.text
        assert own_server.url in down[0] and f"failing {policy}" in down[0]

        # it comes back on the same port: one more line, and limits apply again
        restarted = start_redis(own_server.port)
        try:
            got = await state.admit("messages", "", cfg, 0)
            assert got.allowed and got.quota.requests is not None
            assert any("reachable again" in r.getMessage() for r in caplog.records)
        finally:
            restarted.stop()
    finally:
        await asyncio.wait_for(state.close(), 2.0)


async def test_unreachable_from_the_start_never_hangs(caplog: pytest.LogCaptureFixture) -> None:
    from tests.serverproc import free_port

    state = RedisState(f"redis://127.0.0.1:{free_port()}/0", on_error="closed")
    t0 = time.perf_counter()
    await state.start(LiveConfig(initial(Settings())))
    got = await state.admit("messages", "", rl(strategy="fixed-window"), 0)
    # A hang guard, not a figure: start and one admission take about the client's 0.5 s timeout, and a busy
    # machine must not break the bound (20 times that).
    assert time.perf_counter() - t0 < 10.0
    assert not got.allowed and got.reason == "state"
    await asyncio.wait_for(state.close(), 2.0)
