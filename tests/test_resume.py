"""The rest of a coroutine, started in one place and finished where it is awaited (:mod:`llmreplay.resume`)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from llmreplay.resume import Resume, ready


def _started(coro: Coroutine[Any, Any, Any]) -> Resume:
    """``coro`` run up to its first wait, as the express lane runs the road in the parser's callback."""
    return Resume(coro, coro.send(None))


async def test_the_rest_goes_on_where_it_is_awaited() -> None:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    gate: asyncio.Future[str] = loop.create_future()

    async def work() -> str:
        seen.append("first")
        got = await gate
        seen.append(got)
        return got + "!"

    rest = _started(work())
    assert seen == ["first"]  # before any turn of the loop
    gate.set_result("second")
    assert await rest == "second!"
    assert seen == ["first", "second"]


async def test_an_error_after_the_wait_is_raised_where_awaited() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def broken() -> None:
        await gate
        raise ValueError("bad")

    rest = _started(broken())
    gate.set_result(None)
    with pytest.raises(ValueError, match="bad"):
        await rest


async def test_run_as_a_task_the_rest_can_be_cancelled_at_its_wait() -> None:
    loop = asyncio.get_running_loop()
    never: asyncio.Future[None] = loop.create_future()
    cleaned: list[str] = []

    async def waits() -> None:
        try:
            await never
        finally:
            cleaned.append("finally")

    rest = _started(waits())

    async def awaiting() -> None:
        await rest

    task = asyncio.ensure_future(awaiting())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"]
    assert never.cancelled()


async def test_ready_gives_its_value_when_awaited() -> None:
    assert await ready(7) == 7
