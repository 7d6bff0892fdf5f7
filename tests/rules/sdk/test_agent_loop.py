"""An agent loop scripted by rules, run to its end by each official SDK, streamed and not: the model calls
``get_weather``, the app runs it and sends its result back with the SDK's own objects, the model answers in
text that quotes the result. Streams are put back together the way apps do (the SDKs' stream helpers)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from google.genai import types

from tests.rules.sdk.common import CASES, HTTP, HTTP2, IDS, MODELS, TOOLS, journal, put_rules
from tests.rules.sdk.drive import gemini_client

pytestmark = pytest.mark.sdk

RULES = [
    {
        "name": "answer-the-result",
        "match": {"tool_result": {"name": "get_weather"}},
        "reply": {"text": "Here it is: {{tool_result}}"},
    },
    {
        "name": "call-the-tool",
        "match": {
            "last_user": {"contains": "weather", "ignore_case": True},
            "tools": "get_weather",
            "tool_result": False,
        },
        "reply": {"text": "Checking.", "tool_calls": [{"name": "get_weather"}]},
    },
]
QUESTION = "What's the weather in Paris?"
MAX_ROUNDS = 4


def run_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
    assert name == "get_weather" and isinstance(args["city"], str)
    return {"city": args["city"], "sky": "sunny", "temp": 21}


Loop = Callable[[str, bool, list[dict[str, Any]]], str]
"""An app's agent loop against a server: its final answer; each tool result it sent is appended to the list."""


def chat_loop(url: str, stream: bool, sent: list[dict[str, Any]]) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP)
    tools: Any = [{"type": "function", "function": {"name": "get_weather", "parameters": TOOLS["get_weather"]}}]
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    for _ in range(MAX_ROUNDS):
        if stream:
            with client.chat.completions.stream(model=MODELS["chat"], messages=messages, tools=tools) as s:
                message = s.get_final_completion().choices[0].message
        else:
            message = client.chat.completions.create(model=MODELS["chat"], messages=messages, tools=tools)
            message = message.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True, exclude={"parsed"}))
        for call in message.tool_calls:
            result = run_tool(call.function.name, json.loads(call.function.arguments))
            sent.append(result)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    raise AssertionError("the loop did not end")


def responses_loop(url: str, stream: bool, sent: list[dict[str, Any]]) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP)
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": TOOLS["get_weather"]}]
    items: list[Any] = [{"role": "user", "content": QUESTION}]
    for _ in range(MAX_ROUNDS):
        if stream:
            with client.responses.stream(model=MODELS["responses"], input=items, tools=tools) as s:
                response = s.get_final_response()
        else:
            response = client.responses.create(model=MODELS["responses"], input=items, tools=tools)
        calls = [o for o in response.output if o.type == "function_call"]
        if not calls:
            return response.output_text
        items += [o.model_dump(exclude_none=True) for o in response.output]
        for call in calls:
            result = run_tool(call.name, json.loads(call.arguments))
            sent.append(result)
            items.append({"type": "function_call_output", "call_id": call.call_id, "output": json.dumps(result)})
    raise AssertionError("the loop did not end")


def messages_loop(url: str, stream: bool, sent: list[dict[str, Any]]) -> str:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0, http_client=HTTP2)
    tools: Any = [{"name": "get_weather", "input_schema": TOOLS["get_weather"]}]
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    kw: dict[str, Any] = {"model": MODELS["messages"], "max_tokens": 1024, "tools": tools}
    for _ in range(MAX_ROUNDS):
        if stream:
            with client.messages.stream(messages=messages, **kw) as s:
                message = s.get_final_message()
        else:
            message = client.messages.create(messages=messages, **kw)
        uses = [b for b in message.content if b.type == "tool_use"]
        if message.stop_reason != "tool_use":
            assert not uses
            return "".join(b.text for b in message.content if b.type == "text")
        messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
        results = []
        for use in uses:
            result = run_tool(use.name, dict(use.input))
            sent.append(result)
            results.append({"type": "tool_result", "tool_use_id": use.id, "content": json.dumps(result)})
        messages.append({"role": "user", "content": results})
    raise AssertionError("the loop did not end")


def gemini_loop(url: str, stream: bool, sent: list[dict[str, Any]]) -> str:
    models = gemini_client(url, {}, 10).models
    decl = types.FunctionDeclaration(name="get_weather", parameters_json_schema=TOOLS["get_weather"])
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[decl])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text=QUESTION)])]
    for _ in range(MAX_ROUNDS):
        if stream:
            chunks = list(models.generate_content_stream(model=MODELS["gemini"], contents=contents, config=config))
            parts = [p for ch in chunks for p in (ch.candidates[0].content.parts or [])]
        else:
            response = models.generate_content(model=MODELS["gemini"], contents=contents, config=config)
            parts = list(response.candidates[0].content.parts or [])
        calls = [p.function_call for p in parts if p.function_call is not None]
        if not calls:
            return "".join(p.text or "" for p in parts)
        contents.append(types.Content(role="model", parts=parts))
        answers = []
        for call in calls:
            result = run_tool(call.name or "", dict(call.args or {}))
            sent.append(result)
            answers.append(types.Part.from_function_response(name=call.name or "", response=result))
        contents.append(types.Content(role="user", parts=answers))
    raise AssertionError("the loop did not end")


LOOPS: dict[str, Loop] = {
    "chat": chat_loop,
    "responses": responses_loop,
    "messages": messages_loop,
    "gemini": gemini_loop,
}


@pytest.mark.parametrize(("api", "stream"), CASES, ids=IDS)
def test_an_agent_loop_scripted_by_rules_runs_to_its_end(make_server: Any, api: str, stream: bool) -> None:
    url = make_server(synthetic={"tool_call_probability": 1.0, "tool_call_after_result_probability": 1.0}).url
    put_rules(url, RULES)
    for run in range(3):  # the rules hold for every run, not only the first
        sent: list[dict[str, Any]] = []
        answer = LOOPS[api](url, stream, sent)
        assert len(sent) == 1
        # A result's content is what the tool returned, for every API (docs/rules.md).
        assert answer == "Here it is: " + json.dumps(sent[0])
        entries = journal(url)[2 * run :]
        assert [e["answered_by"]["rule"] for e in entries] == ["call-the-tool", "answer-the-result"]
        results = entries[1]["neutral"]["messages"][-1]["results"]
        assert [r["name"] for r in results] == ["get_weather"]


def test_a_responses_loop_chained_by_previous_response_id(url: str) -> None:
    put_rules(url, RULES)
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP)
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": TOOLS["get_weather"]}]
    first = client.responses.create(model=MODELS["responses"], input=QUESTION, tools=tools)
    call = next(o for o in first.output if o.type == "function_call")
    output = json.dumps(run_tool(call.name, json.loads(call.arguments)))
    result = [{"type": "function_call_output", "call_id": call.call_id, "output": output}]
    second = client.responses.with_raw_response.create(
        model=MODELS["responses"], previous_response_id=first.id, input=result, tools=tools
    )
    assert second.headers["x-llmreplay-source"] == "rule:answer-the-result#0"
