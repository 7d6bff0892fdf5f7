"""Every kind of answer a rule gives, as each official SDK reads it, streamed and not: text, tool calls (fixed and
generated), structured JSON (fixed and generated), thinking, refusal, finish, usage, timing, placeholders and
a cassette's recording."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import anthropic
import jsonschema
import openai
import pydantic
import pytest
from google.genai import types

from tests.rules.sdk.common import (
    CASES,
    CUT,
    HTTP,
    HTTP2,
    IDS,
    MODELS,
    ORDER,
    TEMPERATURE,
    TOOLS,
    Ask,
    Got,
    journal,
    put_rules,
    status_of,
)
from tests.rules.sdk.drive import ask, gemini_client
from tests.rules.sdk.test_matchers import SUNNY, after_result

pytestmark = pytest.mark.sdk

FOX = "The quick brown fox jumps over the lazy dog."
TOOL_FINISH = {"chat": "tool_calls", "responses": "tool_calls", "messages": "tool_use", "gemini": "STOP"}
STOP = {"chat": "stop", "responses": "completed", "messages": "end_turn", "gemini": "STOP"}
LENGTH = {"chat": "length", "responses": "incomplete", "messages": "max_tokens", "gemini": "MAX_TOKENS"}
FILTERED = {"chat": "content_filter", "responses": "incomplete", "messages": "refusal", "gemini": "SAFETY"}
CALL_ID = {"chat": "call_abc123", "responses": "call_abc123", "messages": "toolu_abc123"}


def _one(url: str, reply: dict[str, Any], match: dict[str, Any] | None = None) -> None:
    put_rules(url, [{"name": "r", "match": match or {}, "reply": reply}])


def test_text_exactly_and_in_chunks_of_the_rules_size(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    for size in (5, 1000):
        _one(url, {"text": FOX, "latency": {"chunk_size": size, "ttft_ms": 0, "gap_ms": 0}})
        got = ask(url, api, stream, Ask())
        assert (got.source, got.text, got.calls, got.finish) == ("rule:r#0", FOX, [], STOP[api])
        assert got.chunks == (math.ceil(len(FOX) / size) if stream else 0)


def test_tool_calls_fixed_and_generated_from_the_tools_schema(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    fixed = {"query": "rules reference", "limit": 2}
    calls = [{"name": "get_weather"}, {"name": "search_docs", "arguments": fixed, "id": "abc123"}]
    _one(url, {"text": "Let me look.", "tool_calls": calls})
    for _ in range(5):  # generated arguments differ from call to call; each validates
        got = ask(url, api, stream, Ask(tools=("get_weather", "search_docs")))
        assert (got.text, got.finish) == ("Let me look.", TOOL_FINISH[api])
        assert [name for name, _ in got.calls] == ["get_weather", "search_docs"]
        jsonschema.validate(got.calls[0][1], TOOLS["get_weather"])
        assert got.calls[1][1] == fixed
        if api in CALL_ID:
            assert got.ids[1] == CALL_ID[api]
            assert got.ids[0] != got.ids[1]


def test_a_call_to_a_tool_the_request_does_not_offer(url: str, case: tuple[str, bool]) -> None:
    """Fixed arguments are sent as they are; generated ones have no schema: the client's 400, never a 500."""
    api, stream = case
    put_rules(
        url,
        [
            {
                "name": "fixed",
                "match": {"last_user": "fixed"},
                "reply": {"tool_calls": [{"name": "nope", "arguments": {}}]},
            },
            {"name": "generated", "reply": {"tool_calls": [{"name": "nope"}]}},
        ],
    )
    assert ask(url, api, stream, Ask(user="fixed")).calls == [("nope", {})]
    with pytest.raises(Exception) as caught:
        ask(url, api, stream, Ask(user="generate", tools=("get_weather",)))
    assert status_of(caught.value) == 400 and "does not offer" in str(caught.value)


def test_structured_output_fixed(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    value = {"order_id": "A-1", "total": 12.5, "items": ["tea"], "note": "ünïcode"}
    _one(url, {"json": value})
    assert json.loads(ask(url, api, stream, Ask()).text) == value
    assert json.loads(ask(url, api, stream, Ask(schema=ORDER)).text) == value  # fixed: sent as it is


def test_structured_output_generated_from_the_requests_schema(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"json": "generate"})
    for _ in range(5):
        got = ask(url, api, stream, Ask(schema=ORDER))
        jsonschema.validate(json.loads(got.text), ORDER)
        assert got.finish == STOP[api]


