"""LiveConfig: partial patches, per-endpoint overrides, whole validation, listeners."""

from __future__ import annotations

import pydantic
import pytest

from llmreplay.config import Settings
from llmreplay.control.live import (
    ENDPOINTS,
    EndpointConfig,
    GlobalConfig,
    LiveConfig,
    UnknownEndpoint,
    initial,
)


@pytest.fixture
def live() -> LiveConfig:
    return LiveConfig(GlobalConfig())


def test_initial_comes_from_settings() -> None:
    s = Settings.model_validate(
        {
            "latency": {"chunk_size": 7, "delay_ms": 0},
            "rate_limit": {"enabled": True, "mode": "after_n", "requests": 3},
            "synthetic": {"tool_call_probability": 0.25},
        }
    )
    g = initial(s)
    assert g.latency.chunk_size == 7 and g.latency.delay_ms == 0
    assert g.rate_limit.enabled and g.rate_limit.strategy == "after-n" and g.rate_limit.requests == 3
    assert g.tool_call_probability == 0.25


@pytest.mark.parametrize("mode", ["always", "random", "after_n", "none", "fixed-window", "token-bucket"])
def test_initial_maps_every_settings_mode_to_a_strategy(mode: str) -> None:
    g = initial(Settings.model_validate({"rate_limit": {"mode": mode}}))
    assert g.rate_limit.strategy == mode.replace("_", "-")


def test_every_endpoint_starts_with_the_global_config(live: LiveConfig) -> None:
    for name in ENDPOINTS:
        cfg = live.for_endpoint(name)
        assert isinstance(cfg, EndpointConfig)
        assert cfg.model_dump() == live.glob.model_dump(exclude={"tool_call_probability", "default_response"})


def test_patch_global_is_partial(live: LiveConfig) -> None:
    new = live.patch_global({"latency": {"chunk_size": 3}})
    assert new.latency.chunk_size == 3
    assert new.latency.delay_ms == GlobalConfig().latency.delay_ms
    assert live.glob is new
    assert live.for_endpoint("messages").latency.chunk_size == 3


def test_kinds_are_replaced_not_merged(live: LiveConfig) -> None:
    live.patch_global({"failures": {"kinds": {"503": 1, "429": 2}}})
    live.patch_global({"failures": {"kinds": {"disconnect@50%": 1}}})
    assert live.glob.failures.kinds == {"disconnect@50%": 1}


@pytest.mark.parametrize(
    "patch",
    [
        {"latency": {"chunk_size": 0}},
        {"latency": {"chunk_size": 2}, "rate_limit": {"strategy": "nope"}},
        {"failures": {"kinds": {"nope": 1}}},
        {"failures": {"kinds": {"500": -1}}},
        {"failures": {"kinds": {"500": float("nan")}}},
        {"failures": {"error_rate": float("nan")}},
        {"unknown": True},
        {"latency": "fast"},
    ],
)
def test_bad_global_patch_raises_and_changes_nothing(live: LiveConfig, patch: dict) -> None:
    live.patch_endpoint("gemini", {"latency": {"jitter_ms": 1}})
    before, version = live.snapshot(), live.version
    with pytest.raises(pydantic.ValidationError):
        live.patch_global(patch)
    assert live.snapshot() == before
    assert live.version == version


def test_endpoint_override_merges_and_wins(live: LiveConfig) -> None:
    live.patch_endpoint("messages", {"latency": {"chunk_size": 4}})
    cfg = live.patch_endpoint("messages", {"latency": {"delay_ms": 1}})
    assert cfg.latency.chunk_size == 4 and cfg.latency.delay_ms == 1
    assert live.overrides == {"messages": {"latency": {"chunk_size": 4, "delay_ms": 1}}}
    live.patch_global({"latency": {"chunk_size": 99, "jitter_ms": 5}})
    assert live.for_endpoint("messages").latency.chunk_size == 4
    assert live.for_endpoint("messages").latency.jitter_ms == 5
    assert live.for_endpoint("gemini").latency.chunk_size == 99


def test_effective_config_is_cached_until_a_change(live: LiveConfig) -> None:
    first = live.for_endpoint("responses")
    assert live.for_endpoint("responses") is first
    live.patch_global({"latency": {"jitter_ms": 2}})
    assert live.for_endpoint("responses") is not first
    assert live.for_endpoint("responses").latency.jitter_ms == 2


@pytest.mark.parametrize(
    "patch",
    [{"tool_call_probability": 0.5}, {"rate_limit": {"probability": 2}}, {"latency": {"chunk_size": "x"}}],
)
def test_bad_endpoint_patch_raises_and_changes_nothing(live: LiveConfig, patch: dict) -> None:
    live.patch_endpoint("embeddings", {"latency": {"chunk_size": 5}})
    before = live.endpoints()
    with pytest.raises(pydantic.ValidationError):
        live.patch_endpoint("embeddings", patch)
    assert live.endpoints() == before


def test_unknown_endpoint(live: LiveConfig) -> None:
    with pytest.raises(UnknownEndpoint):
        live.patch_endpoint("nope", {})
    with pytest.raises(UnknownEndpoint):
        live.clear_endpoint("nope")
    assert live.overrides == {}


def test_clear_endpoint(live: LiveConfig) -> None:
    live.patch_endpoint("models", {"latency": {"chunk_size": 2}})
    live.clear_endpoint("models")
    assert live.overrides == {}
    assert live.for_endpoint("models").latency.chunk_size == live.glob.latency.chunk_size
    live.clear_endpoint("models")  # clearing twice is fine


def test_reset_returns_to_the_start(live: LiveConfig) -> None:
    start = live.snapshot()
    live.patch_global({"tool_call_probability": 0.1})
    live.patch_endpoint("messages", {"latency": {"chunk_size": 2}})
    live.reset()
    assert live.snapshot() == start
    assert live.for_endpoint("messages").latency.chunk_size == GlobalConfig().latency.chunk_size


def test_snapshot_and_endpoints_shapes(live: LiveConfig) -> None:
    live.patch_endpoint("gemini", {"failures": {"error_rate": 0.5}})
    snap = live.snapshot()
    assert set(snap) == {"global", "endpoints"}
    assert snap["endpoints"] == {"gemini": {"failures": {"error_rate": 0.5}}}
    listing = live.endpoints()
    assert list(listing) == list(ENDPOINTS)
    assert listing["gemini"]["effective"]["failures"]["error_rate"] == 0.5
    assert listing["messages"]["overrides"] == {}


def test_listeners_hear_every_change_but_not_failures(live: LiveConfig) -> None:
    heard: list[tuple[str, str | None]] = []
    live.listeners.append(lambda what, ep: heard.append((what, ep)))
    v0 = live.version
    live.patch_global({"latency": {"jitter_ms": 1}})
    live.patch_endpoint("messages", {"latency": {"jitter_ms": 2}})
    live.clear_endpoint("messages")
    with pytest.raises(pydantic.ValidationError):
        live.patch_global({"bad": 1})
    live.reset()
    assert heard == [("global", None), ("endpoint", "messages"), ("endpoint", "messages"), ("reset", None)]
    assert live.version == v0 + 4


def test_models_are_frozen(live: LiveConfig) -> None:
    with pytest.raises(pydantic.ValidationError):
        live.glob.latency.chunk_size = 3  # type: ignore[misc]
