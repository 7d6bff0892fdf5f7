"""OpenAI Responses codec: request parsing, rendering, recorded streams, and the SDK on top."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pydantic
import pytest
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import Response, ResponseStreamEvent

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Finish, Opaque, Reply, Request, Text, Thinking, ToolCall, Usage
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_responses import CODEC, ROUTES
from tests.real_fixtures import REAL

FIXTURES = REAL / "openai-responses"
RECORDINGS = sorted(FIXTURES.glob("*.json"))
OPTS = RenderOptions(chunk_size=7, request_id="0123456789abcdef0123456789abcdef", seed=3)
EVENT = pydantic.TypeAdapter(ResponseStreamEvent)
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True,
    }
]


def call(body: Any) -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", "/v1/responses", body=raw)


def parse(**body: Any) -> Request:
    return CODEC.parse_request(call({"model": "gpt-x", "input": "Hello there", **body}))


def reply(*parts: Any, finish: Finish = Finish.STOP, out: int = 9, reasoning: int = 0) -> Reply:
    cand = Candidate(tuple(parts), finish, None, out)
    return Reply("0abc1234def5678", "gpt-x", 1_700_000_000, (cand,), Usage(21, out, reasoning))


TEXT = reply(Text("Hello there, my friend. How are you today?"))
TOOL = reply(Text("Let me check."), ToolCall("0123", "get_weather", '{"city": "Paris"}'), finish=Finish.TOOL_CALLS)
THINK = reply(Thinking("First, the question.", "gAAAAABsig"), Text("It is 42."), reasoning=4)
CUT = reply(Text("This answer stops in the mid"), finish=Finish.LENGTH)


def recording(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def readable(rec: dict[str, Any]) -> bool:
    """Some recorders stored gzip bytes as text; those bodies are lost."""
    return "content-encoding" not in {k.lower() for k in rec["response"]["headers"]}


# ---- recordings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_recorded_request_parses(path: Path) -> None:
    rec = recording(path)
    c = call(rec["request"]["body"])
    if rec["response"]["status"] == 200:
        req = CODEC.parse_request(c)
        assert req.api == "openai-responses" and req.model == rec["request"]["body"]["model"]
        assert req.stream == bool(rec["request"]["body"].get("stream"))
    elif path.stem == "test_openai_responses_model_http_error.0":
        with pytest.raises(ApiError) as exc:
            CODEC.parse_request(c)
        assert exc.value.param == "temperature"


@pytest.mark.parametrize("path", [p for p in RECORDINGS if recording(p)["stream"]], ids=lambda p: p.stem)
def test_recorded_stream_round_trips(path: Path) -> None:
    rec = recording(path)
    if rec["response"]["status"] != 200:
        pytest.skip("error answer, not a stream")
    body = rec["response"]["body_text"].encode()
    events = CODEC.parse_events(body)
    assert CODEC.encode_events(events) == body
    types = [e.type for e in events]
    lines = [line[len("event: ") :] for line in rec["response"]["body_text"].splitlines() if line.startswith("event: ")]
    assert types == lines
    if "sequence_number" in events[0].data:  # older recordings predate it
        assert [e.data["sequence_number"] for e in events] == list(range(len(events)))
    rep = CODEC.events_to_reply(events)
    final = events[-1].data["response"]
    texts = [c["text"] for i in final["output"] if i["type"] == "message" for c in i["content"] if "text" in c]
    assert rep.candidates[0].text == "".join(texts)
    assert rep.usage.output_tokens == final["usage"]["output_tokens"]


@pytest.mark.parametrize(
    "path", [p for p in RECORDINGS if not recording(p)["stream"] and recording(p)["response"]["status"] == 200]
)
def test_recorded_body_to_reply(path: Path) -> None:
    rec = recording(path)
    if not readable(rec):
        pytest.skip("body stored as mangled gzip")
    resp = json.loads(rec["response"]["body_text"])
    rep = CODEC.body_to_reply(rec["response"]["body_text"].encode())
    assert rep.id == resp["id"] and rep.usage.input_tokens == (resp["usage"] or {}).get("input_tokens", 0)
    calls = [i for i in resp["output"] if i["type"] == "function_call"]
    assert [c.name for c in rep.candidates[0].tool_calls] == [c["name"] for c in calls]
    if calls:
        assert rep.candidates[0].finish == Finish.TOOL_CALLS


def test_recorded_reply_renders_back() -> None:
    """A recorded body's Reply renders as a body the SDK accepts, server-tool items included."""
    for path in RECORDINGS:
        rec = recording(path)
        if rec["stream"] or rec["response"]["status"] != 200 or not readable(rec):
            continue
        rep = CODEC.body_to_reply(rec["response"]["body_text"].encode())
        req = CODEC.parse_request(call(rec["request"]["body"]))
        body = json.loads(CODEC.render(rep, req, OPTS).body)
        Response.model_validate(body)


