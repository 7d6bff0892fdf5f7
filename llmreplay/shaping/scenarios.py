"""Scenarios: sequences of outcomes consumed in order, one step per request, per key.

A client names the sequence inline (``x-llmreplay-scenario: 429,429,ok``) or by a
name defined through the admin API (``@name``), and groups its requests with
``x-llmreplay-scenario-key`` (default: the scenario text itself). The first
request with a new key starts the sequence; each later one takes the next step;
once the steps are used up every request is ``ok``. Keys are independent, so
parallel tests never interfere.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from llmreplay.shaping.outcomes import OK, Outcome, parse_sequence

MAX_KEYS = 10_000
"""Cursors kept; the least recently used key is forgotten first (memory stays bounded)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Outcome, ...]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "steps": [s.text for s in self.steps]}


class UnknownScenario(KeyError):
    pass


class ScenarioBook:
    """Named scenarios and the position of every key in its sequence."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.named: dict[str, Scenario] = {}
        self._cursors: OrderedDict[str, int] = OrderedDict()
        self._max_keys = max_keys
        self._parsed: dict[str, tuple[Outcome, ...]] = {}

    def define(self, name: str, steps: str | list[str]) -> Scenario:
        """Add or replace a named scenario; raises ValueError for bad steps."""
        text = steps if isinstance(steps, str) else ",".join(steps)
        scenario = Scenario(name, parse_sequence(text))
        self.named[name] = scenario
        self._forget_prefix(f"@{name}")
        return scenario

    def remove(self, name: str) -> bool:
        self._forget_prefix(f"@{name}")
        return self.named.pop(name, None) is not None

    def steps_of(self, spec: str) -> tuple[Outcome, ...]:
        """The steps a header names; raises ValueError / UnknownScenario."""
        if spec.startswith("@"):
            found = self.named.get(spec[1:])
            if found is None:
                raise UnknownScenario(spec[1:])
            return found.steps
        cached = self._parsed.get(spec)
        if cached is None:
            cached = parse_sequence(spec)
            if len(self._parsed) >= self._max_keys:
                self._parsed.clear()
            self._parsed[spec] = cached
        return cached

    def next(self, spec: str, key: str | None = None) -> Outcome:
        """The outcome for the next request of ``key`` following ``spec``."""
        steps = self.steps_of(spec)
        cursor_key = f"{spec}\0{key}" if key else spec
        i = self._cursors.pop(cursor_key, 0)
        self._cursors[cursor_key] = i + 1
        if len(self._cursors) > self._max_keys:
            self._cursors.popitem(last=False)
        return steps[i] if i < len(steps) else OK

    def reset(self) -> None:
        """Every key starts its sequence again."""
        self._cursors.clear()

    def _forget_prefix(self, spec: str) -> None:
        for k in [k for k in self._cursors if k == spec or k.startswith(spec + "\0")]:
            del self._cursors[k]
