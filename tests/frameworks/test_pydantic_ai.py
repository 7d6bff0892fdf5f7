"""pydantic-ai's own agent loop with one tool, on each model class that takes a base URL (OpenAI Chat Completions
and Responses, Anthropic, Gemini), against a server that calls a tool whenever it may: every run calls the tool
once and ends in text (issue 17).

pydantic-ai reports to logfire only where logfire is installed and configured; the lock has logfire-api, its
no-op stand-in, so nothing leaves the machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.frameworks.conftest import PROMPT, RUNS, Weather, every_run_ended

pydantic_ai = pytest.importorskip("pydantic_ai")
openai_models = pytest.importorskip("pydantic_ai.models.openai")
openai_providers = pytest.importorskip("pydantic_ai.providers.openai")
anthropic_models = pytest.importorskip("pydantic_ai.models.anthropic")
anthropic_providers = pytest.importorskip("pydantic_ai.providers.anthropic")
google_models = pytest.importorskip("pydantic_ai.models.google")
google_providers = pytest.importorskip("pydantic_ai.providers.google")

pytestmark = pytest.mark.sdk


# The SDKs' own retries are off: a retried error would pass for a clean run.
def _openai(url: str) -> Any:
    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-llmreplay", max_retries=0)
    return openai_providers.OpenAIProvider(openai_client=client)


def chat(url: str) -> Any:
    return openai_models.OpenAIChatModel("gpt-4o", provider=_openai(url))


def responses(url: str) -> Any:
    return openai_models.OpenAIResponsesModel("gpt-4o", provider=_openai(url))


def messages(url: str) -> Any:
    client = anthropic.AsyncAnthropic(base_url=url, api_key="sk-ant-llmreplay", max_retries=0)
    provider = anthropic_providers.AnthropicProvider(anthropic_client=client)
    return anthropic_models.AnthropicModel("claude-sonnet-4-6", provider=provider)


def gemini(url: str) -> Any:
    provider = google_providers.GoogleProvider(base_url=url, api_key="llmreplay")
    return google_models.GoogleModel("gemini-2.5-flash", provider=provider)


MODELS: dict[str, Callable[[str], Any]] = {
    "chat": chat,
    "responses": responses,
    "anthropic": messages,
    "gemini": gemini,
}


def turns(messages: list[Any]) -> list[str]:
    """Each model response of the run: a tool call, or text."""
    return [
        "tool" if any(p.part_kind == "tool-call" for p in m.parts) else "text" for m in messages if m.kind == "response"
    ]


async def run(agent: Any, streamed: bool) -> tuple[list[Any], object]:
    if not streamed:
        result = await agent.run(PROMPT)
        return result.all_messages(), result.output
    async with agent.run_stream(PROMPT) as stream:
        output = await stream.get_output()
    return stream.all_messages(), output


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", MODELS)
async def test_every_run_ends_in_text_after_one_tool_round(eager: BackgroundServer, api: str, streamed: bool) -> None:
    weather = Weather()
    # retries=0: a tool call whose arguments fail validation ends the run instead of being quietly asked again.
    agent = pydantic_ai.Agent(MODELS[api](eager.url), instructions="Answer with the weather.", retries=0)
    agent.tool_plain(weather.tool())
    verdicts = []
    for _ in range(RUNS):
        messages, output = await run(agent, streamed)
        verdicts.append(weather.verdict(turns(messages), output))
    every_run_ended(verdicts)
