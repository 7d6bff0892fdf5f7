"""OpenAI Chat Completions, Embeddings, Models and legacy Completions, driven by the official SDK."""

from __future__ import annotations

import json

import jsonschema
import openai
import pydantic
import pytest

from .schemas import ORDER, WEATHER

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]


def tool(name: str, schema: dict) -> dict:
    return {"type": "function", "function": {"name": name, "description": f"{name} tool", "parameters": schema}}


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_non_stream(client):
    r = client.chat.completions.create(model="gpt-4o", messages=USER)
    assert r.id.startswith("chatcmpl-")
    assert r.object == "chat.completion" and r.model == "gpt-4o"
    choice = r.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r._request_id and r._request_id.startswith("req_")


def test_stream_with_usage_matches_non_stream(make_server):
    srv = make_server(synthetic={"default_response": "Streaming is fun to test, really.", "tool_call_probability": 0})
    c = openai.OpenAI(base_url=srv.url + "/v1", api_key="k", max_retries=0)
    whole = c.chat.completions.create(model="gpt-4o", messages=USER)
    chunks = list(
        c.chat.completions.create(model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True})
    )
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == whole.choices[0].message.content == "Streaming is fun to test, really."
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump() == whole.usage.model_dump()
    assert all(ch.usage is None for ch in chunks[:-1])
    assert len({ch.id for ch in chunks}) == 1


def test_stream_helper_final_completion(client):
    with client.chat.completions.stream(model="gpt-4o", messages=USER) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == final.choices[0].message.content


@pytest.mark.parametrize("choice", ["required", {"type": "function", "function": {"name": "place_order"}}])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_call_arguments_validate(client, choice, stream):
    tools = [tool("get_weather", WEATHER), tool("place_order", ORDER)]
    for _ in range(5):
        if stream:
            with client.chat.completions.stream(model="gpt-4o", messages=USER, tools=tools, tool_choice=choice) as s:
                r = s.get_final_completion()
        else:
            r = client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools, tool_choice=choice)
        msg = r.choices[0].message
        assert r.choices[0].finish_reason == "tool_calls" and msg.tool_calls
        for call in msg.tool_calls:
            assert call.id.startswith("call_")
            schema = {"get_weather": WEATHER, "place_order": ORDER}[call.function.name]
            jsonschema.validate(json.loads(call.function.arguments), schema)
            if isinstance(choice, dict):
                assert call.function.name == "place_order"


def test_tool_choice_none_never_calls(client):
    for _ in range(5):
        r = client.chat.completions.create(
            model="gpt-4o", messages=USER, tools=[tool("get_weather", WEATHER)], tool_choice="none"
        )
        assert not r.choices[0].message.tool_calls and r.choices[0].finish_reason == "stop"


class City(pydantic.BaseModel):
    name: str
    country: str
    population: int
    landmarks: list[str]


def test_structured_output_parse(client):
    r = client.chat.completions.parse(model="gpt-4o", messages=USER, response_format=City)
    assert isinstance(r.choices[0].message.parsed, City)
    with client.chat.completions.stream(model="gpt-4o", messages=USER, response_format=City) as s:
        final = s.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, City)


def test_json_object_mode(client):
    r = client.chat.completions.create(model="gpt-4o", messages=USER, response_format={"type": "json_object"})
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_n_choices_streamed_and_not(client):
    r = client.chat.completions.create(model="gpt-4o", messages=USER, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    with client.chat.completions.stream(model="gpt-4o", messages=USER, n=2) as s:
        final = s.get_final_completion()
    assert [c.index for c in final.choices] == [0, 1] and all(c.message.content for c in final.choices)


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_token_limit_finishes_with_length(client, field):
    r = client.chat.completions.create(model="gpt-4o", messages=USER, **{field: 2})
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens <= 2


def test_stop_sequence(make_server):
    srv = make_server(synthetic={"default_response": "alpha beta STOP gamma", "tool_call_probability": 0})
    c = openai.OpenAI(base_url=srv.url + "/v1", api_key="k", max_retries=0)
    r = c.chat.completions.create(model="gpt-4o", messages=USER, stop=["STOP"])
    assert r.choices[0].message.content == "alpha beta " and r.choices[0].finish_reason == "stop"


def test_logprobs(client):
    r = client.chat.completions.create(model="gpt-4o", messages=USER, logprobs=True, top_logprobs=2)
    content = r.choices[0].logprobs.content
    assert "".join(t.token for t in content) == r.choices[0].message.content
    assert all(t.logprob <= 0 and len(t.top_logprobs) == 2 for t in content)


def test_system_fingerprint_and_roles(client):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "No jokes."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    r = client.chat.completions.create(model="gpt-4o", messages=messages)
    assert r.system_fingerprint and r.system_fingerprint.startswith("fp_")


def test_seed_makes_replies_reproducible(client):
    h = {"x-llmreplay-seed": "7"}
    a = client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=h)
    b = client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=h)
    assert a.id == b.id and a.choices[0].message.content == b.choices[0].message.content


def test_malformed_request_raises_bad_request(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "wizard", "content": "hi"}])
    assert info.value.status_code == 400
    assert "messages" in info.value.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=USER, extra_body={"n": "many"})


def test_embeddings(client):
    r = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(r.data) == 2 and len(r.data[0].embedding) == 1536
    again = client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=256)
    assert len(again.data[0].embedding) == 256
    floats = client.embeddings.create(model="text-embedding-3-small", input="a", encoding_format="float")
    assert floats.data[0].embedding == r.data[0].embedding
    assert r.usage.prompt_tokens > 0


def test_models(client):
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o" in ids
    assert client.models.retrieve("my-fine-tune").id == "my-fine-tune"


def test_legacy_completions(client):
    r = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=50)
    assert r.choices[0].text and r.object == "text_completion"
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices)


async def test_async_client(server):
    c = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    r = await c.chat.completions.create(model="gpt-4o", messages=USER)
    assert r.choices[0].message.content or r.choices[0].message.tool_calls
    stream = await c.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    text = "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])
    assert text
    async with c.chat.completions.stream(model="gpt-4o", messages=USER) as s:
        final = await s.get_final_completion()
    assert final.choices[0].message.content
