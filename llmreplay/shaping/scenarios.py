"""Scenarios: sequences of outcomes consumed in order, one step per request, per key.

A client names the sequence inline (``x-llmreplay-scenario: 429,429,ok``) or by a
name defined through the admin API (``@name``), and groups its requests with
``x-llmreplay-scenario-key`` (default: the scenario text itself). The first
request with a new key starts the sequence; each later one takes the next step;
once the steps are used up every request is ``ok``. Keys are independent, so
parallel tests never interfere.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from llmreplay.shaping.outcomes import OK, Outcome, parse_sequence

MAX_KEYS = 10_000
"""Cursors kept; the least recently used key is forgotten first (memory stays bounded)."""
MAX_SPEC_CHARS = 4096
"""Longest scenario a request header may spell out (about 1,000 steps); a longer one is the provider's 400
naming the header. A named scenario (``@name``, defined through the admin API) may be longer."""
PARSED_CHARS = 262_144
"""Scenario text the parse cache holds in all. A parsed step costs 20–55 bytes per character of its text, so
this keeps the cache under ~15 MB, where 10,000 entries of any size let 1,000 distinct 15 KB headers keep
+820 MiB (issue 19, case 10)."""
_CURSOR_TEXT = 64
"""A spec or key longer than this is kept in a cursor's name as its digest."""


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Outcome, ...]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "steps": [s.text for s in self.steps]}


class UnknownScenario(KeyError):
    pass


class ParsedSpecs:
    """Scenario texts parsed once, the oldest forgotten first: bounded in entries and in characters of text."""

    def __init__(self, max_entries: int = MAX_KEYS, max_chars: int = PARSED_CHARS) -> None:
        self._parsed: OrderedDict[str, tuple[Outcome, ...]] = OrderedDict()
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._chars = 0

    @property
    def chars(self) -> int:
        """Characters of text held."""
        return self._chars

    def __len__(self) -> int:
        return len(self._parsed)

    def steps(self, text: str) -> tuple[Outcome, ...]:
        """``text`` parsed (raises ValueError); a text longer than the whole budget is parsed each time."""
        cached = self._parsed.get(text)
        if cached is not None:
            return cached
        cached = parse_sequence(text)
        if len(text) <= self._max_chars:
            while self._parsed and (
                len(self._parsed) >= self._max_entries or self._chars + len(text) > self._max_chars
            ):
                old, _ = self._parsed.popitem(last=False)
                self._chars -= len(old)
            self._parsed[text] = cached
            self._chars += len(text)
        return cached


def header_steps(specs: ParsedSpecs, spec: str) -> tuple[Outcome, ...]:
    """The steps an inline scenario header spells out; raises ValueError when it is too long or bad."""
    if len(spec) > MAX_SPEC_CHARS:
        raise ValueError(f"a scenario is at most {MAX_SPEC_CHARS} characters, this one is {len(spec)}")
    return specs.steps(spec)


def cursor_name(spec: str, key: str | None) -> str:
    """The cursor's name for (``spec``, ``key``): long texts as their digest, so that 10,000 cursors of
    16 KB headers do not hold 160 MB. A named spec stays readable, as redefining it forgets its cursors."""

    def short(text: str) -> str:
        if len(text) <= _CURSOR_TEXT:
            return text
        return "#" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    head = spec if spec.startswith("@") else short(spec)
    return f"{head}\0{short(key)}" if key else head


class ScenarioBook:
    """Named scenarios and the position of every key in its sequence."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        self.named: dict[str, Scenario] = {}
        self._cursors: OrderedDict[str, int] = OrderedDict()
        self._max_keys = max_keys
        self._parsed = ParsedSpecs(max_keys)

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
        return header_steps(self._parsed, spec)

    def next(self, spec: str, key: str | None = None) -> Outcome:
        """The outcome for the next request of ``key`` following ``spec``."""
        steps = self.steps_of(spec)
        cursor_key = cursor_name(spec, key)
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
