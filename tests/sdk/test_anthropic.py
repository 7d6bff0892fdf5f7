"""Anthropic Messages, count_tokens and Models, driven by the official SDK."""

from __future__ import annotations

import anthropic
import jsonschema
import pytest

from .schemas import ORDER, WEATHER

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
TOOLS = [
    {"name": "get_weather", "description": "weather", "input_schema": WEATHER},
    {"name": "place_order", "description": "order", "input_schema": ORDER},
]
SCHEMAS = {"get_weather": WEATHER, "place_order": ORDER}


@pytest.fixture(scope="module")
def client(server):
    return anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)


def test_create(client):
    m = client.messages.create(model="claude-sonnet-4-6", max_tokens=1024, messages=USER, system="Be brief.")
    assert m.id.startswith("msg_") and m.type == "message" and m.role == "assistant"
    assert m.stop_reason == "end_turn" and m.content[0].type == "text" and m.content[0].text
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0
    assert m._request_id


def test_stream_helper_matches_events(client):
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=1024, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text
    assert final.usage.output_tokens > 0


def test_raw_event_order(client):
    events = [e.type for e in client.messages.create(model="c", max_tokens=100, messages=USER, stream=True)]
    assert events[0] == "message_start" and events[-2:] == ["message_delta", "message_stop"]
    assert "content_block_start" in events and "content_block_delta" in events


def test_stream_usage_equals_non_stream(make_server):
    srv = make_server(synthetic={"default_response": "Same words either way.", "tool_call_probability": 0})
    c = anthropic.Anthropic(base_url=srv.url, api_key="k", max_retries=0)
    whole = c.messages.create(model="c", max_tokens=100, messages=USER)
    with c.messages.stream(model="c", max_tokens=100, messages=USER) as s:
        streamed = s.get_final_message()
    assert streamed.content[0].text == whole.content[0].text
    assert (streamed.usage.input_tokens, streamed.usage.output_tokens) == (
        whole.usage.input_tokens,
        whole.usage.output_tokens,
    )


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "place_order"}])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_use_validates(client, choice, stream):
    for _ in range(5):
        if stream:
            with client.messages.stream(model="c", max_tokens=500, messages=USER, tools=TOOLS, tool_choice=choice) as s:
                m = s.get_final_message()
        else:
            m = client.messages.create(model="c", max_tokens=500, messages=USER, tools=TOOLS, tool_choice=choice)
        uses = [b for b in m.content if b.type == "tool_use"]
        assert m.stop_reason == "tool_use" and uses
        for b in uses:
            assert b.id.startswith("toolu_")
            jsonschema.validate(b.input, SCHEMAS[b.name])
            if choice["type"] == "tool":
                assert b.name == "place_order"


def test_tool_choice_none(client):
    m = client.messages.create(model="c", max_tokens=500, messages=USER, tools=TOOLS, tool_choice={"type": "none"})
    assert all(b.type == "text" for b in m.content)


def test_thinking_blocks(client):
    m = client.messages.create(
        model="c", max_tokens=2000, messages=USER, thinking={"type": "enabled", "budget_tokens": 1024}
    )
    assert m.content[0].type == "thinking" and m.content[0].thinking and m.content[0].signature
    with client.messages.stream(
        model="c", max_tokens=2000, messages=USER, thinking={"type": "enabled", "budget_tokens": 1024}
    ) as s:
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature


def test_max_tokens_and_stop_sequences(make_server):
    srv = make_server(synthetic={"default_response": "one two three four five six", "tool_call_probability": 0})
    c = anthropic.Anthropic(base_url=srv.url, api_key="k", max_retries=0)
    m = c.messages.create(model="c", max_tokens=2, messages=USER)
    assert m.stop_reason == "max_tokens" and m.usage.output_tokens <= 2
    m = c.messages.create(model="c", max_tokens=100, messages=USER, stop_sequences=["four"])
    assert m.stop_reason == "stop_sequence" and m.stop_sequence == "four"
    assert m.content[0].text == "one two three "


def test_count_tokens_agrees_with_usage(client):
    args = {"model": "c", "messages": USER, "system": "Be brief.", "tools": TOOLS}
    counted = client.messages.count_tokens(**args).input_tokens
    m = client.messages.create(max_tokens=100, tool_choice={"type": "none"}, **args)
    assert counted == m.usage.input_tokens > 0


def test_models(client):
    models = list(client.models.list(limit=2))
    assert len(models) >= 3 and all(m.type == "model" for m in models)
    assert client.models.retrieve("claude-custom").id == "claude-custom"


def test_malformed_request(client):
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model="c", max_tokens=-5, messages=USER)
    assert info.value.status_code == 400 and "max_tokens" in str(info.value)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model="c", max_tokens=10, messages=[{"role": "robot", "content": "x"}])


async def test_async(server):
    c = anthropic.AsyncAnthropic(base_url=server.url, api_key="k", max_retries=0)
    m = await c.messages.create(model="c", max_tokens=100, messages=USER)
    assert m.content
    async with c.messages.stream(model="c", max_tokens=100, messages=USER) as s:
        final = await s.get_final_message()
    assert final.content
