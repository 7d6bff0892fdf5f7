"""Normalisers: generated ids and timestamps match as placeholders; the user's own rules; the significant fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmreplay.cassettes.differences import differences
from llmreplay.cassettes.keys import MatchConfig, key_of
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from llmreplay.cassettes.normalise import Rule, builtin
from llmreplay.model import Call

CHAT = "/v1/chat/completions"


def call(body: Any, path: str = CHAT) -> Call:
    return Call("POST", path, {}, {}, {}, json.dumps(body).encode())


def recorded(body: Any, path: str = CHAT, api: str | None = "openai-chat") -> Interaction:
    req = RecordedRequest("POST", path, (), (), json.dumps(body).encode())
    return Interaction(req, RecordedResponse(200, (), b"{}", None, 0, 0), api, "chat-completions" if api else "other")


def turn(call_id: str, when: str, epoch: int, question: str = "weather in Paris?") -> dict[str, Any]:
    return {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": call_id, "type": "function", "function": {"name": "call_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": call_id, "content": f"sunny at {when} ({epoch})"},
        ],
    }


def test_ids_are_numbered_by_first_appearance_and_times_become_placeholders() -> None:
    text = json.dumps(
        {
            "a": ["call_abc123XYZ45", "toolu_01ABCdef2345678", "call_abc123XYZ45"],
            "u": "123e4567-e89b-12d3-a456-426614174000",
            "t": "2026-12-06T10:00:00.123+02:00",
            "e": 1712345678,
            "name": "call_weather",
        }
    )
    out = json.loads(builtin(text, {}))
    assert out["a"] == ["call_<1>", "toolu_<2>", "call_<1>"]
    assert out["u"] == "uuid:<3>" and out["t"] == "<time>" and out["e"] == 1000000000
    assert out["name"] == "call_weather"  # no digit: a function's name, not an id


def test_an_id_field_holds_an_id_even_without_a_digit() -> None:
    # One in 68 of OpenAI's call ids has no digit in its 24 letters; in an id field it is numbered all the same.
    lettered = "call_abcdefghijklmnopqrstuvwX"
    body = turn(lettered, "t", 1)
    body["messages"][1]["tool_calls"][0]["function"]["name"] = "call_getWeatherNow"
    for text in (json.dumps(body), json.dumps(body, separators=(",", ":"))):
        out = json.loads(builtin(text, {}))
        assert out["messages"][1]["tool_calls"][0]["id"] == out["messages"][2]["tool_call_id"] == "call_<1>"
        assert out["messages"][1]["tool_calls"][0]["function"]["name"] == "call_getWeatherNow"
    # Quoted in free text, it is the same id; with no id field to hold it, a word like it stays as it is.
    quoted = turn(lettered, "t", 1)
    quoted["messages"][2]["content"] = f"result of {lettered}"
    assert json.loads(builtin(json.dumps(quoted), {}))["messages"][2]["content"] == "result of call_<1>"
    alone = json.dumps({"content": f"result of {lettered}"})
    assert json.loads(builtin(alone, {}))["content"] == f"result of {lettered}"
    assert json.loads(builtin(alone, {lettered: "call_<1>"}))["content"] == "result of call_<1>"
    idx = Index([("c", recorded(turn("call_A1b2C3d4E5f6", "t", 1)))])
    assert idx.lookup(call(turn(lettered, "t", 1))) is not None


def test_a_second_turn_matches_when_its_ids_and_times_differ() -> None:
    idx = Index([("c", recorded(turn("call_A1b2C3d4E5f6", "2026-12-06T10:00:00Z", 1765015200)))])
    again = call(turn("call_Z9y8X7w6V5u4", "2026-12-07T11:30:05Z", 1765107005))
    assert idx.lookup(again) is not None
    assert idx.lookup(call(turn("call_Z9y8X7w6V5u4", "2026-12-07T11:30:05Z", 1765107005, "rain in Oslo?"))) is None


def test_normalising_can_be_turned_off() -> None:
    cfg = MatchConfig(normalise=False)
    a = key_of(call(turn("call_A1b2C3d4E5f6", "t", 1)), cfg)
    assert a != key_of(call(turn("call_Z9y8X7w6V5u4", "t", 1)), cfg)


def test_an_unknown_field_counts_only_when_the_recording_has_it() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    idx = Index([("c", recorded(body)), ("c", recorded({**body, "x_extra": 1}))])
    assert idx.lookup(call({**body, "brand_new_field": True})) is idx._all[0][1]
    assert idx.lookup(call({**body, "x_extra": 1})) is idx._all[1][1]  # the recording with it is preferred
    assert idx.lookup(call({**body, "x_extra": 2})) is idx._all[0][1]
    # A significant field is never ignored: one the recording lacks is a miss.
    assert idx.lookup(call({**body, "temperature": 0.5})) is None
    assert (
        Index([("c", recorded(body))], MatchConfig(significant=("brand_new_field",))).lookup(
            call({**body, "brand_new_field": True})
        )
        is None
    )


def test_differences_see_what_the_key_sees() -> None:
    rec = recorded(turn("call_A1b2C3d4E5f6", "2026-12-06T10:00:00Z", 1765015200)).request
    got = call({**turn("call_Z9y8X7w6V5u4", "2026-12-07T11:30:05Z", 1, "rain?"), "new_sdk_field": 1})
    assert differences(rec, got, MatchConfig()) == [
        "messages.0.content: recorded 'weather in Paris?', got 'rain?'",
        "messages.2.content: recorded 'sunny at <time> (1000000000)', got 'sunny at <time> (1)'",
    ]


def test_user_rules_apply_at_a_path_or_to_the_whole_body() -> None:
    date = r"messages.*.content \d{4}-\d\d-\d\d -> <date>"
    cfg = MatchConfig(normalisers=(date, r"$ order-\d+ -> order-N"))
    a = {"model": "m", "messages": [{"role": "user", "content": "today is 2026-12-06, order-17"}]}
    b = {"model": "m", "messages": [{"role": "user", "content": "today is 2026-12-07, order-18"}]}
    assert key_of(call(a), cfg) == key_of(call(b), cfg) != key_of(call(a), MatchConfig())
    with pytest.raises(ValueError, match="PATH REGEX -> PLACEHOLDER"):
        Rule.parse("no arrow here")
    with pytest.raises(ValueError, match="not a valid regex"):
        MatchConfig(normalisers=("a ( -> b",))


def test_gemini_fields_and_the_model_in_the_path() -> None:
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    idx = Index([("g", recorded(body, path, "gemini"))])
    assert idx.lookup(call({**body, "labels": {"run": "7"}}, path)) is not None
    assert idx.lookup(call({**body, "generationConfig": {"temperature": 1}}, path)) is None
    assert idx.lookup(call(body, path.replace("2.5-flash", "2.0-flash"))) is None
