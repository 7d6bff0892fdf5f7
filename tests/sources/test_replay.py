"""The replay source: recorded answers, their timing, cross conversions, failures and misses."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import anthropic.types
import openai.types.chat
import pydantic
import pytest

from llmreplay.cassettes.keys import MatchConfig
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, LazyEvents, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Cut, Frame
from llmreplay.providers import anthropic_messages, gemini, openai_chat
from llmreplay.providers.base import RenderOptions, Route
from llmreplay.sources.replay import ReplaySource, Timing, codec_for, render, spread
from llmreplay.sse import parse_sse
from tests.real_fixtures import REAL

FIXTURES = REAL
CHAT_STREAM = "openai-chat/test_run_stream_sync_streams_real_model.0.json"
CHAT_PLAIN = "openai-chat/test_extra_headers.0.json"
ANT_STREAM = "anthropic-messages/test_anthropic_model_thinking_part_stream.0.json"
ANT_PLAIN = "anthropic-messages/test_anthropic_model_instructions.0.json"
GEM_STREAM = "gemini/test_google_model_stream.0.json"

needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="real fixtures not present")


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def fixture_interaction(d: dict[str, Any]) -> Interaction:
    """A fixture as a recording: a stream's events 10 ms apart, a plain body at 50 ms."""
    r = d["request"]
    req = RecordedRequest(
        r["method"], r["path"], tuple(r["query"].items()), tuple(r["headers"].items()), json.dumps(r["body"]).encode()
    )
    s = d["response"]
    raw = s["body_text"].encode()
    headers = tuple(s["headers"].items())
    if d["stream"]:
        events = tuple(RecordedEvent(10_000 * (i + 1), e.raw) for i, e in enumerate(parse_sse(raw)))
        assert b"".join(e.data for e in events) == raw
        resp = RecordedResponse(s["status"], headers, events=events, headers_us=5_000, end_us=events[-1].at_us)
    else:
        resp = RecordedResponse(s["status"], headers, body=raw, headers_us=50_000, end_us=50_000)
    return Interaction(req, resp, d["api"])


def fixture_call(d: dict[str, Any], **body_changes: Any) -> Call:
    r = d["request"]
    b = {**r["body"], **body_changes}
    params = {"model": r["path"].rsplit("/", 1)[1].split(":")[0]} if d["api"] == "gemini" else {}
    return Call(r["method"], r["path"], params, dict(r["query"]), dict(r["headers"]), json.dumps(b).encode())


def route_for(api: str) -> Route:
    return {
        "openai-chat": openai_chat.ROUTES[0],
        "anthropic-messages": anthropic_messages.ROUTES[0],
        "gemini": next(r for r in gemini.ROUTES if "streamGenerateContent" in r.path),
    }[api]


def replay(
    d: dict[str, Any], speed: float = 1.0, timing: Timing = "recorded", **body_changes: Any
) -> tuple[Interaction, Answer | None]:
    it = fixture_interaction(d)
    src = ReplaySource(Index([("cas", it)]))
    c = fixture_call(d, **body_changes)
    codec = codec_for(d["api"])
    assert codec is not None
    req = codec.parse_request(c)
    return it, src.answer(c, route_for(d["api"]), req, opts(), speed, timing)


def opts() -> RenderOptions:
    return RenderOptions(request_id="ab" * 16)


def header_names(headers: tuple[tuple[str, str], ...]) -> set[str]:
    return {k.lower() for k, _ in headers}


def sse_payloads(body: bytes) -> list[Any]:
    return [e.json() for e in parse_sse(body) if e.data.strip() and e.data.strip() != "[DONE]"]


# ---- as recorded -----------------------------------------------------------------


@needs_fixtures
@pytest.mark.parametrize(("speed", "factor"), [(1.0, 1.0), (2.0, 0.5), (0.5, 2.0)])
def test_stream_frames_at_recorded_offsets_scaled(speed: float, factor: float) -> None:
    it, ans = replay(load(CHAT_STREAM), speed=speed)
    events = it.response.events
    assert ans is not None and events is not None and ans.stream
    assert [f.data for f in ans.frames] == [e.data for e in events]
    assert [f.at for f in ans.frames] == pytest.approx([e.at_us / 1e6 * factor for e in events])
    assert ans.headers_at == pytest.approx(0.005 * factor)
    assert ans.body == it.response.raw and ans.status == 200 and ans.cut is None


@needs_fixtures
def test_speed_zero_sends_everything_at_once() -> None:
    _, ans = replay(load(CHAT_STREAM), speed=0)
    assert ans is not None and all(f.at == 0.0 for f in ans.frames) and ans.headers_at == 0.0


