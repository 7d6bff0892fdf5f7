"""Kept Responses shared through one redis-server: a response made on one server is retrieved, continued,
cancelled and deleted on another (the openai SDK on each); the shared shelf is bounded as the memory one is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import openai
import pytest

from llmreplay.providers.openai_responses_store import Stored
from llmreplay.state.redis_link import RedisLink
from llmreplay.state.redis_responses import RedisShelf
from tests import serverproc
from tests.state import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)
pytest.importorskip("redis")
MODEL = "gpt-4o-mini"


@pytest.fixture
def clients(redis_server: RedisServer) -> Iterator[list[openai.OpenAI]]:
    started: list[serverproc.Server] = []
    try:
        for _ in range(2):
            started.append(serverproc.start(env={"LLMREPLAY_STATE": redis_server.url}))
        yield [
            openai.OpenAI(base_url=f"http://127.0.0.1:{s.port}/v1", api_key="sk-test", max_retries=0) for s in started
        ]
    finally:
        for s in started:
            serverproc.stop(s)


def test_a_response_made_on_one_server_is_known_to_the_other(clients: list[openai.OpenAI]) -> None:
    a, b = clients
    first = a.responses.create(model=MODEL, input="Tell me a story about a dragon")
    got = b.responses.retrieve(first.id)
    assert got.id == first.id and got.output_text == first.output_text
    items = b.responses.input_items.list(first.id)
    assert items.data[0].content[0].text == "Tell me a story about a dragon"  # type: ignore[union-attr]
    # continued on the other server, and that one's continued back on the first
    second = b.responses.create(model=MODEL, input="And then?", previous_response_id=first.id)
    assert second.usage is not None and first.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens
    third = a.responses.create(model=MODEL, input="The end?", previous_response_id=second.id)
    assert third.usage is not None and third.usage.input_tokens > second.usage.input_tokens
    b.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        a.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError, match="resp_nowhere' not found"):
        a.responses.create(model=MODEL, input="Again", previous_response_id="resp_nowhere")


def test_a_background_response_is_cancelled_and_resumed_on_the_other_server(clients: list[openai.OpenAI]) -> None:
    a, b = clients
    made = a.responses.create(
        model=MODEL, input="Write a novel", background=True, extra_headers={"x-llmreplay-ttft-ms": "60000"}
    )
    assert b.responses.retrieve(made.id).status == "in_progress"
    assert b.responses.cancel(made.id).status == "cancelled"
    assert a.responses.retrieve(made.id).status == "cancelled"
    # a background stream dropped on one server is resumed on the other
    stream = a.responses.create(model=MODEL, input="Tell me a story", background=True, stream=True)
    first = next(iter(stream))
    stream.close()
    rest = list(b.responses.retrieve(first.response.id, stream=True, starting_after=first.sequence_number))
    assert rest[0].sequence_number == first.sequence_number + 1 and rest[-1].type == "response.completed"


def test_workers_sharing_a_state_know_each_others_responses(redis_server: RedisServer) -> None:
    """``--workers 2``: each call on a new connection, so the kernel hands it to either worker (without --state,
    6 of 20 retrieves missed in one run)."""
    server = serverproc.start("--workers", "2", env={"LLMREPLAY_STATE": redis_server.url})
    try:

        def fresh() -> openai.OpenAI:
            url = f"http://127.0.0.1:{server.port}/v1"
            return openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0, http_client=httpx.Client())

        for _ in range(20):
            made = fresh().responses.create(model=MODEL, input="Hi")
            assert fresh().responses.retrieve(made.id).id == made.id
            fresh().responses.create(model=MODEL, input="Again", previous_response_id=made.id)
    finally:
        serverproc.stop(server)


def _rec(rid: str, size: int, previous: str | None = None) -> Stored:
    return Stored(rid, b"x" * size, b"[]", previous)


def test_the_shared_shelf_is_bounded_by_count_bytes_and_time(redis_server: RedisServer) -> None:
    async def run() -> None:
        now = [1000.0]
        link = RedisLink(redis_server.url, on_error="open", prefix="bounds", timeout=2.0)
        shelf = RedisShelf(link, ttl_s=60, max_count=3, max_bytes=1000, now=lambda: now[0])
        try:
            for i in range(5):
                await shelf.put(_rec(f"resp_{i}", 10, f"resp_{i - 1}" if i else None))
            assert await shelf.chain("resp_0", 1) is None
            chain = await shelf.chain("resp_4")
            assert chain is not None and [r.id for r in chain] == ["resp_2", "resp_3", "resp_4"]
            await shelf.put(_rec("resp_big", 900))
            assert int(await link.redis.get(f"{link.ns}:responses-bytes")) <= 1000
            assert await shelf.chain("resp_big", 1) is not None
            await shelf.put(_rec("resp_huge", 5000))  # over the whole bound: not kept, nothing let go for it
            assert await shelf.chain("resp_huge", 1) is None and await shelf.chain("resp_big", 1) is not None
            gone = await shelf.drop("resp_big")
            assert gone is not None and gone.response == b"x" * 900
            assert await shelf.drop("resp_big") is None
            now[0] += 61  # past the time to live: the next put lets the rest go from the index too
            await shelf.put(_rec("resp_new", 10))
            assert await link.redis.zrange(f"{link.ns}:responses-index", 0, -1) == ["resp_new"]
            assert int(await link.redis.get(f"{link.ns}:responses-bytes")) == _rec("resp_new", 10).size
        finally:
            await link.redis.aclose()

    asyncio.run(run())


def test_an_outage_leaves_answers_unkept_not_failed(redis_server: RedisServer) -> None:
    server = serverproc.start(env={"LLMREPLAY_STATE": redis_server.url})
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key="sk-test", max_retries=0)
        kept = client.responses.create(model=MODEL, input="Hi")
        redis_server.stop()
        made = client.responses.create(model=MODEL, input="Hi")  # answered, though Redis cannot keep it
        assert made.output_text
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(kept.id)  # nothing is found while Redis is away
    finally:
        serverproc.stop(server)
