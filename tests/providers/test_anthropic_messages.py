"""Anthropic Messages codec: request parsing, rendering, recorded streams, and the SDK on top."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.lib.streaming._beta_messages import accumulate_event as beta_accumulate
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import Message as SDKMessage

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Finish, Opaque, Reply, Request, Text, Thinking, ToolCall, Usage
from llmreplay.providers import anthropic_models
from llmreplay.providers.anthropic_messages import CODEC, ROUTES, count_tokens
from llmreplay.providers.anthropic_request import parse_count_tokens
from llmreplay.providers.base import RenderOptions
from llmreplay.synth.tokens import prompt_tokens
from tests.real_fixtures import REAL

FIXTURES = REAL
OPTS = RenderOptions(chunk_size=7, request_id="0123456789abcdef0123456789abcdef")
USER = [{"role": "user", "content": "Hello there"}]


def call(body: Any, path: str = "/v1/messages") -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", path, headers={"anthropic-version": "2023-06-01"}, body=raw)


def parse(**body: Any) -> Request:
    return CODEC.parse_request(call({"model": "claude-x", "max_tokens": 100, "messages": USER, **body}))


def reply(*parts: Any, finish: Finish = Finish.STOP, stop: str | None = None, out: int = 9) -> Reply:
    cand = Candidate(tuple(parts), finish, stop, out)
    return Reply("0abc", "claude-x", 0, (cand,), Usage(21, out))


TEXT = reply(Text("Hello there, my friend. How are you today?"))
TOOL = reply(
    Text("Let me check."), ToolCall("0123", "get_weather", '{"city": "Paris", "days": 3}'), finish=Finish.TOOL_CALLS
)
THINK = reply(Thinking("Let me think about the question first.", "c2lnbmF0dXJl"), Text("It is 42."))
STOPSEQ = reply(Text("one two "), finish=Finish.STOP_SEQUENCE, stop="three")


def stream_request() -> Request:
    return parse(stream=True)


def sdk_accumulate(body: bytes, beta: bool = False) -> Any:
    """The message the SDK's own stream accumulator builds from ``body`` (beta: for server-tool blocks)."""
    snap, bufs = None, {}
    for ev in CODEC.parse_events(body):
        if ev.type in ("ping", "error") or ev.data is None:
            continue
        if beta:
            snap = beta_accumulate(
                event=ev.data, current_snapshot=snap, json_bufs=bufs, request_headers=httpx2.Headers()
            )
        else:
            snap = accumulate_event(event=ev.data, current_snapshot=snap, json_bufs=bufs)
    return snap


def test_routes():
    assert [(r.method, r.path, r.op) for r in ROUTES] == [
        ("POST", "/v1/messages", None),
        ("POST", "/v1/messages/count_tokens", count_tokens),
    ]
    assert all(r.codec is CODEC and r.endpoint == "messages" for r in ROUTES)


# ---- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rep", [TEXT, TOOL, THINK, STOPSEQ])
def test_non_stream_body_validates_with_sdk_types(rep):
    answer = CODEC.render(rep, parse(), OPTS)
    assert answer.status == 200 and not answer.stream and len(answer.frames) == 1
    headers = dict(answer.headers)
    assert headers["content-type"] == "application/json" and headers["request-id"].startswith("req_")
    assert "anthropic-organization-id" in headers
    msg = SDKMessage.model_validate(json.loads(answer.body))
    assert msg.id == "msg_0abc" and msg.usage.input_tokens == 21 and msg.usage.output_tokens == 9
    assert answer.steps >= 1


def test_body_blocks_stop_reasons_and_ids():
    body = json.loads(CODEC.render(TOOL, parse(), OPTS).body)
    assert body["stop_reason"] == "tool_use" and body["stop_sequence"] is None
    assert body["content"][1] == {
        "type": "tool_use",
        "id": "toolu_0123",
        "name": "get_weather",
        "input": {"city": "Paris", "days": 3},
    }
    body = json.loads(CODEC.render(THINK, parse(), OPTS).body)
    assert body["content"][0] == {
        "type": "thinking",
        "thinking": THINK.candidates[0].parts[0].text,
        "signature": "c2lnbmF0dXJl",
    }
    body = json.loads(CODEC.render(STOPSEQ, parse(), OPTS).body)
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "three")
    assert json.loads(CODEC.render(reply(Text("x"), finish=Finish.LENGTH), parse(), OPTS).body)["stop_reason"] == (
        "max_tokens"
    )
    usage = json.loads(CODEC.render(TEXT, parse(), OPTS).body)["usage"]
    assert usage["service_tier"] == "standard" and usage["cache_read_input_tokens"] == 0