@needs_fixtures
def test_synthetic_timing_leaves_times_to_the_timing_stage() -> None:
    _, ans = replay(load(ANT_STREAM), timing="synthetic")
    assert ans is not None and all(f.at is None and f.paced for f in ans.frames) and ans.headers_at == 0.0


@needs_fixtures
def test_recorded_headers_kept_minus_framing() -> None:
    d = load(CHAT_PLAIN)
    _, ans = replay(d)
    assert ans is not None
    names = header_names(ans.headers)
    assert {"content-length", "transfer-encoding", "connection"}.isdisjoint(names)
    assert {"openai-processing-ms", "content-type", "openai-version"} <= names


@needs_fixtures
def test_plain_body_at_recorded_end() -> None:
    d = load(CHAT_PLAIN)
    it, ans = replay(d, speed=2)
    assert ans is not None and not ans.stream
    assert ans.body == d["response"]["body_text"].encode() == it.response.body
    assert len(ans.frames) == 1 and ans.frames[0].at == pytest.approx(0.025)


@needs_fixtures
def test_plain_body_synthetic_steps_follow_content() -> None:
    _, ans = replay(load(CHAT_PLAIN), timing="synthetic")
    assert ans is not None and ans.frames[0].at is None
    assert ans.steps == 4  # "Hello! How can I assist you today?" in 10-character pieces


# ---- cross conversion --------------------------------------------------------------


@needs_fixtures
def test_recorded_chat_stream_answers_plain_call() -> None:
    it, ans = replay(load(CHAT_STREAM), stream=False)
    assert ans is not None and not ans.stream
    done = openai.types.chat.ChatCompletion.model_validate_json(ans.body)
    call0 = done.choices[0].message.tool_calls
    assert call0 and call0[0].function.name == "get_capital"
    assert ans.frames[0].at == pytest.approx(it.response.end_us / 1e6)
    assert dict(ans.headers)["content-type"].startswith("application/json")


@needs_fixtures
def test_recorded_anthropic_stream_answers_plain_call() -> None:
    _, ans = replay(load(ANT_STREAM), speed=2, stream=False)
    assert ans is not None and not ans.stream
    msg = anthropic.types.Message.model_validate_json(ans.body)
    assert msg.content[0].type == "thinking"


@needs_fixtures
def test_recorded_chat_body_answers_stream_call() -> None:
    it, ans = replay(load(CHAT_PLAIN), stream=True)
    assert ans is not None and ans.stream
    payloads = list(sse_payloads(ans.body))
    # This recording is Azure's (its body has prompt_filter_results): Azure's stream opens with a chunk of the
    # prompt's filter results and empty id, model and object, which the SDK reads without validating.
    assert payloads[0]["object"] == "" and payloads[0]["prompt_filter_results"] and payloads[0]["choices"] == []
    chunks = [openai.types.chat.ChatCompletionChunk.model_validate(p) for p in payloads[1:]]
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello! How can I assist you today?"
    )
    assert ans.frames[-1].at == pytest.approx(it.response.end_us / 1e6)
    ats = [f.at for f in ans.frames]
    assert ats == sorted(ats) and ats[0] is not None and ats[0] > 0
    assert dict(ans.headers)["content-type"].startswith("text/event-stream")


@needs_fixtures
def test_recorded_anthropic_body_answers_stream_call_synthetic() -> None:
    _, ans = replay(load(ANT_PLAIN), timing="synthetic", stream=True)
    assert ans is not None and ans.stream and all(f.at is None for f in ans.frames)
    adapter = pydantic.TypeAdapter(anthropic.types.RawMessageStreamEvent)
    # The SDK skips ``ping`` before validating; so do we.
    events = [adapter.validate_python(p) for p in sse_payloads(ans.body) if p["type"] != "ping"]
    assert events[0].type == "message_start" and events[-1].type == "message_stop"


@needs_fixtures
def test_gemini_stream_answers_plain_call() -> None:
    d = load(GEM_STREAM)
    it = fixture_interaction(d)
    plain_path = d["request"]["path"].replace(":streamGenerateContent", ":generateContent")
    c = Call("POST", plain_path, {"model": "gemini-2.0-flash-exp"}, {}, {}, it.request.body)
    route = next(r for r in gemini.ROUTES if r.path.endswith(":generateContent") and r.path.startswith("/v1beta"))
    req = gemini.CODEC.parse_request(c)
    ans = ReplaySource(Index([("cas", it)])).answer(c, route, req, opts(), 1.0, "recorded")
    assert ans is not None and not ans.stream
    out = json.loads(ans.body)
    assert out["candidates"][0]["content"]["parts"][0]["text"]


