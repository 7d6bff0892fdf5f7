"""After a tool's result the synthetic model answers in text, so an agent loop ends: each SDK, even with
TOOL_CALL_PROBABILITY at 1.0 (issue 17, agent-aware synthesis)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from llmreplay.server import BackgroundServer
from tests.conftest import settings

ROUNDS = 20
WEATHER = {
    "type": "object",
    "properties": {"location": {"type": "string"}},
    "required": ["location"],
}


def _server(after: float) -> Iterator[BackgroundServer]:
    synthetic = {"tool_call_probability": 1.0, "tool_call_after_result_probability": after}
    with BackgroundServer(settings(synthetic=synthetic)) as s:
        yield s


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    for s in _server(0.0):
        yield s.url


@pytest.fixture(scope="module")
def eager_url() -> Iterator[str]:
    for s in _server(1.0):
        yield s.url


def chat_loop(url: str) -> list[str]:
    """A two-turn agent loop with Chat Completions: what each turn's reply was (a tool call, or text)."""
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    tools: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    kinds = []
    for _ in range(3):
        msg = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools).choices[0].message
        if not msg.tool_calls:
            kinds.append("text")
            break
        kinds.append("tool")
        call = msg.tool_calls[0]
        messages.append(msg.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"celsius": 21}'})
    return kinds


def responses_loop(url: str) -> list[str]:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
    items: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    kinds = []
    for _ in range(3):
        resp = client.responses.create(model="gpt-4o", input=items, tools=tools)
        calls = [o for o in resp.output if o.type == "function_call"]
        if not calls:
            kinds.append("text")
            break
        kinds.append("tool")
        items += [calls[0].model_dump(exclude_none=True)]
        items.append({"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"celsius": 21}'})
    return kinds


def messages_loop(url: str) -> list[str]:
    client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
    tools: Any = [{"name": "get_weather", "input_schema": WEATHER}]
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    kinds = []
    for _ in range(3):
        msg = client.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=messages, tools=tools)
        uses = [b for b in msg.content if b.type == "tool_use"]
        if not uses:
            kinds.append("text")
            break
        kinds.append("tool")
        messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]})
        result = {"type": "tool_result", "tool_use_id": uses[0].id, "content": '{"celsius": 21}'}
        messages.append({"role": "user", "content": [result]})
    return kinds


def gemini_loop(url: str) -> list[str]:
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=url))
    decl = types.FunctionDeclaration(name="get_weather", parameters_json_schema=WEATHER)
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[decl])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])]
    kinds = []
    for _ in range(3):
        resp = client.models.generate_content(model="gemini-2.5-flash", contents=contents, config=config)
        calls = resp.function_calls or []
        if not calls:
            kinds.append("text")
            break
        kinds.append("tool")
        contents.append(resp.candidates[0].content)
        answer = types.Part.from_function_response(name=calls[0].name or "", response={"celsius": 21})
        contents.append(types.Content(role="user", parts=[answer]))
    return kinds


LOOPS = {"chat": chat_loop, "responses": responses_loop, "messages": messages_loop, "gemini": gemini_loop}


@pytest.mark.sdk
@pytest.mark.parametrize("api", LOOPS)
def test_an_agent_loop_ends_in_text_after_one_tool_round(url: str, api: str) -> None:
    runs = [LOOPS[api](url) for _ in range(ROUNDS)]
    assert runs == [["tool", "text"]] * ROUNDS


@pytest.mark.sdk
@pytest.mark.parametrize("api", LOOPS)
def test_a_setting_brings_calls_after_a_result_back(eager_url: str, api: str) -> None:
    assert LOOPS[api](eager_url) == ["tool", "tool", "tool"]
