"""The collector policy: held streams' objects are frozen under load, and collected once it is over."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from llmreplay import collector


class _Node:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


async def _ticks() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_held_objects_are_kept_from_the_collector_until_the_load_is_over() -> None:
    srv = SimpleNamespace(connections=[])
    answering = 0
    task = asyncio.ensure_future(collector.watch(lambda: srv, every_s=0, in_flight=lambda: answering))
    try:
        await _ticks()
        assert not collector.busy()
        quiet = _Node()
        gone_quiet = weakref.ref(quiet)
        collector.hold()  # not busy: nothing is frozen
        del quiet
        gc.collect()
        assert gone_quiet() is None

        srv.connections = [object()] * (collector.HELD_ABOVE + 1)
        await _ticks()
        assert collector.busy()
        held = _Node()
        gone_held = weakref.ref(held)
        collector.hold()
        del held
        gc.collect()
        assert gone_held() is not None, "a cycle alive at hold() is out of the collector's reach under load"

        srv.connections = [object()] * (collector.QUIET_AT_MOST + 1)
        await _ticks()
        assert collector.busy(), "no full collection while streams are still held as the load ebbs"
        assert gone_held() is not None

        srv.connections = [object()] * collector.QUIET_AT_MOST
        answering = 1
        await _ticks()
        assert collector.busy(), "nor while an answer is still in flight"
        assert gone_held() is not None

        answering = 0
        await _ticks()
        assert not collector.busy()
        assert gone_held() is None, "one full collection once the server is idle"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not collector.busy()


async def test_the_valve_collects_when_too_much_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "FROZEN_VALVE", 0)
    monkeypatch.setattr(collector, "VALVE_EVERY_S", 0.0)
    srv = SimpleNamespace(connections=[object()] * (collector.HELD_ABOVE + 1))
    task = asyncio.ensure_future(collector.watch(lambda: srv, every_s=0))
    try:
        await _ticks()
        held = _Node()
        gone = weakref.ref(held)
        collector.hold()
        del held
        await _ticks()
        assert collector.busy()
        assert gone() is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
