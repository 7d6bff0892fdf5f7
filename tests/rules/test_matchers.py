"""Each matcher, on requests parsed by the real codecs."""

from __future__ import annotations

import json

import pytest

from tests.rules.helpers import PATHS, answered, book, chat, exchange, user

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _hits(match: dict, ex) -> bool:
    return answered(book({"name": "r", "match": match, "reply": {"text": "x"}}), ex) == "r"


def test_an_empty_match_matches_every_readable_call():
    assert _hits({}, exchange(PATHS["openai-chat"], chat(user("hi"))))


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"api": "openai-chat"}, True),
        ({"api": ["gemini", "openai-chat"]}, True),
        ({"api": "anthropic-messages"}, False),
        ({"provider": "openai"}, True),
        ({"provider": "anthropic"}, False),
        ({"endpoint": "chat-completions"}, True),
        ({"endpoint": "responses"}, False),
        ({"path": "/v1/chat/*"}, True),
        ({"path": "/v1/responses"}, False),
    ],
)
def test_api_provider_endpoint_and_path(match, expected):
    assert _hits(match, exchange(PATHS["openai-chat"], chat(user("hi")))) is expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", True),
        ("gpt-4o*", True),
        ("gpt-4", False),
        ({"regex": "^gpt-4o"}, True),
        ({"equals": "GPT-4O-MINI", "ignore_case": True}, True),
        ({"regex": "claude"}, False),
    ],
)
def test_model(model, expected):
    assert _hits({"model": model}, exchange(PATHS["openai-chat"], chat(user("hi")))) is expected


def test_model_of_gemini_is_the_paths():
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    assert _hits({"model": "gemini-2.0-*"}, exchange(PATHS["gemini"], body))


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("weather", True),
        ({"contains": "WEATHER", "ignore_case": True}, True),
        ({"regex": r"weather in \w+"}, True),
        ({"equals": "what is the weather in Paris?"}, True),
        ({"glob": "what*Paris?"}, True),
        ("rain", False),
    ],
)
def test_last_user(test, expected):
    ex = exchange(
        PATHS["openai-chat"],
        chat(user("hello"), {"role": "assistant", "content": "hi"}, user("what is the weather in Paris?")),
    )
    assert _hits({"last_user": test}, ex) is expected


def test_last_user_json_path_in_structured_content():
    doc = json.dumps({"order": {"items": [{"sku": "A1"}], "total": 12}})
    ex = exchange(PATHS["openai-chat"], chat(user(doc)))
    assert _hits({"last_user": {"json": {"order.items.0.sku": "A1", "order.total": 12}}}, ex)
    assert not _hits({"last_user": {"json": {"order.total": 13}}}, ex)
    assert _hits({"last_user": {"json": {"order.items.0.sku": {"regex": "^A"}}}}, ex)
    assert not _hits({"last_user": {"json": {"a": 1}}}, exchange(PATHS["openai-chat"], chat(user("not json"))))


def test_system_and_any_message():
    ex = exchange(PATHS["openai-chat"], chat({"role": "system", "content": "You are a pirate."}, user("ahoy")))
    assert _hits({"system": "pirate"}, ex)
    assert not _hits({"system": "ahoy"}, ex)
    assert _hits({"any_message": "ahoy"}, ex)
    assert _hits({"any_message": "pirate"}, ex)
    assert not _hits({"any_message": "parrot"}, ex)


def test_anthropic_system_is_the_system():
    body = {"model": "claude-x", "max_tokens": 10, "system": "Be brief.", "messages": [user("hi")]}
    assert _hits({"system": {"equals": "Be brief."}}, exchange(PATHS["anthropic-messages"], body))


def test_tools_offered():
    ex = exchange(PATHS["openai-chat"], chat(user("hi"), tools=[WEATHER_TOOL]))
    assert _hits({"tools": ["get_weather"]}, ex)
    assert _hits({"tools": "get_weather"}, ex)
    assert not _hits({"tools": ["get_weather", "get_time"]}, ex)
    assert not _hits({"tools": ["get_weather"]}, exchange(PATHS["openai-chat"], chat(user("hi"))))


def _after_tool(content: str = '{"sky": "sunny"}'):
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    return exchange(
        PATHS["openai-chat"],
        chat(
            user("weather?"),
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "content": content},
            tools=[WEATHER_TOOL],
        ),
    )


