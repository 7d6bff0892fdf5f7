"""The OpenAI Agents SDK's own loop (``Runner``) with one tool, on the Responses and the Chat Completions model,
against a server that calls a tool whenever it may: every run calls the tool once and ends in text (issue 17)."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.frameworks.conftest import PROMPT, RUNS, Weather, every_run_ended

agents = pytest.importorskip("agents")

pytestmark = pytest.mark.sdk

# Else every run's trace is uploaded to OpenAI's platform; these tests reach nothing but 127.0.0.1.
agents.set_tracing_disabled(True)

MODELS = {"responses": "OpenAIResponsesModel", "chat": "OpenAIChatCompletionsModel"}


def turns(result: Any) -> list[str]:
    """Each model response of the run: a tool call, or text."""
    return ["tool" if any(o.type == "function_call" for o in r.output) else "text" for r in result.raw_responses]


async def run(agent: Any, streamed: bool) -> Any:
    if not streamed:
        return await agents.Runner.run(agent, PROMPT)
    result = agents.Runner.run_streamed(agent, PROMPT)
    async for _ in result.stream_events():
        pass
    return result


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", MODELS)
async def test_every_run_ends_in_text_after_one_tool_round(eager: BackgroundServer, api: str, streamed: bool) -> None:
    client = openai.AsyncOpenAI(base_url=f"{eager.url}/v1", api_key="sk-llmreplay", max_retries=0)
    model = getattr(agents, MODELS[api])(model="gpt-4o", openai_client=client)
    weather = Weather()
    agent = agents.Agent(
        name="forecaster",
        instructions="Answer with the weather.",
        model=model,
        tools=[agents.function_tool(weather.tool())],
    )
    verdicts = []
    for _ in range(RUNS):
        result = await run(agent, streamed)
        verdicts.append(weather.verdict(turns(result), result.final_output))
    await client.close()
    every_run_ended(verdicts)
