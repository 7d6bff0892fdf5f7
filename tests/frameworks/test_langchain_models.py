"""LangChain's chat models, unchanged but for the base URL, against a real server.

Frameworks build on the official SDKs and parse what they return strictly (tool-call arguments,
usage, stream chunks), so a framework working is a second opinion on the wire format.
Skipped where langchain-openai or langchain-anthropic is not installed.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmreplay.server import BackgroundServer

pytestmark = pytest.mark.sdk

PROMPT = "What is the weather in Paris?"
WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "unit"],
}
TOOL = {"name": "get_weather", "description": "Weather for a city.", "parameters": WEATHER}


def chat_openai(server: BackgroundServer) -> Any:
    lc = pytest.importorskip("langchain_openai")
    return lc.ChatOpenAI(model="gpt-4o", base_url=f"{server.url}/v1", api_key="sk-llmreplay", max_retries=0)


def chat_anthropic(server: BackgroundServer) -> Any:
    lc = pytest.importorskip("langchain_anthropic")
    return lc.ChatAnthropic(
        model="claude-sonnet-4-6", base_url=server.url, api_key="sk-ant-llmreplay", max_tokens=512, max_retries=0
    )


MODELS = {"openai": chat_openai, "anthropic": chat_anthropic}


@pytest.mark.parametrize("provider", MODELS)
def test_invoke(server: BackgroundServer, provider: str) -> None:
    reply = MODELS[provider](server).invoke(PROMPT)
    assert isinstance(reply.content, str) and reply.content
    assert reply.usage_metadata["output_tokens"] > 0
    assert reply.usage_metadata["total_tokens"] == (
        reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"]
    )


@pytest.mark.parametrize("provider", MODELS)
def test_stream(server: BackgroundServer, provider: str) -> None:
    chunks = list(MODELS[provider](server).stream(PROMPT))
    text = "".join(c.content for c in chunks if isinstance(c.content, str))
    assert len(chunks) > 1
    assert text


@pytest.mark.parametrize("provider", MODELS)
def test_stream_usage(server: BackgroundServer, provider: str) -> None:
    model = MODELS[provider](server)
    if provider == "openai":
        model = model.model_copy(update={"stream_usage": True})
    total = None
    for chunk in model.stream(PROMPT):
        total = chunk if total is None else total + chunk
    assert total is not None and total.usage_metadata["output_tokens"] > 0


@pytest.mark.parametrize("provider", MODELS)
def test_bound_tool_is_called(server: BackgroundServer, provider: str) -> None:
    model = MODELS[provider](server).bind_tools([{"type": "function", "function": TOOL}], tool_choice="get_weather")
    reply = model.invoke(PROMPT)
    assert not reply.invalid_tool_calls
    (call,) = reply.tool_calls
    assert call["name"] == "get_weather"
    assert set(WEATHER["required"]) <= set(call["args"])
    assert call["args"]["unit"] in WEATHER["properties"]["unit"]["enum"]
    assert call["id"]


@pytest.mark.parametrize("provider", MODELS)
def test_streamed_tool_call_assembles(server: BackgroundServer, provider: str) -> None:
    model = MODELS[provider](server).bind_tools([{"type": "function", "function": TOOL}], tool_choice="get_weather")
    total = None
    for chunk in model.stream(PROMPT):
        total = chunk if total is None else total + chunk
    assert total is not None
    (call,) = total.tool_calls
    assert call["name"] == "get_weather"
    assert set(WEATHER["required"]) <= set(call["args"])
