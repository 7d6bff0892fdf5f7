"""A rule's answer, rendered by each API's codec: text, tool calls, JSON, thinking, refusal, usage,
placeholders; streamed and not. What a rule cannot do for a request is a 400, never a 500."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Finish, Opaque, Text, ToolCall
from tests.rules.helpers import PATHS, book, chat, exchange, user

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _request(api: str, text: str = "hello", stream: bool = False, tools: bool = False) -> dict:
    if api == "openai-chat":
        extra = (
            {"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]}
            if tools
            else {}
        )
        return chat(user(text), stream=stream, **extra)
    if api == "openai-responses":
        extra = {"tools": [{"type": "function", "name": "get_weather", "parameters": WEATHER}]} if tools else {}
        return {"model": "gpt-4o", "input": text, "stream": stream, **extra}
    if api == "anthropic-messages":
        extra = {"tools": [{"name": "get_weather", "input_schema": WEATHER}]} if tools else {}
        return {"model": "claude-x", "max_tokens": 100, "messages": [user(text)], "stream": stream, **extra}
    extra = {"tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": WEATHER}]}]} if tools else {}
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def _exchange(api: str, stream: bool = False, **kw):
    path = PATHS[api]
    if api == "gemini" and stream:
        path = path.replace(":generateContent", ":streamGenerateContent")
    return exchange(path, _request(api, stream=stream, **kw))


def _play(rule: dict, ex):
    hit = book({"name": "r", **rule}).match(ex)
    assert hit is not None
    hit.take()
    answer = asyncio.run(hit.play(ex))
    codec = ex.route.codec
    if answer.stream:
        return answer, codec.events_to_reply(codec.parse_events(answer.body))
    return answer, codec.body_to_reply(answer.body)


APIS = list(PATHS)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_text(api, stream):
    ex = _exchange(api, stream)
    answer, reply = _play({"reply": {"text": "Paris is sunny."}}, ex)
    assert answer.status == 200
    assert reply.candidates[0].text == "Paris is sunny."
    assert ex.source == "rule" and ex.answered_by == {"rule": "r", "step": 0}
    assert ex.reply is not None and ex.output_tokens == ex.reply.usage.output_tokens > 0
    assert ex.input_tokens == ex.reply.usage.input_tokens > 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_tool_call_fixed_and_generated(api, stream):
    ex = _exchange(api, stream, tools=True)
    rule = {"reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_weather"}]}}
    _, reply = _play(rule, ex)
    calls = reply.candidates[0].tool_calls
    assert [c.name for c in calls] == ["get_weather", "get_weather"]
    assert calls[0].input == {"city": "Paris"}
    jsonschema.validate(calls[1].input, WEATHER)
    assert ex.reply.candidates[0].finish is Finish.TOOL_CALLS


@pytest.mark.parametrize("api", APIS)
def test_generated_arguments_of_a_tool_not_offered_are_a_400(api):
    ex = _exchange(api)
    hit = book({"name": "r", "reply": {"tool_calls": [{"name": "get_weather"}]}}).match(ex)
    with pytest.raises(ApiError) as info:
        asyncio.run(hit.play(ex))
    assert info.value.kind is ErrorKind.INVALID_REQUEST and "get_weather" in info.value.message


def test_json_fixed_and_generated():
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": True}}
    ex = exchange(PATHS["openai-chat"], chat(user("count"), response_format=fmt))
    _, reply = _play({"reply": {"json": "generate"}}, ex)
    jsonschema.validate(json.loads(reply.candidates[0].text), schema)
    ex = exchange(PATHS["openai-chat"], chat(user("count")))
    _, reply = _play({"reply": {"json": {"n": 3, "echo": "{{last_user}}"}}}, ex)
    assert json.loads(reply.candidates[0].text) == {"n": 3, "echo": "count"}


def test_json_generated_from_the_prompts_schema():
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    system = {"role": "system", "content": f"Reply in JSON following this schema: {json.dumps(schema)}"}
    ex = exchange(PATHS["openai-chat"], chat(system, user("hi"), response_format={"type": "json_object"}))
    _, reply = _play({"reply": {"json": "generate"}}, ex)
    jsonschema.validate(json.loads(reply.candidates[0].text), schema)


def test_json_generate_without_a_schema_is_a_400():
    ex = exchange(PATHS["openai-chat"], chat(user("hi")))
    hit = book({"reply": {"json": "generate"}}).match(ex)
    with pytest.raises(ApiError) as info:
        asyncio.run(hit.play(ex))
    assert info.value.kind is ErrorKind.INVALID_REQUEST


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("api", APIS)
def test_refusal(api, stream):
    ex = _exchange(api, stream)
    answer, reply = _play({"reply": {"refusal": "I can't help with that."}}, ex)
    body = answer.body.decode()
    cand = reply.candidates[0]
    if api in ("openai-chat", "openai-responses"):
        assert any(isinstance(p, Opaque) and "I can't help" in json.dumps(p.data) for p in cand.parts)
        assert '"refusal"' in body
    else:
        assert cand.text == "I can't help with that."
    if api == "openai-chat" and not stream:
        choice = json.loads(body)["choices"][0]
        assert choice["finish_reason"] == "stop" and choice["message"]["content"] is None
    if api == "anthropic-messages":
        assert '"stop_reason": "refusal"' in body or '"stop_reason":"refusal"' in body
    if api == "gemini":
        assert "SAFETY" in body


@pytest.mark.parametrize("api", APIS)
def test_thinking_then_text(api):
    ex = _exchange(api)
    _, reply = _play({"reply": {"thinking": "Let me think.", "text": "Done."}}, ex)
    assert reply.candidates[0].text == "Done."
    assert ex.reply.usage.reasoning_tokens > 0


def test_usage_override_and_finish():
    ex = exchange(PATHS["openai-chat"], chat(user("hi")))
    answer, _ = _play(
        {"reply": {"text": "cut", "finish": "length", "usage": {"input_tokens": 10, "output_tokens": 3}}}, ex
    )
    body = json.loads(answer.body)
    assert body["usage"]["prompt_tokens"] == 10 and body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["finish_reason"] == "length"
    assert (ex.input_tokens, ex.output_tokens) == (10, 3)


def test_placeholders_echo_the_request():
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    ex = exchange(
        PATHS["openai-chat"],
        chat(
            {"role": "system", "content": "sys"},
            user("weather in Paris?"),
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "sunny", "c": 21}'},
            metadata={"who": "me"},
        ),
        headers={"x-test": "T"},
    )
    text = (
        "{{last_user}}|{{system}}|{{model}}|{{turn}}|{{tool_result.get_weather.sky}}|{{tool_result.get_weather.c}}|"
        "{{ header.x-test }}|{{body.metadata.who}}|{{tool_result.none}}|{{tool_result}}"
    )
    _, reply = _play({"reply": {"text": text}}, ex)
    assert reply.candidates[0].text == 'weather in Paris?|sys|gpt-4o-mini|1|sunny|21|T|me||{"sky": "sunny", "c": 21}'


def test_ids_come_from_the_exchanges_generator():
    a = exchange(PATHS["openai-chat"], chat(user("hi")), seed=7)
    b = exchange(PATHS["openai-chat"], chat(user("hi")), seed=7)
    assert _play({"reply": {"text": "x"}}, a)[0].body == _play({"reply": {"text": "x"}}, b)[0].body


def test_n_candidates_all_say_it():
    ex = exchange(PATHS["openai-chat"], chat(user("hi"), n=2))
    answer, _ = _play({"reply": {"text": "same"}}, ex)
    assert [c["message"]["content"] for c in json.loads(answer.body)["choices"]] == ["same", "same"]


def test_raw_json_body_for_a_call_no_codec_reads():
    ex = exchange("/v1/embeddings", {"model": "m", "input": "x"})
    hit = book({"match": {"endpoint": "embeddings"}, "reply": {"json": {"data": []}}}).match(ex)
    answer = asyncio.run(hit.play(ex))
    assert answer.status == 200 and json.loads(answer.body) == {"data": []}


def test_chunk_size_of_the_rule_applies_to_the_rendering():
    ex = _exchange("openai-chat", True)
    answer, _ = _play({"reply": {"text": "abcdefghij", "latency": {"chunk_size": 2}}}, ex)
    assert ex.opts.chunk_size == 2
    assert sum(1 for f in answer.frames if b'"content":"' in f.data.replace(b" ", b"")) >= 5


def test_recorded_parts_stay_neutral():
    ex = exchange(PATHS["openai-chat"], chat(user("hi")))
    _play({"reply": {"text": "a", "tool_calls": [{"name": "f", "arguments": {}}]}}, ex)
    parts = ex.reply.candidates[0].parts
    assert isinstance(parts[0], Text) and isinstance(parts[1], ToolCall)
