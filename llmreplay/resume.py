"""A coroutine run up to its first wait now, and the rest of it awaited later, where it is needed.

The express lane runs the road's coroutine inside aiohttp's parser callback and, when the road has to wait,
hands the rest to the handler's task (:mod:`llmreplay.lane`).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")


class Resume:
    """The rest of a coroutine that was started and then had to wait: awaited (in any task), it goes on from where
    it stopped (the future it waits on is that task's to wait on), as ``await`` of it would have."""

    __slots__ = ("_coro", "_waiting")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self._coro = coro
        self._waiting = waiting

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, out = self._coro, self._waiting
        while True:
            try:
                sent = yield out
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    out = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    out = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def ready(value: T) -> T:
    """A coroutine that gives ``value`` at once: what is already done, awaited where a coroutine is expected."""
    return value
