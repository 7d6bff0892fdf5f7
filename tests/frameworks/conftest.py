"""A server whose synthetic model calls a tool on every turn it is free to (TOOL_CALL_PROBABILITY=1.0), the
rest on the defaults, and the one tool the agent loops are given."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings

RUNS = 100
"""Agent runs per framework and API: issue 17's number. Unseeded, so each run is a fresh draw."""
PROMPT = "What is the weather in Paris?"
ENDED = "text after one tool round"


@pytest.fixture(scope="package")
def eager() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings(synthetic={"tool_call_probability": 1.0})) as s:
        yield s


class Weather:
    """get_weather(city) for an agent, keeping the cities of the run under way: what the framework really
    called, whatever its own account of the run says."""

    def __init__(self) -> None:
        self.cities: list[str] = []

    def tool(self) -> Callable[[str], str]:
        def get_weather(city: str) -> str:
            """The current weather in a city."""
            self.cities.append(city)
            return json.dumps({"city": city, "celsius": 21, "sky": "clear"})

        return get_weather

    def verdict(self, turns: Iterable[str], final: object) -> str:
        """How a run went, and clears the calls for the next: :data:`ENDED` when the model's turns were one tool
        call and then text, the tool ran once with a city, and the run's output is that text."""
        turns, cities = list(turns), self.cities
        self.cities = []
        called_once = len(cities) == 1 and isinstance(cities[0], str)
        if turns == ["tool", "text"] and called_once and isinstance(final, str) and final.strip():
            return ENDED
        # Coarse, so that runs which went the same way are counted together.
        output = "text" if isinstance(final, str) and final.strip() else type(final).__name__
        return f"turns {turns}, {len(cities)} tool calls, output {output}"


def every_run_ended(verdicts: Iterable[str]) -> None:
    # Compared as a tally, so a failure shows every way the runs went, not only the first.
    assert Counter(verdicts) == Counter({ENDED: RUNS})