def test_tool_result():
    first = exchange(PATHS["openai-chat"], chat(user("weather?"), tools=[WEATHER_TOOL]))
    assert _hits({"tool_result": False}, first)
    assert not _hits({"tool_result": True}, first)
    assert _hits({"tool_result": True}, _after_tool())
    assert not _hits({"tool_result": False}, _after_tool())
    assert _hits({"tool_result": {"name": "get_weather"}}, _after_tool())
    assert _hits({"tool_result": {"name": "get_weather", "contains": "sunny"}}, _after_tool())
    assert _hits({"tool_result": {"json": {"sky": "sunny"}}}, _after_tool())
    assert not _hits({"tool_result": {"name": "get_time"}}, _after_tool())
    assert not _hits({"tool_result": {"contains": "rain"}}, _after_tool())


def test_tool_result_of_each_api():
    anthropic = {
        "model": "claude-x",
        "max_tokens": 10,
        "messages": [
            user("weather?"),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]},
        ],
    }
    assert _hits(
        {"tool_result": {"name": "get_weather", "contains": "sunny"}}, exchange(PATHS["anthropic-messages"], anthropic)
    )
    gemini = {
        "contents": [
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}]},
        ]
    }
    # Gemini's result is its functionResponse object (name and response), as the neutral request carries it.
    assert _hits({"tool_result": {"name": "get_weather", "json": {"sky": "sunny"}}}, exchange(PATHS["gemini"], gemini))
    responses = {
        "model": "gpt-4o",
        "input": [
            user("weather?"),
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
    }
    assert _hits(
        {"tool_result": {"name": "get_weather", "equals": "sunny"}}, exchange(PATHS["openai-responses"], responses)
    )


def test_turn():
    assert _hits({"turn": 0}, exchange(PATHS["openai-chat"], chat(user("hi"))))
    assert not _hits({"turn": 1}, exchange(PATHS["openai-chat"], chat(user("hi"))))
    assert _hits({"turn": 1}, _after_tool())
    assert _hits({"turn": {"min": 1}}, _after_tool())
    assert not _hits({"turn": {"max": 0}}, _after_tool())


def test_headers_in_any_case():
    ex = exchange(PATHS["openai-chat"], chat(user("hi")), headers={"X-Test": "abc-1"})
    assert _hits({"headers": {"x-test": "abc-1"}}, ex)
    assert _hits({"headers": {"X-TEST": {"glob": "abc-*"}}}, ex)
    assert not _hits({"headers": {"x-test": "abc"}}, ex)
    assert not _hits({"headers": {"x-other": "abc-1"}}, ex)


def test_body_paths():
    ex = exchange(PATHS["openai-chat"], chat(user("hi"), temperature=0, metadata={"user": "u-42"}, stream=False))
    assert _hits({"body": {"temperature": 0}}, ex)
    assert not _hits({"body": {"temperature": 1}}, ex)
    assert _hits({"body": {"metadata.user": {"regex": r"u-\d+"}}}, ex)
    assert _hits({"body": {"messages.0.role": "user"}}, ex)
    assert _hits({"body": {"stream": False}}, ex)
    assert not _hits({"body": {"stream": 0}}, ex)  # false is not 0
    assert not _hits({"body": {"absent": None}}, ex)


def test_all_matchers_must_hold():
    ex = exchange(PATHS["openai-chat"], chat(user("weather?"), tools=[WEATHER_TOOL]))
    assert _hits({"model": "gpt-*", "last_user": "weather", "tools": ["get_weather"], "turn": 0}, ex)
    assert not _hits({"model": "gpt-*", "last_user": "weather", "tools": ["get_weather"], "turn": 1}, ex)


def test_calls_without_a_neutral_request_match_only_by_endpoint_path_header_or_body():
    ex = exchange("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"})
    assert ex.request is None
    rules = book(
        {"name": "content", "match": {"model": "text-*"}, "reply": {"outcome": "429"}},
        {"name": "text", "match": {"endpoint": "embeddings"}, "reply": {"text": "no"}},
        {"name": "fault", "match": {"endpoint": "embeddings", "body": {"input": "hi"}}, "reply": {"outcome": "503"}},
    )
    assert answered(rules, ex) == "fault"