def test_only_the_first_candidate_is_shown():
    two = Reply("r", "m", 0, (Candidate((Text("first"),)), Candidate((Text("second"),))), Usage(1, 2))
    assert [b["text"] for b in json.loads(CODEC.render(two, parse(), OPTS).body)["content"]] == ["first"]


@pytest.mark.parametrize("rep", [TEXT, TOOL, THINK, STOPSEQ])
def test_stream_accumulates_to_the_non_stream_body(rep):
    answer = CODEC.render(rep, stream_request(), OPTS)
    assert answer.stream and all(f.at is None for f in answer.frames)
    headers = dict(answer.headers)
    assert headers["content-type"] == "text/event-stream; charset=utf-8" and headers["cache-control"] == "no-cache"
    final = sdk_accumulate(answer.body).to_dict()
    final.pop("stop_details", None)  # the accumulator sets it to None; our body leaves it out
    assert final == json.loads(CODEC.render(rep, parse(), OPTS).body)


def test_stream_event_order_and_pacing():
    answer = CODEC.render(THINK, stream_request(), OPTS)
    events = CODEC.parse_events(answer.body)
    types = [e.type for e in events]
    assert types[:3] == ["message_start", "content_block_start", "ping"]
    assert types[-2:] == ["message_delta", "message_stop"] and types.count("ping") == 1
    assert all(e.raw.startswith(f"event: {e.type}\n".encode()) and e.raw.endswith(b"\n\n") for e in events)
    assert all(e.data["type"] == e.type for e in events)
    deltas = [e.data["delta"]["type"] for e in events if e.type == "content_block_delta"]
    assert deltas.index("signature_delta") == deltas.count("thinking_delta")
    paced = [f.paced for f in answer.frames]
    kinds = [e.data.get("delta", {}).get("type") for e in events]
    assert [k for k, p in zip(kinds, paced, strict=True) if p] == [
        k for k in kinds if k in ("thinking_delta", "text_delta")
    ]
    assert CODEC.render(THINK, parse(), OPTS).steps == sum(paced)
    assert events[0].data["message"]["usage"]["output_tokens"] == 1
    assert events[-2].data["usage"]["output_tokens"] == 9


def test_stream_tool_input_opens_with_an_empty_fragment():
    events = CODEC.parse_events(CODEC.render(TOOL, stream_request(), OPTS).body)
    frags = [
        e.data["delta"]["partial_json"] for e in events if e.type == "content_block_delta" and e.data["index"] == 1
    ]
    assert frags[0] == "" and len(frags) > 2 and json.loads("".join(frags)) == {"city": "Paris", "days": 3}
    start = next(e.data for e in events if e.type == "content_block_start" and e.data["index"] == 1)
    assert start["content_block"] == {"type": "tool_use", "id": "toolu_0123", "name": "get_weather", "input": {}}


def test_stream_and_body_round_trip_to_the_same_reply():
    for rep in (TEXT, TOOL, THINK, STOPSEQ):
        body = CODEC.render(rep, stream_request(), OPTS).body
        streamed = CODEC.events_to_reply(CODEC.parse_events(body))
        whole = CODEC.body_to_reply(CODEC.render(rep, parse(), OPTS).body)
        assert streamed.candidates == whole.candidates and streamed.usage == whole.usage
        assert streamed.candidates[0].finish == rep.candidates[0].finish
        assert [type(p) for p in whole.candidates[0].parts] == [type(p) for p in rep.candidates[0].parts]


def test_opaque_anthropic_blocks_are_kept_and_foreign_ones_dropped():
    search = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    rep = reply(Opaque("web_search_tool_result", search), Opaque("refusal", {"text": "no"}), Text("ok"))
    body = json.loads(CODEC.render(rep, parse(), OPTS).body)
    assert body["content"] == [search, {"type": "text", "text": "ok"}]
    final = sdk_accumulate(CODEC.render(rep, stream_request(), OPTS).body)
    assert final.to_dict()["content"] == body["content"]


def test_bad_tool_arguments_still_make_an_object():
    rep = reply(ToolCall("1", "f", '{"cut'), finish=Finish.TOOL_CALLS)
    assert json.loads(CODEC.render(rep, parse(), OPTS).body)["content"][0]["input"] == {}
    assert sdk_accumulate(CODEC.render(rep, stream_request(), OPTS).body).content[0].input == {}


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "etype"),
    [
        (ErrorKind.INVALID_REQUEST, 400, "invalid_request_error"),
        (ErrorKind.AUTHENTICATION, 401, "authentication_error"),
        (ErrorKind.PERMISSION, 403, "permission_error"),
        (ErrorKind.NOT_FOUND, 404, "not_found_error"),
        (ErrorKind.REQUEST_TOO_LARGE, 413, "request_too_large"),
        (ErrorKind.RATE_LIMIT, 429, "rate_limit_error"),
        (ErrorKind.SERVER, 500, "api_error"),
        (ErrorKind.UNAVAILABLE, 503, "api_error"),
        (ErrorKind.TIMEOUT, 504, "timeout_error"),
        (ErrorKind.OVERLOADED, 529, "overloaded_error"),
    ],
)
def test_error_envelope(kind, status, etype):
    answer = CODEC.render_error(ApiError(kind, "why", headers={"retry-after": "3"}), OPTS)
    body = json.loads(answer.body)
    headers = dict(answer.headers)
    assert answer.status == status and headers["retry-after"] == "3"
    assert body == {"type": "error", "error": {"type": etype, "message": "why"}, "request_id": headers["request-id"]}