@needs_fixtures
def test_stream_in_key_stops_cross_answers() -> None:
    d = load(CHAT_STREAM)
    it = fixture_interaction(d)
    src = ReplaySource(Index([("cas", it)], MatchConfig(stream_in_key=True)))
    c = fixture_call(d, stream=False)
    assert src.answer(c, route_for("openai-chat"), openai_chat.CODEC.parse_request(c), opts()) is None


def test_unreadable_recording_is_sent_as_recorded() -> None:
    req = RecordedRequest("POST", "/v1/chat/completions", body=b'{"model":"m","messages":[]}')
    it = Interaction(req, RecordedResponse(200, body=b"not json", end_us=1000), "openai-chat")
    c = Call("POST", req.path, body=b'{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}')
    src = ReplaySource(Index([("c", it)], MatchConfig(ignore=("messages",))))
    ans = src.answer(c, route_for("openai-chat"), openai_chat.CODEC.parse_request(c), opts())
    assert ans is not None and ans.body == b"not json"


# ---- failures ------------------------------------------------------------------------


def _events(n: int) -> tuple[RecordedEvent, ...]:
    return tuple(RecordedEvent(100_000 * (i + 1), f'data: {{"i":{i}}}\n\n'.encode()) for i in range(n))


def _failed(error: str, status: int = 200) -> Index:
    req = RecordedRequest("POST", "/v1/x", body=b"{}")
    resp = RecordedResponse(status, events=_events(2), headers_us=1000, end_us=300_000, error=error)
    return Index([("c", Interaction(req, resp, None))])


def test_disconnect_replays_events_then_reset() -> None:
    ans = ReplaySource(_failed("disconnect")).answer(Call("POST", "/v1/x", body=b"{}"), None, None, opts(), 2.0)
    assert ans is not None and len(ans.frames) == 2
    assert ans.cut == Cut("reset", at=pytest.approx(0.15))


def test_timeout_hangs_as_long_as_recorded_or_until_the_client_gives_up() -> None:
    ans = ReplaySource(_failed("timeout")).answer(Call("POST", "/v1/x", body=b"{}"), None, None, opts())
    assert ans is not None and ans.cut == Cut("hang", at=pytest.approx(0.3))
    syn = ReplaySource(_failed("timeout")).answer(Call("POST", "/v1/x", body=b"{}"), None, None, opts(), 1, "synthetic")
    assert syn is not None and syn.cut == Cut("hang")


def test_client_disconnect_closes() -> None:
    ans = ReplaySource(_failed("client-disconnect")).answer(Call("POST", "/v1/x", body=b"{}"), None, None, opts())
    assert ans is not None and ans.cut is not None and ans.cut.how == "close"


def test_recorders_own_failure_answer_is_sent_whole() -> None:
    body = b'{"error":{"message":"llmreplay record: upstream http://x is unreachable: refused"}}'
    req = RecordedRequest("POST", "/v1/x", body=b"{}")
    resp = RecordedResponse(502, (("content-type", "application/json"),), body=body, error="connect")
    ans = ReplaySource(Index([("c", Interaction(req, resp, None))])).answer(
        Call("POST", "/v1/x", body=b"{}"), None, None, opts()
    )
    assert ans is not None and ans.cut is None and not ans.stream and ans.status == 502 and ans.body == body


def test_connect_failure_resets_before_headers() -> None:
    ans = ReplaySource(_failed("connect", status=0)).answer(Call("POST", "/v1/x", body=b"{}"), None, None, opts())
    assert ans is not None and ans.cut is not None and ans.cut.before_headers and ans.cut.how == "reset"


def test_failed_plain_body_is_written_as_stream_so_the_cut_follows() -> None:
    req = RecordedRequest("GET", "/v1/files/f1/content")
    resp = RecordedResponse(200, body=b"partial", end_us=20_000, error="disconnect")
    src = ReplaySource(Index([("c", Interaction(req, resp, None))]))
    ans = src.answer(Call("GET", "/v1/files/f1/content"), None, None, opts())
    assert ans is not None and ans.stream and ans.body == b"partial" and ans.cut is not None


# ---- verbatim -----------------------------------------------------------------------


