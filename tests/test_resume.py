"""A coroutine begun now and finished where it is awaited (:mod:`llmreplay.resume`)."""

from __future__ import annotations

import asyncio

import pytest

from llmreplay.resume import begun


async def test_the_first_step_runs_at_once_and_the_rest_where_awaited() -> None:
    loop = asyncio.get_running_loop()
    seen: list[str] = []
    gate: asyncio.Future[str] = loop.create_future()

    async def work() -> str:
        seen.append("first")
        got = await gate
        seen.append(got)
        return got + "!"

    rest = begun(work())
    assert seen == ["first"]  # before any turn of the loop
    gate.set_result("second")
    assert await rest == "second!"
    assert seen == ["first", "second"]


async def test_a_coroutine_that_never_waits_gives_its_result_when_awaited() -> None:
    async def at_once() -> int:
        return 7

    assert await begun(at_once()) == 7


async def test_an_error_before_the_first_wait_is_raised_where_awaited() -> None:
    async def broken() -> None:
        raise ValueError("bad")

    rest = begun(broken())  # nothing raised here, as a task would not have raised here
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

    task = asyncio.ensure_future(begun(waits()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"]
    assert never.cancelled()
