"""The OpenAI Chat Completions codec: requests, bodies, chunk streams, real recordings, SDK types."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Finish, Opaque, Reply, Request, Text, ToolCall, Usage
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_chat import CODEC, ROUTES
from tests.real_fixtures import REAL

FIXTURES = sorted((REAL / "openai-chat").glob("*.json"))
OPTS = RenderOptions(chunk_size=5, request_id="ab" * 16, seed=3)
USER = [{"role": "user", "content": "Hi"}]


def call(body: Any) -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", "/v1/chat/completions", body=raw)


def parse(**fields: Any) -> Request:
    return CODEC.parse_request(call({"model": "gpt-4o", "messages": USER, **fields}))


USAGE = Usage(10, 6)


def reply(*cands: Candidate, usage: Usage = USAGE) -> Reply:
    return Reply("abc123", "gpt-4o-2024-08-06", 1700000000, cands, usage, "fp_test")


def request(**kw: Any) -> Request:
    return Request("openai-chat", "chat-completions", "gpt-4o", **kw)


def chunks(body: bytes) -> list[dict[str, Any]]:
    return [e.data for e in CODEC.parse_events(body) if e.type == "chunk"]


# ---- routes ------------------------------------------------------------------------------


def test_route_and_codec_names() -> None:
    assert CODEC.api == "openai-chat" and CODEC.endpoint == "chat-completions"
    (route,) = ROUTES
    assert (route.method, route.path, route.endpoint, route.codec, route.op) == (
        "POST",
        "/v1/chat/completions",
        "chat-completions",
        CODEC,
        None,
    )


# ---- requests ---------------------------------------------------------------------------------


def test_every_role_and_content_part() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "No jokes."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-1"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        {"role": "function", "name": "f", "content": "43"},
    ]
    r = parse(messages=messages)
    assert r.system == "Be brief.\nNo jokes."
    assert [m.role for m in r.messages] == ["user", "assistant", "assistant", "tool", "tool"]
    assert r.messages[0].text == "Look"
    assert json.loads(r.messages[1].text) == {"name": "f", "arguments": "{}"}
    assert [m.text for m in r.messages[2:]] == ["No.", "42", "43"]
    assert r.api == "openai-chat" and r.endpoint == "chat-completions" and r.thinking is False


def test_tools_and_choices() -> None:
    params = {"type": "object", "properties": {"x": {"type": "integer"}}}
    tools = [{"type": "function", "function": {"name": "f", "description": "d", "parameters": params}}]
    r = parse(tools=tools, tool_choice={"type": "function", "function": {"name": "f"}}, parallel_tool_calls=False)
    assert r.tools[0].name == "f" and r.tools[0].description == "d" and r.tools[0].schema == params
    assert r.tool_choice.mode == "required" and r.tool_choice.names == ("f",)
    assert r.parallel_tool_calls is False
    for mode in ("auto", "none", "required"):
        assert parse(tools=tools, tool_choice=mode).tool_choice.mode == mode
    legacy = parse(functions=[{"name": "g"}], function_call={"name": "g"})
    assert legacy.tools[0].name == "g" and legacy.tools[0].schema["type"] == "object"
    assert legacy.tool_choice.names == ("g",)


def test_response_formats() -> None:
    assert parse(response_format={"type": "text"}).output.kind == "text"
    assert parse(response_format={"type": "json_object"}).output.kind == "json"
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "A", "schema": schema, "strict": True}}
    out = parse(response_format=fmt).output
    assert (out.kind, out.schema, out.name) == ("json_schema", schema, "A")


def test_options() -> None:
    assert parse(max_tokens=5).max_tokens == 5
    assert parse(max_completion_tokens=7, max_tokens=5).max_tokens == 7
    assert parse(stop="X").stop == ("X",) and parse(stop=["A", "B"]).stop == ("A", "B")
    r = parse(n=3, stream=True, stream_options={"include_usage": True}, logprobs=True, top_logprobs=2, seed=9)
    assert (r.n, r.stream, r.include_usage, r.logprobs, r.top_logprobs, r.seed) == (3, True, True, True, 2, 9)
    assert parse(stream_options={"include_usage": True}).include_usage is False
    assert parse(reasoning_effort="high").thinking is False
    assert parse().body["model"] == "gpt-4o"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": USER}, "model"),
        ({"model": "gpt-4o"}, "messages"),
        ({"model": 5, "messages": USER}, "model"),
        ({"model": "m", "messages": "hi"}, "messages"),
        ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        ({"model": "m", "messages": USER, "n": "many"}, "n"),
        ({"model": "m", "messages": USER, "tool_choice": "sometimes"}, "tool_choice"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages.0.content.0.text"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages.0.tool_call_id"),
        ({"model": "m", "messages": USER, "response_format": {"type": "json_schema"}}, "response_format.json_schema"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call(body))
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.param == param
    assert param in info.value.message
    answer = CODEC.render_error(info.value, OPTS)
    err = json.loads(answer.body)["error"]
    assert answer.status == 400 and err["type"] == "invalid_request_error" and err["param"] == param


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1]"])
def test_non_object_bodies(raw: bytes) -> None:
    with pytest.raises(ApiError) as info:
        CODEC.parse_request(call(raw))
    assert info.value.kind is ErrorKind.INVALID_REQUEST


# ---- non-stream body -------------------------------------------------------------------------


def test_text_body_shape() -> None:
    answer = CODEC.render(reply(Candidate((Text("Hello world, friend"),))), request(), OPTS)
    assert dict(answer.headers)["content-type"] == "application/json"
    assert dict(answer.headers)["x-request-id"] == "req_" + "ab" * 16
    assert answer.steps == 4 and not answer.stream
    body = json.loads(answer.body)
    assert list(body) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    assert body["id"] == "chatcmpl-abc123" and body["object"] == "chat.completion"
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello world, friend", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 6,
        "total_tokens": 16,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    assert body["service_tier"] == "default" and body["system_fingerprint"] == "fp_test"
    ChatCompletion.model_validate(body)


def test_tool_call_body_has_null_content() -> None:
    cand = Candidate((ToolCall("x1", "f", '{"a":1}'),), Finish.TOOL_CALLS)
    msg = json.loads(CODEC.render(reply(cand), request(), OPTS).body)["choices"][0]
    assert msg["finish_reason"] == "tool_calls"
    assert msg["message"]["content"] is None
    assert msg["message"]["tool_calls"] == [
        {"id": "call_x1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    ]


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        (Finish.STOP, "stop"),
        (Finish.STOP_SEQUENCE, "stop"),
        (Finish.LENGTH, "length"),
        (Finish.TOOL_CALLS, "tool_calls"),
        (Finish.CONTENT_FILTER, "content_filter"),
    ],
)
def test_finish_reasons(finish: Finish, reason: str) -> None:
    body = json.loads(CODEC.render(reply(Candidate((Text("x"),), finish)), request(), OPTS).body)
    assert body["choices"][0]["finish_reason"] == reason


def test_n_choices_and_logprobs() -> None:
    r = reply(Candidate((Text("one two three"),)), Candidate((Text("four"),), Finish.LENGTH))
    body = json.loads(CODEC.render(r, request(n=2, logprobs=True, top_logprobs=2), OPTS).body)
    assert [c["index"] for c in body["choices"]] == [0, 1]
    lp = body["choices"][0]["logprobs"]
    assert lp["refusal"] is None
    assert "".join(t["token"] for t in lp["content"]) == "one two three"
    for t in lp["content"]:
        assert t["logprob"] <= 0 and len(t["top_logprobs"]) == 2 and bytes(t["bytes"]) == t["token"].encode()
    parsed = ChatCompletion.model_validate(body)
    assert parsed.choices[1].finish_reason == "length"


def test_refusal_round_trips() -> None:
    cand = Candidate((Opaque("refusal", {"refusal": "I can't."}),), Finish.CONTENT_FILTER)
    body = json.loads(CODEC.render(reply(cand), request(), OPTS).body)
    assert body["choices"][0]["message"]["content"] is None
    assert body["choices"][0]["message"]["refusal"] == "I can't."
    back = CODEC.body_to_reply(json.dumps(body).encode())
    assert back.candidates[0].parts == cand.parts and back.candidates[0].finish is Finish.CONTENT_FILTER


def test_body_to_reply_inverts_render() -> None:
    r = reply(Candidate((Text("hi"), ToolCall("call_x", "f", "{}")), Finish.TOOL_CALLS))
    back = CODEC.body_to_reply(CODEC.render(r, request(), OPTS).body)
    assert back.id == "chatcmpl-abc123" and back.model == r.model and back.created == r.created
    assert back.candidates[0].parts == r.candidates[0].parts and back.candidates[0].finish is Finish.TOOL_CALLS
    assert back.usage == r.usage and back.fingerprint == "fp_test"


# ---- stream -------------------------------------------------------------------------------------


def test_text_stream_sequence() -> None:
    r = reply(Candidate((Text("Hello world, friend"),)))
    answer = CODEC.render(r, request(stream=True, include_usage=True), OPTS)
    assert answer.stream and dict(answer.headers)["content-type"] == "text/event-stream; charset=utf-8"
    assert answer.body.endswith(b"data: [DONE]\n\n")
    assert all(f.data.startswith(b"data: ") and f.data.endswith(b"\n\n") for f in answer.frames)
    cs = chunks(answer.body)
    assert cs[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert [c["choices"][0]["delta"].get("content") for c in cs[1:5]] == ["Hello", " worl", "d, fr", "iend"]
    assert cs[5]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert cs[6]["choices"] == [] and cs[6]["usage"]["total_tokens"] == 16
    assert all(c["usage"] is None for c in cs[:6])
    assert all(c["id"] == "chatcmpl-abc123" and c["object"] == "chat.completion.chunk" for c in cs)
    assert [f.paced for f in answer.frames] == [False, True, True, True, True, False, False, False]
    for c in cs:
        ChatCompletionChunk.model_validate(c)


def test_stream_without_usage_has_no_usage_key() -> None:
    cs = chunks(CODEC.render(reply(Candidate((Text("hi"),))), request(stream=True), OPTS).body)
    assert all("usage" not in c for c in cs) and all(c["choices"] for c in cs)


def test_tool_call_stream() -> None:
    cand = Candidate((ToolCall("a", "f", '{"city":"Paris"}'), ToolCall("b", "g", "{}")), Finish.TOOL_CALLS)
    answer = CODEC.render(reply(cand), request(stream=True), OPTS)
    deltas = [c["choices"][0]["delta"] for c in chunks(answer.body)]
    assert deltas[0] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}}],
        "refusal": None,
    }
    args = [d["tool_calls"][0]["function"]["arguments"] for d in deltas[1:5]]
    assert "".join(args) == '{"city":"Paris"}' and all(
        set(d["tool_calls"][0]) == {"index", "function"} for d in deltas[1:5]
    )
    assert deltas[5]["tool_calls"][0]["id"] == "call_b" and deltas[5]["tool_calls"][0]["index"] == 1
    assert deltas[6] == {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}
    assert deltas[7] == {}
    assert sum(f.paced for f in answer.frames) == CODEC.render(reply(cand), request(), OPTS).steps


def test_stream_accumulates_with_sdk_state() -> None:
    from openai.lib.streaming.chat import ChatCompletionStreamState

    r = reply(
        Candidate((Text("Sure, calling now."), ToolCall("a", "f", '{"x": 1}')), Finish.TOOL_CALLS),
        Candidate((Text("Other choice here."),)),
    )
    req = request(stream=True, include_usage=True, logprobs=True, top_logprobs=1, n=2)
    answer = CODEC.render(r, req, OPTS)
    state = ChatCompletionStreamState()
    for c in chunks(answer.body):
        state.handle_chunk(ChatCompletionChunk.model_validate(c))
    final = state.get_final_completion()
    assert [c.index for c in final.choices] == [0, 1]
    assert final.choices[0].message.content == "Sure, calling now."
    assert final.choices[0].message.role == "assistant"
    (tc,) = final.choices[0].message.tool_calls or []
    assert (tc.id, tc.function.name, tc.function.arguments) == ("call_a", "f", '{"x": 1}')
    assert final.choices[1].message.content == "Other choice here." and final.choices[1].finish_reason == "stop"
    assert final.usage is not None and final.usage.total_tokens == 16
    # The stream's logprobs are the body's logprobs.
    body = ChatCompletion.model_validate_json(CODEC.render(r, dataclasses.replace(req, stream=False), OPTS).body)
    for a, b in zip(final.choices, body.choices, strict=True):
        assert a.logprobs is not None and b.logprobs is not None
        assert a.logprobs.content == b.logprobs.content


def test_events_round_trip_rendered_stream() -> None:
    r = reply(Candidate((Text("abc def"), ToolCall("call_q", "f", "{}")), Finish.TOOL_CALLS))
    body = CODEC.render(r, request(stream=True, include_usage=True), OPTS).body
    events = CODEC.parse_events(body)
    assert CODEC.encode_events(events) == body and events[-1].type == "done"
    back = CODEC.events_to_reply(events)
    assert back.candidates[0].parts == r.candidates[0].parts and back.usage == r.usage
    assert back.id == "chatcmpl-abc123" and back.fingerprint == "fp_test" and back.created == r.created


def test_in_stream_error() -> None:
    data = CODEC.in_stream_error(ApiError(ErrorKind.SERVER, "boom"), OPTS)
    assert data is not None and data.startswith(b"data: ") and data.endswith(b"\n\n")
    assert json.loads(data[6:])["error"] == {"message": "boom", "type": "server_error", "param": None, "code": None}
    (ev,) = CODEC.parse_events(data)
    assert ev.type == "error"


# ---- real recordings -----------------------------------------------------------------------------


def _fixture(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_request_parses(path: Path) -> None:
    rec = _fixture(path)
    req = CODEC.parse_request(call(rec["request"]["body"]))
    assert req.model == rec["request"]["body"]["model"]
    assert req.stream == bool(rec["request"]["body"].get("stream"))


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_response(path: Path) -> None:
    rec = _fixture(path)
    resp = rec["response"]
    body = resp["body_text"].encode()
    if resp["status"] != 200:
        err = json.loads(body)["error"]
        assert err["type"] and err["message"]
        with pytest.raises(ValueError):
            CODEC.body_to_reply(body)
        return
    if rec["stream"]:
        events = CODEC.parse_events(body)
        assert CODEC.encode_events(events) == body
        again = CODEC.parse_events(CODEC.encode_events(events))
        assert [e.type for e in again] == [e.type for e in events]
        assert events[-1].type == "done" and {e.type for e in events[:-1]} == {"chunk"}
        r = CODEC.events_to_reply(events)
        assert r.candidates and r.usage.output_tokens > 0
        return
    if not _is_json(resp["body_text"]):
        # One cassette stored a gzip body as text; nothing can be read from it.
        assert path.stem == "test_tool_use_chain_of_two_calls.0"
        return
    r = CODEC.body_to_reply(body)
    obj = json.loads(body)
    assert r.model == obj["model"] and len(r.candidates) == len(obj["choices"])
    assert r.usage.input_tokens == obj["usage"]["prompt_tokens"]
    ChatCompletion.model_validate(
        CODEC.render(r, request(), OPTS).body and json.loads(CODEC.render(r, request(), OPTS).body)
    )


def test_real_stream_reply_renders_back_for_the_sdk() -> None:
    from openai.lib.streaming.chat import ChatCompletionStreamState

    rec = _fixture(REAL / "openai-chat/test_run_stream_sync_streams_real_model.0.json")
    original = CODEC.events_to_reply(CODEC.parse_events(rec["response"]["body_text"].encode()))
    body = CODEC.render(original, request(stream=True, include_usage=True), OPTS).body
    state = ChatCompletionStreamState()
    for c in chunks(body):
        state.handle_chunk(ChatCompletionChunk.model_validate(c))
    (tc,) = state.get_final_completion().choices[0].message.tool_calls or []
    assert tc.id == "call_ZR5UUuTt3pf61kjwAJIYdVMj" and json.loads(tc.function.arguments) == {"country": "UK"}
