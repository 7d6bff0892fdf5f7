"""The four APIs asked through their official SDKs with a content fault in ``x-llmreplay-fault``: each helper
returns what the SDK gives the application (the final completion, response, message or the Gemini chunks
joined), streamed or not."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
from google import genai
from google.genai import types
from pydantic import BaseModel

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
QUESTION = "What is the weather in Paris?"


class Weather(BaseModel):
    city: str
    days: int


def fault(kind: str) -> dict[str, str]:
    """The header asking for ``kind``; none for ``""`` (the configured mix, a scenario or a rule decides)."""
    return {"x-llmreplay-fault": kind} if kind else {}


def oai(srv: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)


def chat(srv: Any, kind: str, stream: bool, tools: bool = False, model: str = "gpt-4o") -> Any:
    """A chat completion; with ``tools`` a weather tool is offered (strict: the SDK parses its arguments)."""
    kw: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": QUESTION}],
        "extra_headers": fault(kind),
    }
    if tools:
        kw["tools"] = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]
    c = oai(srv).chat.completions
    if stream:
        with c.stream(**kw) as s:
            return s.get_final_completion()
    return c.create(**kw)


def chat_parse(srv: Any, kind: str, stream: bool) -> Any:
    """``parse()`` (or ``stream()``) with a Pydantic response format: what raises on a bad finish or schema."""
    kw: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": QUESTION}],
        "response_format": Weather,
        "extra_headers": fault(kind),
    }
    c = oai(srv).chat.completions
    if stream:
        with c.stream(**kw) as s:
            return s.get_final_completion()
    return c.parse(**kw)


def responses(srv: Any, kind: str, stream: bool, tools: bool = False, parse: bool = False) -> Any:
    kw: dict[str, Any] = {"model": "gpt-4o", "input": QUESTION, "extra_headers": fault(kind)}
    if tools:
        kw["tools"] = [{"type": "function", "name": "get_weather", "parameters": WEATHER, "strict": False}]
    if parse:
        kw["text_format"] = Weather
    r = oai(srv).responses
    if stream:
        # The last event's response: an incomplete one ends with response.incomplete, not response.completed
        # (on which the SDK's stream helper insists), as the real API ends it.
        ends = ("response.completed", "response.incomplete", "response.failed")
        return [e.response for e in r.create(stream=True, **kw) if e.type in ends][-1]
    return r.parse(**kw) if parse else r.create(**kw)


def claude(srv: Any, kind: str, stream: bool, tools: bool = False, model: str = "claude-sonnet-4-5") -> Any:
    kw: dict[str, Any] = {
        "model": model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": QUESTION}],
        "extra_headers": fault(kind),
    }
    if tools:
        kw["tools"] = [{"name": "get_weather", "input_schema": WEATHER}]
    m = anthropic.Anthropic(base_url=srv.url, api_key="sk-ant-test", max_retries=0).messages
    if stream:
        with m.stream(**kw) as s:
            return s.get_final_message()
    return m.create(**kw)


def gemini(srv: Any, kind: str, stream: bool, tools: bool = False, model: str = "gemini-2.5-flash") -> list[Any]:
    """Every response the SDK yields (one when not streamed)."""
    http = types.HttpOptions(base_url=srv.url, headers=fault(kind))
    client = genai.Client(api_key="AIza-test", http_options=http)
    config = None
    if tools:
        decl = types.FunctionDeclaration(name="get_weather", parameters_json_schema=WEATHER)
        config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[decl])])
    if stream:
        return list(client.models.generate_content_stream(model=model, contents=QUESTION, config=config))
    return [client.models.generate_content(model=model, contents=QUESTION, config=config)]
