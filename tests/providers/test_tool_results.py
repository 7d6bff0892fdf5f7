"""Every codec carries the tool results of a turn into the neutral request: call id, tool name, content."""

from __future__ import annotations

import json
from typing import Any

from llmreplay.model import Call, ToolResult
from llmreplay.providers import anthropic_messages, gemini, openai_chat, openai_responses

RESULT = '{"celsius": 21}'


def call(path: str, body: dict[str, Any], **params: str) -> Call:
    return Call("POST", path, params=params, body=json.dumps(body).encode())


def test_chat() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": RESULT},
        ],
    }
    last = openai_chat.CODEC.parse_request(call("/v1/chat/completions", body)).messages[-1]
    assert (last.role, last.results) == ("tool", (ToolResult("call_1", "get_weather", RESULT),))


def test_responses() -> None:
    body = {
        "model": "gpt-4o",
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": RESULT},
        ],
    }
    last = openai_responses.CODEC.parse_request(call("/v1/responses", body)).messages[-1]
    assert (last.role, last.results) == ("tool", (ToolResult("call_1", "get_weather", RESULT),))


def test_messages() -> None:
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": RESULT}]},
        ],
    }
    last = anthropic_messages.CODEC.parse_request(call("/v1/messages", body)).messages[-1]
    assert (last.role, last.results) == ("tool", (ToolResult("toolu_1", "get_weather", RESULT),))


def test_gemini() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Weather?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"celsius": 21}}}]},
        ]
    }
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    last = gemini.CODEC.parse_request(call(path, body, model="gemini-2.5-flash")).messages[-1]
    assert last.role == "tool"
    (result,) = last.results
    # The content is what the tool returned, as the other APIs' results are.
    assert (result.name, json.loads(result.content)) == ("get_weather", {"celsius": 21})


def test_a_turn_without_results_carries_none() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert openai_chat.CODEC.parse_request(call("/v1/chat/completions", body)).messages[-1].results == ()
