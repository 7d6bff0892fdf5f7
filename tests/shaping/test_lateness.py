"""The scheduler's own account of how late it wrote, with an injected clock."""

from __future__ import annotations

import asyncio
import bisect
from array import array
from typing import Any

import pytest

from llmreplay.shaping.lateness import BOUNDS_S, Lateness
from llmreplay.shaping.writer import Scheduler, Writer


class _Clock:
    """A clock the test moves, and the parts of an event loop the scheduler uses (its timers never fire:
    the test polls)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.now = 100.0
        self._loop = loop

    def time(self) -> float:
        return self.now

    def create_future(self) -> asyncio.Future[None]:
        return self._loop.create_future()

    def call_later(self, delay: float, callback: Any) -> asyncio.TimerHandle:
        return self._loop.call_later(3600, callback)


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def writelines(self, parts: Any) -> None:
        self.writes.append(b"".join(parts))


def _bucket(late_s: float) -> int:
    return next((i for i, b in enumerate(BOUNDS_S) if late_s <= b), len(BOUNDS_S))


async def test_each_write_is_counted_in_the_bucket_of_its_lateness() -> None:
    clock = _Clock(asyncio.get_running_loop())
    sched = Scheduler(clock, clock.time)  # type: ignore[arg-type]
    t = _Transport()
    t0 = clock.now
    due = array("d", [t0 + 0.010, t0 + 0.020, t0 + 0.030, t0 + 0.040])
    job = sched.submit(t, due, [b"a", b"b", b"c", b"d"])  # type: ignore[arg-type]

    clock.now = t0 + 0.010  # on time
    sched.poll()
    clock.now = t0 + 0.0235  # 3.5 ms late
    sched.poll()
    clock.now = t0 + 0.090  # c and d overdue: one write, late by c's 60 ms
    sched.poll()

    assert t.writes == [b"a", b"b", b"cd"]
    assert job.done.done()
    assert job.pieces == [], "what is sent is let go"
    counts, total = sched.lateness.take()
    expected = [0] * (len(BOUNDS_S) + 1)
    for late in (0.0, 0.0035, 0.060):
        expected[_bucket(late)] += 1
    assert counts == expected
    assert total == pytest.approx(0.0635)
    assert sched.lateness.take() == ([0] * (len(BOUNDS_S) + 1), 0.0), "a take starts the counts again"


def test_a_bound_itself_falls_in_its_own_bucket() -> None:
    tally = Lateness()
    # What the scheduler does per write, at each bound exactly and just above the last.
    for b in BOUNDS_S:
        tally.counts[bisect.bisect_left(BOUNDS_S, b)] += 1
    assert tally.counts == [1] * len(BOUNDS_S) + [0]
    tally.counts[bisect.bisect_left(BOUNDS_S, BOUNDS_S[-1] + 1)] += 1
    assert tally.counts[-1] == 1


async def test_the_writer_sums_its_schedulers() -> None:
    w = Writer()
    assert w.take_lateness() == ([0] * (len(BOUNDS_S) + 1), 0.0)
    sched = w._scheduler(asyncio.get_running_loop())
    sched.lateness.counts[2] += 5
    sched.lateness.sum += 0.02
    counts, total = w.take_lateness()
    assert counts[2] == 5 and sum(counts) == 5
    assert total == pytest.approx(0.02)
    assert w.take_lateness()[0] == [0] * (len(BOUNDS_S) + 1)
