"""LangChain's agent loop (``create_agent``, on LangGraph) with one tool, on ChatOpenAI (Chat Completions and
Responses), ChatAnthropic and ChatGoogleGenerativeAI, against a server that calls a tool whenever it may: every
run calls the tool once and ends in text (issue 17). LangSmith traces only where its tracing variables ask it to,
and these tests set none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmreplay.server import BackgroundServer
from tests.frameworks.conftest import PROMPT, RUNS, Weather, every_run_ended

agents = pytest.importorskip("langchain.agents")
lc_tools = pytest.importorskip("langchain_core.tools")
lc_openai = pytest.importorskip("langchain_openai")
lc_anthropic = pytest.importorskip("langchain_anthropic")
lc_google = pytest.importorskip("langchain_google_genai")

pytestmark = pytest.mark.sdk


# The SDKs' own retries are off: a retried error would pass for a clean run.
def chat(url: str) -> Any:
    return lc_openai.ChatOpenAI(model="gpt-4o", base_url=f"{url}/v1", api_key="sk-llmreplay", max_retries=0)


def responses(url: str) -> Any:
    return chat(url).model_copy(update={"use_responses_api": True})


def messages(url: str) -> Any:
    return lc_anthropic.ChatAnthropic(
        model="claude-sonnet-4-6", base_url=url, api_key="sk-ant-llmreplay", max_tokens=512, max_retries=0
    )


def gemini(url: str) -> Any:
    return lc_google.ChatGoogleGenerativeAI(model="gemini-2.5-flash", base_url=url, api_key="llmreplay", max_retries=0)


MODELS: dict[str, Callable[[str], Any]] = {
    "chat": chat,
    "responses": responses,
    "anthropic": messages,
    "gemini": gemini,
}


def run(agent: Any, streamed: bool) -> list[Any]:
    """The run's messages; streamed, the model's tokens come as they are made (LangGraph asks the chat model to
    stream when its messages are streamed) and the last state holds the messages."""
    inputs = {"messages": [{"role": "user", "content": PROMPT}]}
    if not streamed:
        return agent.invoke(inputs)["messages"]
    state: dict[str, Any] = {}
    for mode, data in agent.stream(inputs, stream_mode=["messages", "values"]):
        if mode == "values":
            state = data
    return state["messages"]


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "streamed"])
@pytest.mark.parametrize("api", MODELS)
def test_every_run_ends_in_text_after_one_tool_round(eager: BackgroundServer, api: str, streamed: bool) -> None:
    weather = Weather()
    tool = lc_tools.tool(weather.tool())
    agent = agents.create_agent(MODELS[api](eager.url), tools=[tool], system_prompt="Answer with the weather.")
    verdicts = []
    for _ in range(RUNS):
        said = [m for m in run(agent, streamed) if m.type == "ai"]
        turns = ["tool" if m.tool_calls else "text" for m in said]
        verdicts.append(weather.verdict(turns, said[-1].text if said else None))
    every_run_ended(verdicts)