def test_in_stream_error_event():
    raw = CODEC.in_stream_error(ApiError(ErrorKind.OVERLOADED, "Overloaded"), OPTS)
    assert raw == b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'


# ---- real recordings ---------------------------------------------------------------------------


def _fixtures(api: str) -> list[Path]:
    return sorted((FIXTURES / api).glob("*.json"))


def _request_call(rec: dict[str, Any]) -> Call:
    req = rec["request"]
    return Call(
        req["method"], req["path"], query=req["query"], headers=req["headers"], body=json.dumps(req["body"]).encode()
    )


@pytest.mark.parametrize("path", _fixtures("anthropic-messages"), ids=lambda p: p.name)
def test_recorded_messages(path):
    rec = json.loads(path.read_text())
    req = CODEC.parse_request(_request_call(rec))
    assert req.stream == rec["stream"]
    body = rec["response"]["body_text"].encode()
    if rec["response"]["status"] != 200:
        assert json.loads(body)["type"] == "error"
        return
    if rec["stream"]:
        events = CODEC.parse_events(body)
        again = CODEC.encode_events(events)
        assert again == body
        assert [e.type for e in CODEC.parse_events(again)] == [e.type for e in events]
        assert events[0].type == "message_start" and events[-1].type == "message_stop"
        got = CODEC.events_to_reply(events)
        sdk = sdk_accumulate(body, beta=True).to_dict(mode="json")
        expected = CODEC.body_to_reply(json.dumps(sdk).encode())
    else:
        got = CODEC.body_to_reply(body)
        expected = None
        msg = json.loads(body)
        rendered = json.loads(CODEC.render(got, req, OPTS).body)
        assert [b["type"] for b in rendered["content"]] == [b["type"] for b in msg["content"]]
        assert rendered["id"] == msg["id"] and rendered["stop_reason"] == msg["stop_reason"]
    cand = got.candidates[0]
    assert got.id.startswith("msg_") and got.usage.output_tokens > 0 and cand.parts
    for tc in cand.tool_calls:
        assert tc.id.startswith("toolu_") and isinstance(tc.input, dict)
    if expected is not None:
        assert got.candidates[0].parts == expected.candidates[0].parts
        assert (got.usage, cand.finish) == (expected.usage, expected.candidates[0].finish)


@pytest.mark.parametrize("path", _fixtures("anthropic-count-tokens"), ids=lambda p: p.name)
def test_recorded_count_tokens(path):
    rec = json.loads(path.read_text())
    req = parse_count_tokens(_request_call(rec))
    assert req.model and req.messages
    answer = count_tokens(_request_call(rec), OPTS)
    ours, theirs = json.loads(answer.body), json.loads(rec["response"]["body_text"])
    if rec["response"]["status"] == 200:
        assert set(ours) == set(theirs) == {"input_tokens"} and isinstance(ours["input_tokens"], int)
    else:
        # We accept every model, so the recorded 404 becomes an answer; its envelope must match ours.
        err = json.loads(CODEC.render_error(ApiError(ErrorKind.NOT_FOUND, theirs["error"]["message"]), OPTS).body)
        assert set(err) == set(theirs) and set(err["error"]) == set(theirs["error"])
        assert err["error"] == theirs["error"]


def test_fixture_counts():
    assert len(_fixtures("anthropic-messages")) == 121 and len(_fixtures("anthropic-count-tokens")) == 7


# ---- the SDK itself, over a mock transport ---------------------------------------------------


