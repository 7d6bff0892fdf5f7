"""Anthropic Messages requests: every field and block form parsed, bad input named by field."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from llmreplay.config import SyntheticSettings
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Request, ToolChoice
from llmreplay.providers.anthropic_messages import CODEC, count_tokens
from llmreplay.providers.anthropic_request import parse_count_tokens
from llmreplay.providers.base import RenderOptions
from llmreplay.synth.tokens import prompt_tokens

OPTS = RenderOptions(request_id="0123456789abcdef0123456789abcdef")
USER = [{"role": "user", "content": "Hello there"}]


def call(body: Any, path: str = "/v1/messages") -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", path, headers={"anthropic-version": "2023-06-01"}, body=raw)


def parse(**body: Any) -> Request:
    return CODEC.parse_request(call({"model": "claude-x", "max_tokens": 100, "messages": USER, **body}))


# ---- parsing --------------------------------------------------------------------------------


def test_parse_basic_fields():
    req = parse(
        system=[{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind.", "cache_control": {}}],
        stop_sequences=["END"],
        temperature=0.5,
        metadata={"user_id": "u"},
        unknown_field={"kept": True},
    )
    assert (req.api, req.endpoint, req.model, req.max_tokens, req.stop) == (
        "anthropic-messages",
        "messages",
        "claude-x",
        100,
        ("END",),
    )
    assert req.system == "Be brief.\nBe kind." and req.messages[0].role == "user" and not req.stream
    assert req.body["unknown_field"] == {"kept": True}


def test_parse_blocks_give_text_for_token_counts():
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image", "source": {"x": 1}}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "redacted_thinking", "data": "xx"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"q": "x"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "Sunny"}]},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Doc body"}},
            ],
        },
    ]
    req = parse(messages=messages)
    assert req.messages[0].text == "Weather?"
    assert "hmm" in req.messages[1].text and "Paris" in req.messages[1].text
    assert req.messages[2].text == "Sunny\nDoc body"


def test_parse_tools_choice_thinking_and_output():
    tools = [
        {"name": "get_weather", "description": "w", "input_schema": {"type": "object", "properties": {}}},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"type": "custom", "name": "other", "input_schema": {"type": "object"}},
    ]
    req = parse(tools=tools, tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True})
    assert [t.name for t in req.tools] == ["get_weather", "other"]
    assert req.tool_choice == ToolChoice("required", ("get_weather",)) and not req.parallel_tool_calls
    assert parse(tool_choice={"type": "any"}).tool_choice.mode == "required"
    assert parse(tool_choice={"type": "none"}).tool_choice.mode == "none"
    assert parse(tool_choice={"type": "auto"}).parallel_tool_calls
    assert parse(thinking={"type": "enabled", "budget_tokens": 1024}).thinking
    assert parse(thinking={"type": "adaptive"}).thinking
    assert not parse(thinking={"type": "disabled"}).thinking
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = parse(output_config={"format": {"type": "json_schema", "schema": schema}}).output
    assert out.kind == "json_schema" and out.schema == schema
    assert parse(output_config={"effort": "high"}).output.kind == "text"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"model": "c", "messages": USER}, "max_tokens", "max_tokens: Field required"),
        ({"model": "c", "max_tokens": 0, "messages": USER}, "max_tokens", "greater than or equal to 1"),
        ({"model": "c", "max_tokens": "many", "messages": USER}, "max_tokens", "valid integer"),
        ({"max_tokens": 5, "messages": USER}, "model", "model: Field required"),
        ({"model": "c", "max_tokens": 5}, "messages", "messages: Field required"),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "robot", "content": "x"}]}, "messages.0.role", "'user'"),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": 5}]}, "messages.0.content", ""),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]}, None, ""),
        ({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": [{"text": "x"}]}]}, None, ""),
        ({"model": "c", "max_tokens": 5, "messages": USER, "temperature": 3}, "temperature", ""),
        ({"model": "c", "max_tokens": 5, "messages": USER, "tool_choice": {"type": "tool"}}, "tool_choice.name", ""),
        ({"model": "c", "max_tokens": 5, "messages": USER, "tool_choice": {"type": "maybe"}}, "tool_choice.type", ""),
        ({"model": "c", "max_tokens": 5, "messages": USER, "tools": [{"name": "x"}]}, "tools.0.input_schema", ""),
        ({"model": "c", "max_tokens": 5, "messages": USER, "thinking": {"type": "enabled"}}, None, "budget_tokens"),
        ({"model": "c", "max_tokens": 5, "messages": USER, "system": [{"type": "text"}]}, "system.0.text", ""),
    ],
)
def test_bad_requests_name_the_field(body, param, words):
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call(body))
    err = info.value
    assert err.kind is ErrorKind.INVALID_REQUEST and err.http_status == 400
    if param is not None:
        assert err.param == param and err.message.startswith(f"{param}: ")
    assert words in err.message


def test_block_errors_point_into_the_content():
    bad = [{"role": "user", "content": [{"type": "text", "text": "ok"}, {"type": "tool_use", "name": "x"}]}]
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call({"model": "c", "max_tokens": 5, "messages": bad}))
    assert info.value.param == "messages.0.content.1.id"
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call({"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": [{}]}]}))
    assert info.value.param == "messages.0.content.0.type"


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]"])
def test_body_must_be_a_json_object(raw):
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call(raw))
    assert info.value.kind is ErrorKind.INVALID_REQUEST


def test_count_tokens_parse_needs_no_max_tokens():
    req = parse_count_tokens(call({"model": "c", "messages": USER}, "/v1/messages/count_tokens"))
    assert req.max_tokens is None and not req.stream
    with pytest.raises(ApiError):
        parse_count_tokens(call({"model": "c"}, "/v1/messages/count_tokens"))


def test_count_tokens_equals_generation_usage():
    body = {
        "model": "c",
        "messages": USER,
        "system": "Be brief.",
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object", "properties": {}}}],
    }
    answer = count_tokens(call(body, "/v1/messages/count_tokens"), OPTS)
    counted = json.loads(answer.body)["input_tokens"]
    req = CODEC.parse_request(call({**body, "max_tokens": 50}))
    pytest.importorskip("llmreplay.synth.faker")  # the synthetic source needs it
    from llmreplay.sources.synthetic import SyntheticSource

    generated = SyntheticSource(SyntheticSettings(), clock=lambda: 0).reply(req, random.Random(1))
    assert counted == prompt_tokens(req) == generated.usage.input_tokens > 0
    assert answer.status == 200 and dict(answer.headers)["request-id"].startswith("req_011C")
