"""Rules shared through Redis: a change on one process reaches the others; a process that starts later with
the same rules file takes the sets in force, one with another file replaces them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from llmreplay.config import Settings
from llmreplay.control.live import LiveConfig, initial
from llmreplay.rules import RuleBook, parse_rules
from tests.state import REDIS_SERVER, RedisServer, start_redis

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
redis_state = pytest.importorskip("llmreplay.state.redis")

WITHIN_S = 5.0
"""A guard against a hang: a published change arrives in milliseconds."""


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    srv = start_redis()
    yield srv
    srv.stop()


def _book(*names: str) -> RuleBook:
    return RuleBook(parse_rules([{"name": n, "reply": {"text": n}} for n in names]))


def _names(book: RuleBook, test_id: str | None = None) -> list[str]:
    return [r.name for r in book.rules(test_id)]


async def _started(url: str, prefix: str, book: RuleBook) -> Any:
    state = redis_state.RedisState(url, prefix=prefix)
    state.attach_rules(book)
    await state.start(LiveConfig(initial(Settings())))
    await asyncio.wait_for(state._rules.following.wait(), WITHIN_S)
    return state


async def _until(check: Any) -> None:
    for _ in range(int(WITHIN_S / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    assert check()


async def test_changes_reach_the_other_processes(server: RedisServer) -> None:
    prefix = uuid.uuid4().hex[:12]
    book_a, book_b = _book("file"), _book("file")
    a = await _started(server.url, prefix, book_a)
    b = await _started(server.url, prefix, book_b)
    try:
        book_a.add(parse_rules([{"name": "added", "reply": {"text": "x"}}]))
        await a.share_rules(None, book_a.docs())
        await _until(lambda: _names(book_b) == ["added", "file"])

        book_b.replace(parse_rules([{"name": "mine", "reply": {"text": "t"}}]), "t1")
        await b.share_rules("t1", book_b.docs("t1"))
        await _until(lambda: _names(book_a, "t1") == ["mine"])

        book_a.clear("t1")
        await a.share_rules("t1", [])
        await _until(lambda: _names(book_b, "t1") == [])

        # A replica that starts later with the same file takes the sets in force, runtime changes included.
        book_c = _book("file")
        c = await _started(server.url, prefix, book_c)
        assert _names(book_c) == ["added", "file"]
        await c.close()

        book_b.clear()
        await b.share_rules(None, None)
        await _until(lambda: _names(book_a) == [])

        # One that starts with another file (a restart after it changed) replaces the sets with its own.
        book_d = _book("new")
        d = await _started(server.url, prefix, book_d)
        assert _names(book_d) == ["new"]
        await _until(lambda: _names(book_a) == ["new"] and _names(book_b) == ["new"])
        await d.close()
    finally:
        await a.close()
        await b.close()
