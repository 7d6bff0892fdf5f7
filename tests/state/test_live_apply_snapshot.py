"""LiveConfig.apply_snapshot: another process's configuration replaces ours whole, or nothing changes."""

from __future__ import annotations

import pytest

from llmreplay.config import Settings
from llmreplay.control.live import LiveConfig, initial


def fresh() -> LiveConfig:
    return LiveConfig(initial(Settings()))


def test_apply_replaces_global_and_overrides_and_notifies_remote() -> None:
    source, target = fresh(), fresh()
    source.patch_global({"rate_limit": {"enabled": True, "requests": 4}})
    source.patch_endpoint("messages", {"latency": {"delay_ms": 7}})
    target.patch_endpoint("gemini", {"latency": {"delay_ms": 1}})  # not in the source: dropped
    heard: list[tuple[str, str | None]] = []
    target.listeners.append(lambda what, endpoint: heard.append((what, endpoint)))
    version = target.version
    target.for_endpoint("messages")  # cached effective config must be recomputed

    target.apply_snapshot(source.snapshot())

    assert target.snapshot() == source.snapshot()
    assert target.for_endpoint("messages").latency.delay_ms == 7
    assert target.for_endpoint("messages").rate_limit.requests == 4
    assert target.for_endpoint("gemini").latency.delay_ms == source.for_endpoint("gemini").latency.delay_ms
    assert target.version == version + 1
    assert heard == [("remote", None)]


@pytest.mark.parametrize(
    "bad",
    [
        {"global": {"rate_limit": {"requests": 0}}},
        {"global": {}, "endpoints": {"nope": {}}},
        {"global": {}, "endpoints": {"messages": {"latency": {"delay_ms": -1}}}},
        {"global": {}, "endpoints": []},
    ],
)
def test_bad_snapshot_changes_nothing(bad: dict) -> None:
    live = fresh()
    live.patch_global({"latency": {"delay_ms": 3}})
    before, version = live.snapshot(), live.version
    with pytest.raises((ValueError, KeyError)):
        live.apply_snapshot(bad)
    assert live.snapshot() == before and live.version == version
