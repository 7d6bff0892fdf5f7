"""OpenAI Responses API, driven by the official SDK."""

from __future__ import annotations

import json

import jsonschema
import openai
import pydantic
import pytest

from .schemas import ORDER, WEATHER

pytestmark = pytest.mark.sdk


def fn(name: str, schema: dict) -> dict:
    return {"type": "function", "name": name, "description": name, "parameters": schema, "strict": False}


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def test_create_text(client):
    r = client.responses.create(model="gpt-4o", input="Say hi", instructions="Be brief.")
    assert r.id.startswith("resp_") and r.status == "completed"
    assert r.output_text
    assert r.instructions == "Be brief."
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_stream_events_and_final_response(client):
    with client.responses.stream(model="gpt-4o", input="Say hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == final.output_text


def test_raw_stream_create(client):
    events = list(client.responses.create(model="gpt-4o", input=[{"role": "user", "content": "hi"}], stream=True))
    assert events[-1].type == "response.completed"


@pytest.mark.parametrize("stream", [False, True])
def test_forced_function_call_validates(client, stream):
    tools = [fn("get_weather", WEATHER), fn("place_order", ORDER)]
    for choice in ("required", {"type": "function", "name": "get_weather"}):
        if stream:
            with client.responses.stream(model="gpt-4o", input="weather?", tools=tools, tool_choice=choice) as s:
                r = s.get_final_response()
        else:
            r = client.responses.create(model="gpt-4o", input="weather?", tools=tools, tool_choice=choice)
        calls = [o for o in r.output if o.type == "function_call"]
        assert calls
        for c in calls:
            assert c.call_id.startswith("call_") and c.id.startswith("fc_")
            jsonschema.validate(json.loads(c.arguments), {"get_weather": WEATHER, "place_order": ORDER}[c.name])
        if isinstance(choice, dict):
            assert {c.name for c in calls} == {"get_weather"}


def test_function_call_output_round_trip(client):
    history = [
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"location":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    r = client.responses.create(model="gpt-4o", input=history, tools=[fn("get_weather", WEATHER)], tool_choice="none")
    assert r.output_text


class Person(pydantic.BaseModel):
    name: str
    age: int
    email: str


def test_parse_structured_output(client):
    r = client.responses.parse(model="gpt-4o", input="a person", text_format=Person)
    assert isinstance(r.output_parsed, Person)


def test_max_output_tokens_incomplete(client):
    r = client.responses.create(model="gpt-4o", input="long story", max_output_tokens=2)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    with client.responses.stream(model="gpt-4o", input="long story", max_output_tokens=2) as s:
        events = [e.type for e in s]
    assert events[-1] == "response.incomplete"


def test_malformed_request(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model="gpt-4o", input=[{"role": "user", "content": 12}])
    assert info.value.status_code == 400


async def test_async(server):
    c = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    r = await c.responses.create(model="gpt-4o", input="hi")
    assert r.output
    async with c.responses.stream(model="gpt-4o", input="hi") as s:
        final = await s.get_final_response()
    assert final.status == "completed"