def test_structured_output_generated_from_a_schema_in_the_prompt(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"json": "generate"})
    system = f"Answer only with JSON that validates against this JSON Schema:\n{json.dumps(ORDER)}"
    jsonschema.validate(json.loads(ask(url, api, stream, Ask(system=system)).text), ORDER)
    with pytest.raises(Exception) as caught:  # no schema anywhere: nothing to generate from
        ask(url, api, stream, Ask())
    assert status_of(caught.value) == 400 and "has none" in str(caught.value)


def test_thinking_before_the_answer(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"thinking": "The user greets me; greet back.", "text": "Hello!", "usage": {"reasoning_tokens": 6}})
    got = ask(url, api, stream, Ask(reasoning=True))
    assert got.text == "Hello!"
    if api == "chat":  # Chat Completions shows no reasoning, only its tokens
        usage = got.raw[-1].usage
        assert usage.completion_tokens_details.reasoning_tokens == 6
    else:
        assert got.thinking == "The user greets me; greet back."


def test_refusal_in_each_apis_own_way(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"refusal": "I can't help with {{last_user}}."})
    got = ask(url, api, stream, Ask(user="the password"))
    said = "I can't help with the password."
    if api in ("chat", "responses"):  # message.refusal; a refusal content part
        assert (got.refusal, got.text, got.finish) == (said, "", STOP[api])
    elif api == "messages":
        assert (got.refusal, got.text, got.finish) == (None, said, "refusal")
    else:
        assert (got.refusal, got.text, got.finish) == (None, said, "SAFETY")


@pytest.mark.parametrize("finish", ["length", "content_filter", "stop"])
def test_finish_reason_instead_of_the_usual(url: str, case: tuple[str, bool], finish: str) -> None:
    api, stream = case
    _one(url, {"text": "Cut", "finish": finish})
    expected = {"length": LENGTH, "content_filter": FILTERED, "stop": STOP}[finish][api]
    assert ask(url, api, stream, Ask()).finish == expected


def test_usage_overrides(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"text": FOX, "usage": {"input_tokens": 1234, "output_tokens": 56}})
    got = ask(url, api, stream, Ask())
    assert got.usage == (1234, 56)
    _one(url, {"text": FOX, "usage": {"output_tokens": 7}})
    assert ask(url, api, stream, Ask()).usage[1] == 7


@pytest.mark.parametrize(("outcome", "status"), [("429", 429), ("400", 400), ("401", 401), ("503", 503)])
def test_a_status_outcome_is_the_sdks_error(url: str, case: tuple[str, bool], outcome: str, status: int) -> None:
    api, stream = case
    _one(url, {"text": "never sent", "outcome": outcome})
    with pytest.raises(Exception) as caught:
        ask(url, api, stream, Ask())
    assert status_of(caught.value) == status
    if outcome == "429":
        kinds = {"chat": "RateLimitError", "responses": "RateLimitError", "messages": "RateLimitError"}
        assert type(caught.value).__name__ == kinds.get(api, "ClientError")


def test_a_stream_cut_short_raises_mid_stream(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"text": FOX, "outcome": "disconnect@6", "latency": {"chunk_size": 4}})
    got = Got()
    with pytest.raises(CUT):
        ask(url, api, stream, Ask(), got)
    if stream:  # the headers came, and some of the text, then the connection broke
        assert got.source == "rule:r#0"
        assert got.text and FOX.startswith(got.text) and got.text != FOX
    else:
        assert got.text == ""


