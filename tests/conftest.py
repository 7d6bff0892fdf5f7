"""Shared fixtures: real llmreplay servers on free ports of 127.0.0.1."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from llmreplay.config import Settings
from llmreplay.server import BackgroundServer
from tests.state import RedisServer, start_redis

# Property tests time nothing: hypothesis's per-example deadline (200 ms by default) and its too-slow health
# check are wall-clock figures that a busy machine breaks without any bug. Tests that set their own settings
# inherit these.
hypothesis_settings.register_profile("llmreplay", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("llmreplay")

FAST = {"latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}, "server": {"quiet": True}}


def settings(**sections: dict[str, Any]) -> Settings:
    """Fast settings (no delays) with the given sections merged in."""
    data: dict[str, dict[str, Any]] = {k: dict(v) for k, v in FAST.items()}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings.model_validate(data)


@pytest.fixture(scope="session")
def server() -> Iterator[BackgroundServer]:
    """A shared synthetic server with no delays."""
    with BackgroundServer(settings()) as s:
        yield s


@pytest.fixture
def make_server() -> Iterator[Callable[..., BackgroundServer]]:
    """Start servers with custom settings sections; all are stopped after the test."""
    started: list[BackgroundServer] = []

    def start(**sections: dict[str, Any]) -> BackgroundServer:
        s = BackgroundServer(settings(**sections)).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def no_gc_pauses() -> Iterator[None]:
    """For timing tests: the client and the in-process server share this process, whose heap after hundreds of
    tests makes a full collection a pause of 10+ ms that neither side would see in real use (the server
    process keeps its own collector quiet while streams are held)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own on a free port (one per test: one test's stored state must not leak
    into the next); the tests that ask for it skip where redis-server is not installed."""
    srv = start_redis()
    yield srv
    srv.stop()
