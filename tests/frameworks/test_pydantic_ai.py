"""pydantic-ai's own agent loop with one tool, on each model class that takes a base URL (OpenAI Chat Completions
and Responses, Anthropic, Gemini), against a server that calls a tool whenever it may: every run calls the tool
once and ends in text (issue 17).

pydantic-ai reports to logfire only where logfire is installed and configured; the lock has logfire-api, its
no-op stand-in, so nothing leaves the machine."""

from __future__ import annotations

from typing import Any

import pytest

from llmreplay.server import BackgroundServer
from tests.frameworks.conftest import PROMPT, RUNS, Weather, every_run_ended
from tests.frameworks.pydantic_ai_models import MODELS

pydantic_ai = pytest.importorskip("pydantic_ai")

pytestmark = pytest.mark.sdk


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
