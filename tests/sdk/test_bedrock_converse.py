"""AWS Bedrock's Converse API (``converse``, ``converse_stream``), driven by boto3's bedrock-runtime client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError, EventStreamError

from .bedrock import MODEL, bedrock, with_headers
from .schemas import WEATHER

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": [{"text": "Hello there"}]}]
WEATHER_TOOL = {"toolSpec": {"name": "get_weather", "description": "weather", "inputSchema": {"json": WEATHER}}}
FORCED = {"tools": [WEATHER_TOOL], "toolChoice": {"tool": {"name": "get_weather"}}}


@pytest.fixture(scope="module")
def client(server):
    return bedrock(server.url)


def test_converse(client):
    r = client.converse(
        modelId=MODEL, messages=USER, system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 200}
    )
    message = r["output"]["message"]
    assert message["role"] == "assistant" and message["content"][0]["text"]
    assert r["stopReason"] == "end_turn"
    u = r["usage"]
    assert u["inputTokens"] > 0 and u["outputTokens"] > 0 and u["totalTokens"] == u["inputTokens"] + u["outputTokens"]
    assert "latencyMs" in r["metrics"]
    assert r["ResponseMetadata"]["RequestId"]


def test_converse_stream_tells_the_same_answer(make_server):
    c = bedrock(make_server(synthetic={"default_response": "Same words either way.", "tool_call_probability": 0}).url)
    whole = c.converse(modelId=MODEL, messages=USER)
    events = list(c.converse_stream(modelId=MODEL, messages=USER)["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == whole["output"]["message"]["content"][0]["text"] == "Same words either way."
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"] == whole["usage"]


def _streamed_tool_input(events: list[dict[str, Any]]) -> tuple[str, str]:
    [start] = [e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e]
    pieces = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e]
    return start["name"], "".join(pieces)


@pytest.mark.parametrize("stream", [False, True])
def test_a_forced_tool_call_validates(client, stream):
    import json

    if stream:
        events = list(client.converse_stream(modelId=MODEL, messages=USER, toolConfig=FORCED)["stream"])
        name, args = _streamed_tool_input(events)
        arguments = json.loads(args)
        assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    else:
        r = client.converse(modelId=MODEL, messages=USER, toolConfig=FORCED)
        [block] = r["output"]["message"]["content"]
        name, arguments = block["toolUse"]["name"], block["toolUse"]["input"]
        assert block["toolUse"]["toolUseId"].startswith("tooluse_")
        assert r["stopReason"] == "tool_use"
    assert name == "get_weather"
    jsonschema.validate(arguments, WEATHER)


def test_a_tool_result_turn_is_answered_in_text(client):
    call = client.converse(modelId=MODEL, messages=USER, toolConfig=FORCED)["output"]["message"]
    use = call["content"][0]["toolUse"]
    result = {"toolResult": {"toolUseId": use["toolUseId"], "content": [{"json": {"temperature": 21}}]}}
    messages = [*USER, call, {"role": "user", "content": [result]}]
    r = client.converse(modelId=MODEL, messages=messages, toolConfig={"tools": [WEATHER_TOOL]})
    assert r["stopReason"] == "end_turn"
    assert r["output"]["message"]["content"][0]["text"]


def test_a_bad_request_is_a_validation_exception(client):
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=MODEL, messages=[{"role": "robot", "content": [{"text": "hi"}]}])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("status", "code", "call"),
    [
        ("429", "ThrottlingException", lambda c: c.converse(modelId=MODEL, messages=USER)),
        ("500", "InternalServerException", lambda c: c.converse(modelId=MODEL, messages=USER)),
        ("429", "ThrottlingException", lambda c: c.converse_stream(modelId=MODEL, messages=USER)),
    ],
)
def test_an_injected_error_is_raised_as_its_exception(server, status: str, code: str, call: Callable[[Any], Any]):
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-status": status})
    with pytest.raises(getattr(c.exceptions, code)) as caught:
        call(c)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == int(status)


def test_a_throttled_call_is_retried_when_the_retry_config_allows(server):
    c = bedrock(server.url, attempts=2)
    seen = with_headers(c, {"x-llmreplay-status": "429"})
    r = c.converse(modelId=MODEL, messages=USER)
    assert seen == [0, 1] and r["ResponseMetadata"]["RetryAttempts"] == 1
    assert r["output"]["message"]["content"][0]["text"]


def test_a_stream_broken_mid_way_raises_a_model_stream_error(server):
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-fault": "stream-error@3"})
    got: list[dict[str, Any]] = []
    with pytest.raises(EventStreamError) as caught:
        for event in c.converse_stream(modelId=MODEL, messages=USER)["stream"]:
            got.append(event)
    assert got[0] == {"messageStart": {"role": "assistant"}} and len(got) == 3
    assert caught.value.response["Error"]["Code"] == "modelStreamErrorException"


def test_a_malformed_chunk_is_a_bad_event_in_a_whole_frame(server):
    # malformed@N cuts the JSON, never the binary framing: botocore finds no CRC mismatch and reads on.
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-fault": "malformed@2"})
    events = list(c.converse_stream(modelId=MODEL, messages=USER)["stream"])
    assert {"contentBlockDelta": {}} in events and next(iter(events[-1])) == "metadata"


@pytest.mark.parametrize("stream", [False, True])
def test_structured_output_follows_the_schema(client, stream):
    import json

    fmt = {"type": "json_schema", "structure": {"jsonSchema": {"schema": json.dumps(WEATHER), "name": "weather"}}}
    if stream:
        events = client.converse_stream(modelId=MODEL, messages=USER, outputConfig={"textFormat": fmt})["stream"]
        text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    else:
        r = client.converse(modelId=MODEL, messages=USER, outputConfig={"textFormat": fmt})
        text = r["output"]["message"]["content"][0]["text"]
    jsonschema.validate(json.loads(text), WEATHER)


def test_per_key_quotas_count_by_the_access_key_a_signature_names(make_server):
    # A SigV4 signature changes with every request; the access key id in it is the caller's key.
    srv = make_server(rate_limit={"enabled": True, "mode": "after-n", "after_n": 2, "per_key": True})
    first = bedrock(srv.url)
    first.converse(modelId=MODEL, messages=USER)
    first.converse(modelId=MODEL, messages=USER)
    with pytest.raises(first.exceptions.ThrottlingException):
        first.converse(modelId=MODEL, messages=USER)
    other = boto3.client(
        "bedrock-runtime",
        endpoint_url=srv.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDOTHER",
        aws_secret_access_key="fake",
    )
    assert other.converse(modelId=MODEL, messages=USER)["output"]["message"]["content"]
