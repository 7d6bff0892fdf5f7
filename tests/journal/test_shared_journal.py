"""The journal under --state redis://…: two apps on one real redis-server show one journal, and a clear made
on either applies to both."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from llmreplay.app import create_app
from llmreplay.journal import Entry
from llmreplay.runtime import RUNTIME
from tests.conftest import settings
from tests.journal.entries import entry
from tests.state import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
pytest.importorskip("redis")
redis_journal = pytest.importorskip("llmreplay.state.redis_journal")
SEEN_WITHIN_S = 5.0
"""A hang guard, not a figure: finished entries are pushed every 0.2 s."""


async def two(aiohttp_client: Any, url: str) -> tuple[Any, Any]:
    return (
        await aiohttp_client(create_app(settings(server={"state": url}))),
        await aiohttp_client(create_app(settings(server={"state": url}))),
    )


def answered(client: Any, *entries: Entry) -> None:
    """As the road does: add the entry, then finish it."""
    journal = client.server.app[RUNTIME].journal
    for e in entries:
        journal.add(e)
        journal.finished(e)


async def ids(client: Any, query: str = "") -> list[int]:
    r = await client.get("/api/requests" + query)
    assert r.status == 200, await r.text()
    return [int(d["id"][4:], 16) for d in await r.json()]


async def until(client: Any, want: list[int], query: str = "") -> None:
    end = time.monotonic() + SEEN_WITHIN_S
    while (got := await ids(client, query)) != want and time.monotonic() < end:
        await asyncio.sleep(0.05)
    assert got == want


async def test_one_journal_over_two_processes(aiohttp_client: Any, redis_server: RedisServer) -> None:
    a, b = await two(aiohttp_client, redis_server.url)
    answered(a, entry(1, test_id="t1"), entry(3, test_id="t2"))
    answered(b, entry(2, test_id="t1"), entry(4, test_id="t2"))
    b.server.app[RUNTIME].journal.add(entry(5, test_id="t1", done=False))  # in flight: only its own process lists it
    await until(a, [1, 2, 3, 4])
    await until(b, [1, 2, 3, 4, 5])
    assert await ids(a, "?test_id=t1") == [1, 2]
    assert await ids(a, "?limit=2") == [3, 4]
    r = await a.get(f"/api/requests/{entry(4).id}")
    assert r.status == 200 and (await r.json())["test_id"] == "t2"

    r = await b.delete("/api/requests?test_id=t1")
    assert await r.json() == {"removed": 3, "test_id": "t1"}  # b's two, a's one
    assert await ids(a) == [3, 4] and await ids(b) == [3, 4]
    assert (await a.get(f"/api/requests/{entry(1).id}")).status == 404

    r = await a.delete("/api/requests")
    assert await r.json() == {"removed": 2, "test_id": None}
    assert await ids(a) == [] and await ids(b) == []
    later = time.time()
    answered(a, entry(6, t=later + 1, test_id="t1"))
    answered(b, entry(7, t=later + 2))
    await until(a, [6, 7])
    await until(b, [6, 7])


async def test_a_dead_process_entries_expire(
    aiohttp_client: Any, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_journal, "LIST_TTL_MS", 300)
    a, b = await two(aiohttp_client, redis_server.url)
    answered(b, entry(1))
    await until(a, [1])
    await b.close()  # stops pushing and beating
    await until(a, [])


async def test_while_redis_is_down_a_process_lists_its_own(aiohttp_client: Any, redis_server: RedisServer) -> None:
    a, b = await two(aiohttp_client, redis_server.url)
    answered(a, entry(1))
    answered(b, entry(2))
    await until(a, [1, 2])
    redis_server.stop()
    assert await ids(a) == [1]
    assert (await a.delete("/api/requests")).status == 503