# ---- requests ----------------------------------------------------------------------------------


def test_parse_string_and_items() -> None:
    req = parse(
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Use metric units."},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
            {"role": "user", "content": [{"type": "input_image", "image_url": "http://x/y.png"}]},
            {"role": "assistant", "content": [{"type": "output_text", "text": "Hello", "annotations": []}]},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        ],
    )
    assert req.system == "Be brief."
    assert [m.role for m in req.messages] == ["system", "user", "user", "assistant", "assistant", "tool"]
    assert req.messages[1].text == "Hi" and req.messages[5].text == "sunny"
    assert parse().messages[0].text == "Hello there" and parse().endpoint == "responses"


def test_parse_tools_choice_format_and_flags() -> None:
    req = parse(
        tools=[*TOOLS, {"type": "web_search"}],
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
        max_output_tokens=50,
        reasoning={"effort": "low"},
        stream=True,
        include=["message.output_text.logprobs"],
        top_logprobs=2,
    )
    assert [t.name for t in req.tools] == ["get_weather"] and req.tools[0].schema["required"] == ["city"]
    assert req.tool_choice.mode == "required" and req.tool_choice.names == ("get_weather",)
    assert not req.parallel_tool_calls and req.max_tokens == 50 and req.stream and req.thinking
    assert req.output.kind == "json_schema" and req.output.name == "out" and req.output.schema == {"type": "object"}
    assert req.logprobs and req.top_logprobs == 2
    assert parse(tool_choice="none").tool_choice.mode == "none"
    assert parse(text={"format": {"type": "json_object"}}).output.kind == "json"
    assert not parse().thinking and not parse(reasoning={"effort": "none"}).thinking and not parse().logprobs


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": 5, "input": "x"}, "model"),
        ({"model": "m", "input": 5}, "input"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input.0.role"),
        ({"model": "m", "input": [{"role": "user", "content": 3}]}, "input.0.content"),
        ({"model": "m", "input": [{"type": "function_call", "name": "f"}]}, "input.0.call_id"),
        ({"model": "m", "tools": [{"type": "function"}]}, "tools.0.name"),
        ({"model": "m", "tools": [{"name": "f"}]}, "tools.0.type"),
        ({"model": "m", "tool_choice": "sometimes"}, "tool_choice"),
        ({"model": "m", "tools": TOOLS, "tool_choice": {"type": "function", "name": "nope"}}, "tool_choice"),
        ({"model": "m", "text": {"format": {"type": "xml"}}}, "text.format.type"),
        ({"model": "m", "text": {"format": {"type": "json_schema", "name": "a"}}}, "text.format.schema"),
        ({"model": "m", "max_output_tokens": "many"}, "max_output_tokens"),
        ({"model": "m", "temperature": 3}, "temperature"),
        ({"model": "m", "stream": "yes"}, "stream"),
    ],
)
def test_bad_requests_name_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as exc:
        CODEC.parse_request(call(body))
    assert exc.value.kind == ErrorKind.INVALID_REQUEST and exc.value.param == param
    assert param in exc.value.message


@pytest.mark.parametrize("raw", [b"", b"{", b"[1]", b"null"])
def test_malformed_json(raw: bytes) -> None:
    with pytest.raises(ApiError) as exc:
        CODEC.parse_request(call(raw))
    assert exc.value.kind == ErrorKind.INVALID_REQUEST


# ---- non-stream rendering ---------------------------------------------------------------------------


def render_body(rep: Reply, **body: Any) -> dict[str, Any]:
    answer = CODEC.render(rep, parse(**body), OPTS)
    assert answer.status == 200 and not answer.stream
    headers = dict(answer.headers)
    assert headers["content-type"] == "application/json" and headers["x-request-id"].startswith("req_")
    return json.loads(answer.body)


def test_body_text_validates() -> None:
    body = render_body(TEXT, instructions="Be nice.", temperature=0.5, metadata={"k": "v"})
    resp = Response.model_validate(body)
    assert "output_text" not in body and resp.output_text == TEXT.candidates[0].text
    assert body["id"].startswith("resp_") and body["object"] == "response" and body["status"] == "completed"
    assert body["output"][0]["id"].startswith("msg_") and body["created_at"] == TEXT.created
    assert body["instructions"] == "Be nice." and body["temperature"] == 0.5 and body["metadata"] == {"k": "v"}
    assert body["usage"] == {
        "input_tokens": 21,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 30,
    }
    assert CODEC.render(TEXT, parse(), OPTS).steps == len(range(0, len(TEXT.candidates[0].text), 7))