def test_verbatim_exchange_is_sent_exactly() -> None:
    req = RecordedRequest("GET", "/v1/responses/resp_123", (("include[]", "x"),))
    resp = RecordedResponse(
        201,
        (("Content-Type", "application/json"), ("X-Thing", "1"), ("Content-Length", "99"), ("Connection", "close")),
        body=b'{ "odd" :  true }',
        headers_us=1000,
        end_us=4000,
    )
    src = ReplaySource(Index([("c", Interaction(req, resp, None))]))
    ans = src.answer(Call("GET", "/v1/responses/resp_123", query={"include[]": "x"}), None, None, opts())
    assert ans is not None
    assert ans.status == 201 and ans.body == b'{ "odd" :  true }' and not ans.stream
    assert ans.headers == (("Content-Type", "application/json"), ("X-Thing", "1"))
    assert ans.frames[0].at == pytest.approx(0.004)
    assert src.answer(Call("GET", "/v1/responses/resp_123"), None, None, opts()) is None


# ---- misses ---------------------------------------------------------------------------


def test_miss_returns_none_and_error_names_cassette_and_difference() -> None:
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
    it = Interaction(RecordedRequest("POST", "/v1/chat/completions", body=body), RecordedResponse(200, body=b"{}"))
    it = dataclasses.replace(it, api="openai-chat")
    src = ReplaySource(Index([("my-tests", it)]))
    c = Call("POST", "/v1/chat/completions", body=body.replace(b"gpt-4o", b"gpt-4o-mini"))
    assert src.answer(c, route_for("openai-chat"), openai_chat.CODEC.parse_request(c), opts()) is None
    err = src.miss_error(c, ["my-tests"])
    assert err.kind is ErrorKind.INVALID_REQUEST and err.code == "cassette_miss"
    assert "cassette(s) my-tests" in err.message
    assert "POST /v1/chat/completions" in err.message
    assert "model: recorded 'gpt-4o', got 'gpt-4o-mini'" in err.message
    rendered = openai_chat.CODEC.render_error(err, opts())
    assert rendered.status == 400 and b"cassette_miss" in rendered.body


def test_miss_error_with_empty_index_and_used_up_recordings() -> None:
    c = Call("POST", "/v1/chat/completions", body=b"{}")
    assert "hold no interactions" in ReplaySource(Index()).miss_error(c, ["a", "b"]).message
    it = Interaction(RecordedRequest("POST", c.path, body=b"{}"), RecordedResponse(200, body=b"{}"), "openai-chat")
    src = ReplaySource(Index([("a", it)], MatchConfig(repeat="none")))
    assert src.answer(c, None, None, opts()) is not None
    assert src.answer(c, None, None, opts()) is None
    assert "used up" in src.miss_error(c, ["a"]).message


def test_spread_ends_at_end_and_bookkeeping_rides_along() -> None:
    frames = (Frame(b"s", paced=False), Frame(b"a"), Frame(b"k", paced=False), Frame(b"b"), Frame(b"e", paced=False))
    assert [f.at for f in spread(frames, 1.0)] == [0.5, 0.5, 0.5, 1.0, 1.0]


@needs_fixtures
def test_gemini_sse_recording_answers_json_array_stream_call() -> None:
    d = load(GEM_STREAM)
    it = fixture_interaction(d)
    c = Call("POST", d["request"]["path"], {"model": "gemini-2.0-flash-exp"}, {}, {}, it.request.body)
    req = gemini.CODEC.parse_request(c)
    ans = ReplaySource(Index([("cas", it)])).answer(c, route_for("gemini"), req, opts(), 1.0, "recorded")
    assert ans is not None and ans.stream
    chunks = json.loads(ans.body)
    assert isinstance(chunks, list) and chunks[0]["candidates"][0]["content"]["parts"][0]["text"]
    assert ans.frames[-1].at == pytest.approx(it.response.end_us / 1e6)
    sse = ReplaySource(Index([("cas", it)])).answer(
        fixture_call(d), route_for("gemini"), gemini.CODEC.parse_request(fixture_call(d)), opts()
    )
    assert sse is not None and sse.body == it.response.raw


def test_an_unreadable_recording_is_a_server_error_naming_it() -> None:
    req = RecordedRequest("POST", "/v1/chat/completions", (), (), b"{}")
    bad = LazyEvents(b"\x91\x91\x01")  # one event of one field
    resp = RecordedResponse(200, (("content-type", "text/event-stream"),), None, bad, 10, 20)
    it = Interaction(req, resp, "openai-chat", "chat", "2025-11-26T06:00:00Z")
    with pytest.raises(ApiError) as err:
        render(it, None, None, RenderOptions(), 1.0, "recorded")
    assert err.value.kind is ErrorKind.SERVER
    assert "POST /v1/chat/completions recorded 2025-11-26T06:00:00Z is unreadable" in str(err.value)
