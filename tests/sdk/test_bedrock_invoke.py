"""AWS Bedrock's InvokeModel for Anthropic models, driven by boto3 (``invoke_model``,
``invoke_model_with_response_stream``) and by the anthropic package's ``AnthropicBedrock``."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import pytest
from botocore.exceptions import EventStreamError

from .bedrock import MODEL, bedrock, with_headers
from .schemas import WEATHER

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
TOOLS = [{"name": "get_weather", "description": "weather", "input_schema": WEATHER}]
FORCED = {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "get_weather"}}


def body(**extra: Any) -> str:
    return json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 300, "messages": USER, **extra})


def events(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(e["chunk"]["bytes"]) for e in response["body"]]


@pytest.fixture(scope="module")
def client(server):
    return bedrock(server.url)


@pytest.fixture(scope="module")
def claude(server):
    return anthropic.AnthropicBedrock(
        aws_region="us-east-1", aws_access_key="AKIDEXAMPLE", aws_secret_key="fake", base_url=server.url, max_retries=0
    )


def test_invoke_model(client):
    r = client.invoke_model(modelId=MODEL, body=body(system="Be brief."))
    assert r["contentType"] == "application/json"
    message = json.loads(r["body"].read())
    assert message["type"] == "message" and message["model"] == MODEL
    assert message["stop_reason"] == "end_turn" and message["content"][0]["text"]
    assert message["usage"]["input_tokens"] > 0 and message["usage"]["output_tokens"] > 0


def test_the_stream_is_anthropics_events_in_chunks(make_server):
    c = bedrock(make_server(synthetic={"default_response": "Same words either way.", "tool_call_probability": 0}).url)
    whole = json.loads(c.invoke_model(modelId=MODEL, body=body())["body"].read())
    got = events(c.invoke_model_with_response_stream(modelId=MODEL, body=body()))
    assert got[0]["type"] == "message_start" and [e["type"] for e in got[-2:]] == ["message_delta", "message_stop"]
    text = "".join(e["delta"]["text"] for e in got if e["type"] == "content_block_delta")
    assert text == whole["content"][0]["text"] == "Same words either way."
    metrics = got[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == whole["usage"]["output_tokens"] == got[-2]["usage"]["output_tokens"]


def test_a_forced_tool_call_validates_streamed(client):
    got = events(client.invoke_model_with_response_stream(modelId=MODEL, body=body(**FORCED)))
    args = "".join(e["delta"]["partial_json"] for e in got if e["type"] == "content_block_delta")
    jsonschema.validate(json.loads(args), WEATHER)
    assert got[-2]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_version_is_required(client):
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=MODEL, body=json.dumps({"max_tokens": 10, "messages": USER}))


def test_an_injected_429_is_a_throttling_exception_and_retried(server):
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-status": "429"})
    with pytest.raises(c.exceptions.ThrottlingException):
        c.invoke_model(modelId=MODEL, body=body())
    again = bedrock(server.url, attempts=2)
    seen = with_headers(again, {"x-llmreplay-status": "429"})
    r = again.invoke_model_with_response_stream(modelId=MODEL, body=body())
    assert seen == [0, 1] and events(r)[-1]["type"] == "message_stop"


def test_a_broken_stream_raises_a_model_stream_error(server):
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-fault": "stream-error@2"})
    with pytest.raises(EventStreamError) as caught:
        events(c.invoke_model_with_response_stream(modelId=MODEL, body=body()))
    assert caught.value.response["Error"]["Code"] == "modelStreamErrorException"


# ---- the anthropic package's AnthropicBedrock ----------------------------------------------------------


def test_anthropic_bedrock_create_and_stream(claude):
    m = claude.messages.create(model=MODEL, max_tokens=300, messages=USER)
    assert m.stop_reason == "end_turn" and m.content[0].text and m.usage.output_tokens > 0
    with claude.messages.stream(model=MODEL, max_tokens=300, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text and final.usage.output_tokens > 0


def test_anthropic_bedrock_tool_call_and_result(claude):
    m = claude.messages.create(model=MODEL, max_tokens=300, messages=USER, **FORCED)
    [use] = m.content
    assert use.type == "tool_use" and m.stop_reason == "tool_use"
    jsonschema.validate(use.input, WEATHER)
    result = {"type": "tool_result", "tool_use_id": use.id, "content": '{"temperature": 21}'}
    turns = [*USER, {"role": "assistant", "content": [use.model_dump()]}, {"role": "user", "content": [result]}]
    answer = claude.messages.create(model=MODEL, max_tokens=300, messages=turns, tools=TOOLS)
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"


@pytest.mark.parametrize(
    ("status", "error"), [("429", anthropic.RateLimitError), ("500", anthropic.InternalServerError)]
)
def test_anthropic_bedrock_raises_its_usual_errors(claude, status: str, error: type[Exception]):
    with pytest.raises(error):
        claude.messages.create(model=MODEL, max_tokens=10, messages=USER, extra_headers={"x-llmreplay-status": status})


def test_anthropic_bedrock_raises_on_a_broken_stream(claude):
    with (
        pytest.raises(anthropic.APIStatusError, match="modelStreamErrorException"),
        claude.messages.stream(
            model=MODEL, max_tokens=300, messages=USER, extra_headers={"x-llmreplay-fault": "stream-error@3"}
        ) as stream,
    ):
        for _ in stream.text_stream:
            pass
