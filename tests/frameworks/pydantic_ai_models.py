"""pydantic-ai's model classes pointed at a server, one per API that takes a base URL: the agent-loop and
prompted-JSON tests share them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

pydantic_ai = pytest.importorskip("pydantic_ai")
openai_models = pytest.importorskip("pydantic_ai.models.openai")
openai_providers = pytest.importorskip("pydantic_ai.providers.openai")
anthropic_models = pytest.importorskip("pydantic_ai.models.anthropic")
anthropic_providers = pytest.importorskip("pydantic_ai.providers.anthropic")
google_models = pytest.importorskip("pydantic_ai.models.google")
google_providers = pytest.importorskip("pydantic_ai.providers.google")


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
