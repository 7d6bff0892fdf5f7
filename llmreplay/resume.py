"""A coroutine run up to its first wait now, and the rest of it awaited later, where it is needed.

The express lane runs the road's coroutine inside aiohttp's parser callback and, when the road has to wait,
hands the rest to the handler's task (:mod:`llmreplay.lane`). The record proxy's upstream client writes a request
body the same way (:mod:`llmreplay.sources.upstream`): aiohttp runs the body writer as a task of its own, which
on Python 3.11 waits for its first turn behind everything the loop has ready, and in a burst that turn is
milliseconds away (aiohttp starts it at once on 3.12 and later).
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


def begun(coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    """``coro`` run now up to its first wait (or its end); awaiting what is returned, or running it as a task,
    goes on from there and gives its result or raises its error, as ``coro`` itself would have."""
    try:
        waiting = coro.send(None)
    except StopIteration as stop:
        return ready(stop.value)
    except Exception as exc:
        return _raises(exc)
    return _rest(coro, waiting)


async def ready(value: T) -> T:
    """A coroutine that gives ``value`` at once: what is already done, awaited where a coroutine is expected."""
    return value


async def _raises(exc: Exception) -> Any:
    raise exc


async def _rest(coro: Coroutine[Any, Any, T], waiting: Any) -> T:
    result: T = await Resume(coro, waiting)
    return result
