"""make_state: memory without --state, Redis for redis URLs, a one-line error otherwise."""

from __future__ import annotations

import sys

import pytest

from llmreplay.config import Settings
from llmreplay.errors import ConfigError
from llmreplay.state.factory import StateConfigError, make_state
from llmreplay.state.memory import MemoryState


def settings(state: str | None) -> Settings:
    s = Settings()
    return s.model_copy(update={"server": s.server.model_copy(update={"state": state, "state_on_error": "closed"})})


def test_memory_by_default() -> None:
    assert isinstance(make_state(settings(None)), MemoryState)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:1/0", "rediss://h:1/2", "unix:///tmp/redis.sock"])
def test_redis_urls(url: str) -> None:
    pytest.importorskip("redis")
    state = make_state(settings(url))
    assert state.name == "redis" and state.on_error == "closed"  # type: ignore[attr-defined]


def test_other_schemes_are_one_line_errors() -> None:
    with pytest.raises(StateConfigError, match="memcache") as info:
        make_state(settings("memcache://x"))
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigError, match=r"pip install llmreplay\[redis\]"):
        make_state(settings("redis://127.0.0.1:1/0"))