class Fake:
    """Answers the SDK's HTTP calls with this module's codec and a scripted Reply."""

    def __init__(self, rep: Reply = TEXT) -> None:
        self.reply = rep
        self.requests: list[Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        c = Call(
            request.method,
            path,
            query=dict(request.url.params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.content,
        )
        if "x-status" in c.headers:
            answer = CODEC.render_error(
                ApiError(ErrorKind.OVERLOADED, "Overloaded", status=int(c.headers["x-status"])), OPTS
            )
        elif path == "/v1/models":
            answer = anthropic_models.list_models(c, OPTS)
        elif path.startswith("/v1/models/"):
            answer = anthropic_models.get_model(Call("GET", path, params={"model": path.rsplit("/", 1)[1]}), OPTS)
        else:
            try:
                answer = self._messages(c)
            except ApiError as err:
                answer = CODEC.render_error(err, OPTS)
        return httpx2.Response(answer.status, headers=list(answer.headers), content=answer.body)

    def _messages(self, c: Call) -> Any:
        if c.path.endswith("/count_tokens"):
            return count_tokens(c, OPTS)
        req = CODEC.parse_request(c)
        self.requests.append(req)
        return CODEC.render(self.reply, req, OPTS)


def client(fake: Fake) -> anthropic.Anthropic:
    http = anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(fake))
    return anthropic.Anthropic(base_url="http://llmreplay.test", api_key="x", max_retries=0, http_client=http)


def test_sdk_create_and_raw_stream():
    c = client(Fake(TEXT))
    m = c.messages.create(model="claude-x", max_tokens=100, messages=USER)
    assert m.content[0].text == TEXT.candidates[0].text and m.stop_reason == "end_turn"
    assert m._request_id and m._request_id.startswith("req_011C")
    events = list(c.messages.create(model="claude-x", max_tokens=100, messages=USER, stream=True))
    assert events[0].type == "message_start" and [e.type for e in events[-2:]] == ["message_delta", "message_stop"]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == m.content[0].text


def test_sdk_stream_helper():
    c = client(Fake(TEXT))
    with c.messages.stream(model="claude-x", max_tokens=100, messages=USER) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == final.content[0].text == TEXT.candidates[0].text
    assert (final.usage.input_tokens, final.usage.output_tokens) == (21, 9)


def test_sdk_tool_use_thinking_and_stop_sequence():
    c = client(Fake(TOOL))
    m = c.messages.create(model="claude-x", max_tokens=100, messages=USER)
    with c.messages.stream(model="claude-x", max_tokens=100, messages=USER) as s:
        streamed = s.get_final_message()
    for msg in (m, streamed):
        use = msg.content[1]
        assert msg.stop_reason == "tool_use" and use.type == "tool_use" and use.id == "toolu_0123"
        assert use.input == {"city": "Paris", "days": 3}
    c = client(Fake(THINK))
    with c.messages.stream(
        model="claude-x", max_tokens=2000, messages=USER, thinking={"type": "enabled", "budget_tokens": 1024}
    ) as s:
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature == "c2lnbmF0dXJl"
    assert final.content[0].thinking == THINK.candidates[0].parts[0].text and final.content[1].text == "It is 42."
    m = client(Fake(STOPSEQ)).messages.create(model="c", max_tokens=10, messages=USER, stop_sequences=["three"])
    assert (m.stop_reason, m.stop_sequence, m.content[0].text) == ("stop_sequence", "three", "one two ")


def test_sdk_count_tokens():
    fake = Fake()
    c = client(fake)
    counted = c.messages.count_tokens(model="claude-x", messages=USER, system="Be brief.").input_tokens
    c.messages.create(model="claude-x", max_tokens=10, messages=USER, system="Be brief.")
    assert counted == prompt_tokens(fake.requests[0]) > 0


def test_sdk_models_pages_and_retrieve():
    c = client(Fake())
    models = list(c.models.list(limit=2))
    assert [m.id for m in models] == [m.id for m in anthropic_models.CATALOGUE]
    assert c.models.retrieve("claude-custom").id == "claude-custom"


def test_sdk_errors():
    c = client(Fake())
    with pytest.raises(anthropic.BadRequestError) as info:
        c.messages.create(model="c", max_tokens=-5, messages=USER)
    assert info.value.status_code == 400 and "max_tokens" in str(info.value)
    assert info.value.body["error"]["type"] == "invalid_request_error"
    with pytest.raises(anthropic.OverloadedError) as over:
        c.messages.create(model="c", max_tokens=5, messages=USER, extra_headers={"x-status": "529"})
    assert over.value.status_code == 529
    with pytest.raises(anthropic.InternalServerError):
        c.messages.create(model="c", max_tokens=5, messages=USER, extra_headers={"x-status": "503"})


def test_sdk_raises_on_in_stream_error():
    body = CODEC.render(TEXT, stream_request(), OPTS).body
    cut = body[: body.index(b"event: content_block_stop")]
    broken = cut + CODEC.in_stream_error(ApiError(ErrorKind.OVERLOADED, "Overloaded"), OPTS)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=broken)

    http = anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(handler))
    c = anthropic.Anthropic(base_url="http://llmreplay.test", api_key="x", max_retries=0, http_client=http)
    with pytest.raises(anthropic.APIStatusError) as info:
        list(c.messages.create(model="c", max_tokens=5, messages=USER, stream=True))
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert CODEC.events_to_reply(CODEC.parse_events(broken)).candidates[0].finish is Finish.OTHER
