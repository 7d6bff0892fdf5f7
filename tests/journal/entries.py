"""Journal entries made by hand, as the road makes them: a call, its neutral view, and what answered."""

from __future__ import annotations

import json
from typing import Any

from llmreplay.journal import Entry
from llmreplay.model import Call, Candidate, Finish, Message, Reply, Request, Text, Tool, ToolCall, ToolResult, Usage

# Built at run time, so that nothing shaped like a real key is kept in the repository.
FAKE_KEY = "sk" + "-fakeKEY0123456789abcdefXYZ"
"""Shaped like an OpenAI key; it must never show in the journal's output."""
T0 = 1_735_689_600.0
"""2025-01-01T00:00:00Z."""

CHAT_BODY = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
}


def call(body: dict[str, Any] | bytes = CHAT_BODY, headers: dict[str, str] | None = None, **query: str) -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", "/v1/chat/completions", query=query, headers=headers or {}, body=raw)


def neutral(model: str = "gpt-4o") -> Request:
    return Request(
        api="openai-chat",
        endpoint="chat-completions",
        model=model,
        system="Be brief.",
        messages=(
            Message("user", "What is the weather in Paris?"),
            Message("assistant", '{"name": "get_weather"}'),
            Message("tool", '{"temp": 21}', (ToolResult("call_1", "get_weather", '{"temp": 21}'),)),
        ),
        tools=(Tool("get_weather", "The weather", {"type": "object", "properties": {"city": {"type": "string"}}}),),
    )


def reply(text: str = "It is 21 °C in Paris.", tool: bool = False) -> Reply:
    parts: tuple[Text | ToolCall, ...] = (Text(text),)
    finish = Finish.STOP
    if tool:
        parts = (ToolCall("c1", "get_weather", '{"city": "Paris"}'),)
        finish = Finish.TOOL_CALLS
    return Reply("r1", "gpt-4o", 1, (Candidate(parts, finish),), Usage(12, 7))


def entry(
    n: int,
    *,
    t: float | None = None,
    test_id: str | None = None,
    endpoint: str = "chat-completions",
    model: str = "gpt-4o",
    source: str | None = "synthetic",
    done: bool = True,
    **kw: Any,
) -> Entry:
    e = Entry(
        id=f"req_{n:024x}",
        time=T0 + n if t is None else t,
        test_id=test_id,
        endpoint=endpoint,
        method="POST",
        path="/v1/chat/completions",
        model=model,
        call=kw.pop("call", None) or call(),
        request=kw.pop("request", None) or neutral(model),
        reply=kw.pop("reply", None) or reply(),
        source=source,
        answered_by={"synthetic": True} if source == "synthetic" else None,
        status=200,
        duration_ms=12.5,
        input_tokens=12,
        output_tokens=7,
        done=done,
        **kw,
    )
    return e