def test_body_tool_call_and_echo() -> None:
    body = render_body(TOOL, tools=TOOLS, tool_choice="required")
    resp = Response.model_validate(body)
    fc = resp.output[1]
    assert fc.type == "function_call" and fc.name == "get_weather" and fc.call_id == "call_0123"
    assert json.loads(fc.arguments) == {"city": "Paris"} and resp.output_text == "Let me check."
    assert body["tools"][0]["name"] == "get_weather" and body["tool_choice"] == "required"
    assert CODEC.body_to_reply(json.dumps(body).encode()).candidates[0].finish == Finish.TOOL_CALLS


def test_body_reasoning_summary_only_when_asked() -> None:
    quiet = Response.model_validate(render_body(THINK, reasoning={"effort": "low"}))
    assert quiet.output[0].type == "reasoning" and quiet.output[0].summary == []
    shown = render_body(THINK, reasoning={"effort": "low", "summary": "auto"}, include=["reasoning.encrypted_content"])
    resp = Response.model_validate(shown)
    assert resp.output[0].summary[0].text == "First, the question." and resp.output_text == "It is 42."
    assert resp.output[0].encrypted_content == "gAAAAABsig" and resp.usage.output_tokens_details.reasoning_tokens == 4


def test_body_incomplete_and_logprobs() -> None:
    body = render_body(CUT, max_output_tokens=16, include=["message.output_text.logprobs"], top_logprobs=2)
    resp = Response.model_validate(body)
    assert resp.status == "incomplete" and resp.incomplete_details.reason == "max_output_tokens"
    assert body["max_output_tokens"] == 16 and resp.output[0].status == "incomplete"
    logprobs = resp.output[0].content[0].logprobs
    assert "".join(lp.token for lp in logprobs) == CUT.candidates[0].text
    assert all(len(lp.top_logprobs) == 2 for lp in logprobs)
    assert CODEC.body_to_reply(json.dumps(body).encode()).candidates[0].finish == Finish.LENGTH


def test_error_envelope() -> None:
    answer = CODEC.render_error(ApiError(ErrorKind.INVALID_REQUEST, "bad", param="model"), OPTS)
    assert answer.status == 400
    assert json.loads(answer.body)["error"] == {
        "message": "bad",
        "type": "invalid_request_error",
        "param": "model",
        "code": None,
    }
    assert ROUTES[0].path == "/v1/responses" and ROUTES[0].codec is CODEC and ROUTES[0].op is None


# ---- stream rendering ------------------------------------------------------------------------------


def render_stream(rep: Reply, **body: Any) -> tuple[Any, list[Any]]:
    answer = CODEC.render(rep, parse(stream=True, **body), OPTS)
    assert answer.stream and dict(answer.headers)["content-type"].startswith("text/event-stream")
    events = CODEC.parse_events(answer.body)
    assert CODEC.encode_events(events) == answer.body
    assert [e.data["sequence_number"] for e in events] == list(range(len(events)))
    for frame, ev in zip(answer.frames, events, strict=True):
        assert frame.data == ev.raw
        assert frame.paced == ev.type.endswith(".delta"), ev.type
        assert ev.data["type"] == ev.type
        EVENT.validate_python(ev.data)
    return answer, events


def sdk_final(events: list[Any], tools: list[dict[str, Any]] | None = None) -> Any:
    """The final response the SDK's own stream accumulator builds."""
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=tools or openai.omit, text_format=openai.omit)
    for ev in events:
        state.handle_event(EVENT.validate_python(ev.data))
    return state._completed_response