def test_an_in_stream_error_event(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    if not stream:
        pytest.skip("an error event is a stream's; a whole answer would be a 500")
    _one(url, {"text": FOX, "outcome": "stream-error@6", "latency": {"chunk_size": 4}})
    got = Got()
    if api == "responses":  # the SDK hands the error and response.failed events over, it does not raise
        ask(url, api, stream, Ask(), got)
        assert got.finish == "failed"
    else:
        with pytest.raises(Exception) as caught:
            ask(url, api, stream, Ask(), got)
        assert "injected by llmreplay" in str(caught.value) or "Overloaded" in str(caught.value)
    assert FOX.startswith(got.text) and got.text != FOX


def test_an_outcome_alone_applies_to_the_synthetic_answer(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    _one(url, {"outcome": "disconnect@2"}, match={"last_user": "cut"})
    with pytest.raises(CUT):
        ask(url, api, stream, Ask(user="cut"))
    _one(url, {"outcome": "429"}, match={"last_user": "cut"})
    with pytest.raises(Exception) as caught:
        ask(url, api, stream, Ask(user="cut"))
    assert status_of(caught.value) == 429
    assert ask(url, api, stream, Ask(user="fine")).source == "synthetic"
    first = journal(url)[0]
    assert first["answered_by"] == {"rule": "r", "step": 0, "content": "synthetic"}


def test_placeholders_echo_the_request(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    text = (
        "You said {{last_user}} to {{model}} (turn {{turn}}, {{header.x-tenant}}, t={{body." + TEMPERATURE[api] + "}})"
    )
    put_rules(
        url,
        [
            {
                "name": "weather",
                "match": {"tool_result": {"name": "get_weather"}},
                # The same placeholders read every API's result (Gemini's is its functionResponse.response).
                "reply": {"text": "It is {{tool_result.get_weather.sky}}, {{tool_result.get_weather.temp}} degrees."},
            },
            {
                "name": "echo",
                "reply": {
                    "text": text,
                    "tool_calls": [{"name": "search_docs", "arguments": {"query": "{{last_user}}", "limit": 3}}],
                },
            },
        ],
    )
    got = ask(url, api, stream, Ask(user="hi there", model="acme-1", temperature=0.5, headers={"x-tenant": "acme"}))
    assert got.text == "You said hi there to acme-1 (turn 0, acme, t=0.5)"
    assert got.calls == [("search_docs", {"query": "hi there", "limit": 3})]
    assert ask(url, api, stream, after_result(SUNNY)).text == "It is sunny, 21 degrees."
    assert ask(url, api, stream, Ask(user="hi")).text == "You said hi to " + MODELS[api] + " (turn 0, , t=)"


CASSETTES = Path(__file__).resolve().parents[3] / "cassettes"
CASSETTE_TEXT = (
    "llmreplay stands in for the OpenAI, Anthropic and Gemini APIs: it records real traffic with the timing of every "
    "event and replays it, byte for byte, at the recorded pace."
)


@pytest.mark.parametrize(("api", "stream"), CASES, ids=IDS)
def test_a_cassettes_recording_rendered_for_whichever_api_asks(make_server: Any, api: str, stream: bool) -> None:
    url = make_server(cassettes={"dir": str(CASSETTES)}).url
    put_rules(url, [{"name": "recorded", "reply": {"cassette": {"name": "example", "index": 2}}}])
    got = ask(url, api, stream, Ask())
    assert (got.source, got.text, got.finish, got.usage) == ("rule:recorded#0", CASSETTE_TEXT, STOP[api], (12, 37))


class Line(pydantic.BaseModel):
    sku: str
    qty: int


class Order(pydantic.BaseModel):
    id: str
    status: Literal["open", "closed"]
    lines: list[Line]
    note: str | None


@pytest.mark.parametrize("api", ["chat", "chat-stream", "responses", "messages", "gemini"])
def test_the_sdks_structured_output_helpers_parse_generated_json(url: str, api: str) -> None:
    """``json: generate`` follows the schema each SDK derives from a pydantic model (strict, $defs, enums)."""
    _one(url, {"json": "generate"})
    user: Any = [{"role": "user", "content": "Order?"}]
    oai = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP)
    for _ in range(3):
        if api == "chat":
            parsed = oai.chat.completions.parse(model="gpt-4o", messages=user, response_format=Order)
            got = parsed.choices[0].message.parsed
        elif api == "chat-stream":
            with oai.chat.completions.stream(model="gpt-4o", messages=user, response_format=Order) as s:
                got = s.get_final_completion().choices[0].message.parsed
        elif api == "responses":
            got = oai.responses.parse(model="gpt-4o", input=user, text_format=Order).output_parsed
        elif api == "messages":
            claude = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0, http_client=HTTP2)
            kw: Any = {"model": MODELS["messages"], "max_tokens": 1024, "messages": user, "output_format": Order}
            got = claude.messages.parse(**kw).parsed_output
        else:
            config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Order)
            models = gemini_client(url, {}, 10).models
            got = models.generate_content(model=MODELS["gemini"], contents="Order?", config=config).parsed
        assert isinstance(got, Order)
