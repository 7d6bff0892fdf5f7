"""The stateful Responses API through the openai SDK: kept responses are retrieved, listed and deleted;
``previous_response_id`` continues a conversation (an unknown id is the real API's 400); ``store: false`` keeps
nothing; ``input_tokens`` counts a prompt."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest

from llmreplay.model import Answer, Frame, Request
from llmreplay.providers import openai_responses_store as wire
from llmreplay.server import BackgroundServer
from llmreplay.state.response_shelf import MemoryShelf

MODEL = "gpt-4o-mini"
TOOLS: Any = [
    {
        "type": "function",
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture
def client(server: BackgroundServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_an_unknown_previous_response_id_is_the_apis_400(client: openai.OpenAI, server: BackgroundServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="Hi", previous_response_id="resp_nope")
    assert caught.value.body == {
        "message": "Previous response with id 'resp_nope' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    raw = httpx.post(
        server.url + "/v1/responses",
        json={"model": MODEL, "input": "Hi", "previous_response_id": "resp_nope"},
    )
    assert raw.status_code == 400
    assert raw.json()["error"]["code"] == "previous_response_not_found"


@pytest.mark.parametrize("stream", [False, True])
def test_a_kept_response_is_retrieved_listed_and_deleted(client: openai.OpenAI, stream: bool) -> None:
    if stream:
        with client.responses.stream(model=MODEL, input="Tell me a story") as s:
            made = s.get_final_response()
    else:
        made = client.responses.create(model=MODEL, input="Tell me a story")
    got = client.responses.retrieve(made.id)
    assert got.id == made.id
    assert got.output_text == made.output_text
    items = client.responses.input_items.list(made.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == "Tell me a story"  # type: ignore[union-attr]
    client.responses.delete(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(made.id)


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    made = client.responses.create(model=MODEL, input="Hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Again", previous_response_id=made.id)


def test_a_tool_result_sent_through_previous_response_id_is_answered_in_text(make_server: Any) -> None:
    url = make_server(synthetic={"tool_call_after_result_probability": 0.0}).url
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=TOOLS, tool_choice="required")
    call = next(o for o in first.output if o.type == "function_call")
    result: Any = [{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}]
    second = client.responses.create(model=MODEL, previous_response_id=first.id, input=result, tools=TOOLS)
    assert second.previous_response_id == first.id
    assert [o.type for o in second.output] == ["message"]
    assert second.output_text
    # The earlier turns count as the prompt.
    assert second.usage is not None and first.usage is not None
    assert second.usage.input_tokens > first.usage.input_tokens


def test_input_tokens_are_counted(client: openai.OpenAI) -> None:
    counted = client.responses.input_tokens.count(model=MODEL, input="Tell me a story about a dragon")
    assert counted.object == "response.input_tokens"
    made = client.responses.create(model=MODEL, input="Tell me a story about a dragon")
    assert made.usage is not None and counted.input_tokens == made.usage.input_tokens


def _record(rid: str, size: int, previous: str | None = None) -> wire.Stored:
    return wire.Stored(rid, b"x" * size, b"[]", previous)


def test_the_store_is_bounded_by_count_and_bytes() -> None:
    store = MemoryShelf(max_count=3, max_bytes=1000)
    for i in range(5):
        store.add(_record(f"resp_{i}", 10))
    assert len(store) == 3 and store.get("resp_0") is None and store.get("resp_4") is not None
    store.add(_record("resp_big", 900))
    assert store.bytes <= 1000 and store.get("resp_big") is not None
    store.add(_record("resp_huge", 5000))  # over the whole bound: not kept, nothing else let go for it
    assert store.get("resp_huge") is None and store.get("resp_big") is not None


def test_a_chain_ends_where_a_link_was_let_go() -> None:
    store = MemoryShelf()
    store.add(_record("resp_a", 1))
    store.add(_record("resp_b", 1, "resp_a"))
    store.add(_record("resp_c", 1, "resp_b"))
    chain = store.chain_now("resp_c")
    assert chain is not None and [r.id for r in chain] == ["resp_a", "resp_b", "resp_c"]
    assert asyncio.run(store.drop("resp_b")) is not None
    chain = store.chain_now("resp_c")
    assert chain is not None and [r.id for r in chain] == ["resp_c"]
    assert store.chain_now("resp_b") is None


def test_a_record_is_read_from_a_body_or_a_streams_completed_event() -> None:
    req = Request("openai-responses", "responses", MODEL, body={"input": "Hi", "previous_response_id": "resp_p"})
    response = {"id": "resp_1", "object": "response", "output": []}
    plain = Answer(200, (), (Frame(json.dumps(response).encode()),))
    rec = wire.stored_of(plain, req)
    assert rec is not None and rec.id == "resp_1" and rec.previous == "resp_p"
    event = b"event: response.completed\ndata: " + json.dumps({"response": response}).encode() + b"\n\n"
    streamed = Answer(200, (), (Frame(b"event: response.created\ndata: {}\n\n"), Frame(event)), stream=True)
    rec = wire.stored_of(streamed, req)
    assert rec is not None and rec.id == "resp_1"
    assert wire.stored_of(Answer(400, (), (Frame(b"{}"),)), req) is None


def test_input_tokens_count_the_earlier_turns(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="Tell me a story about a dragon")
    alone = client.responses.input_tokens.count(model=MODEL, input="And then?")
    chained = client.responses.input_tokens.count(model=MODEL, input="And then?", previous_response_id=first.id)
    second = client.responses.create(model=MODEL, input="And then?", previous_response_id=first.id)
    assert second.usage is not None and chained.input_tokens == second.usage.input_tokens > alone.input_tokens
    with pytest.raises(openai.BadRequestError, match="Previous response with id 'resp_gone' not found"):
        client.responses.input_tokens.count(model=MODEL, input="x", previous_response_id="resp_gone")