def test_stream_text() -> None:
    _, events = render_stream(TEXT)
    types = [e.type for e in events]
    assert types[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e.data["delta"] for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == TEXT.candidates[0].text and max(len(d) for d in deltas) == 7
    assert events[0].data["response"]["status"] == "in_progress" and events[0].data["response"]["usage"] is None
    final = sdk_final(events)
    assert final.output_text == TEXT.candidates[0].text and final.usage.total_tokens == 30
    # The stream and the body tell the same response.
    body = json.loads(CODEC.render(TEXT, parse(), OPTS).body)
    assert events[-1].data["response"] == body


def test_stream_tool_call() -> None:
    _, events = render_stream(TOOL, tools=TOOLS)
    types = [e.type for e in events]
    assert "response.function_call_arguments.delta" in types and "response.function_call_arguments.done" in types
    final = sdk_final(events, TOOLS)
    assert final.output[1].type == "function_call" and final.output[1].parsed_arguments == {"city": "Paris"}
    rep = CODEC.events_to_reply(events)
    assert rep.candidates[0].tool_calls[0].input == {"city": "Paris"} and rep.candidates[0].text == "Let me check."


def test_stream_reasoning_events() -> None:
    _, events = render_stream(THINK, reasoning={"effort": "low", "summary": "detailed"})
    types = [e.type for e in events]
    assert types[2:4] == ["response.output_item.added", "response.reasoning_summary_part.added"]
    assert "response.reasoning_summary_text.done" in types and "response.reasoning_summary_part.done" in types
    summary = "".join(e.data["delta"] for e in events if e.type == "response.reasoning_summary_text.delta")
    assert summary == "First, the question."
    assert sdk_final(events).output_text == "It is 42."
    _, quiet = render_stream(THINK, reasoning={"effort": "low"})
    assert not [e for e in quiet if "reasoning_summary" in e.type]


def test_stream_incomplete_and_logprobs() -> None:
    _, events = render_stream(CUT, max_output_tokens=16, include=["message.output_text.logprobs"])
    assert events[-1].type == "response.incomplete"
    assert events[-1].data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    for ev in events:
        if ev.type == "response.output_text.delta":
            assert "".join(lp["token"] for lp in ev.data["logprobs"]) == ev.data["delta"]
    rep = CODEC.events_to_reply(events)
    assert rep.candidates[0].finish == Finish.LENGTH and rep.candidates[0].text == CUT.candidates[0].text


def test_stream_refusal_and_recorded_item() -> None:
    web = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}}
    rep = reply(Opaque("web_search_call", web), Opaque("refusal", {"type": "refusal", "refusal": "I can't."}))
    _, events = render_stream(rep)
    assert [e.data["item"]["type"] for e in events if e.type == "response.output_item.done"] == [
        "web_search_call",
        "message",
    ]
    assert "".join(e.data["delta"] for e in events if e.type == "response.refusal.delta") == "I can't."
    sdk_final(events)


def test_events_to_reply_without_terminal_event() -> None:
    _, events = render_stream(TOOL, tools=TOOLS)
    rep = CODEC.events_to_reply(events[:-1])
    assert rep.candidates[0].text == "Let me check." and rep.candidates[0].tool_calls[0].name == "get_weather"
    with pytest.raises(ValueError):
        CODEC.events_to_reply([])


def test_in_stream_error_event() -> None:
    raw = CODEC.in_stream_error(ApiError(ErrorKind.SERVER, "boom"), OPTS)
    assert raw is not None and raw.startswith(b"event: error\n")
    ev = CODEC.parse_events(raw)[0]
    parsed = EVENT.validate_python(ev.data)
    assert parsed.type == "error" and parsed.message == "boom" and parsed.code == "server_error"


# ---- the SDK itself, over a mock transport ------------------------------------------------------------


class Fake:
    """Answers the SDK's HTTP calls with this codec and a scripted Reply."""

    def __init__(self, rep: Reply = TEXT) -> None:
        self.reply = rep

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        c = Call(request.method, request.url.path, headers=dict(request.headers), body=request.content)
        try:
            answer = CODEC.render(self.reply, CODEC.parse_request(c), OPTS)
        except ApiError as err:
            answer = CODEC.render_error(err, OPTS)
        return httpx2.Response(answer.status, headers=list(answer.headers), content=answer.body)


def client(rep: Reply = TEXT) -> openai.OpenAI:
    http = openai.DefaultHttpxClient(transport=httpx2.MockTransport(Fake(rep)))
    return openai.OpenAI(base_url="http://llmreplay.test/v1", api_key="x", max_retries=0, http_client=http)


def test_sdk_create_stream_and_errors() -> None:
    c = client(TOOL)
    resp = c.responses.create(model="gpt-x", input="Weather?", tools=TOOLS)  # type: ignore[arg-type]
    assert resp.output_text == "Let me check." and resp._request_id == "req_0123456789abcdef0123456789abcdef"
    with c.responses.stream(model="gpt-x", input="Weather?", tools=TOOLS) as stream:  # type: ignore[arg-type]
        kinds = [ev.type for ev in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text == "Let me check." and final.output[1].type == "function_call"
    with pytest.raises(openai.BadRequestError) as exc:
        c.responses.create(model="gpt-x", input="x", temperature=9)
    assert exc.value.param == "temperature"
