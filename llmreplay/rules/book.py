"""The rules in force: a global set and one per test, asked in order, with how often each has answered.

A test's rules (added with its test id) are asked before the global ones and only for that test's
exchanges; within a set the first rule that matches wins, and rules added at run time go before those
already there. Counts (``times``, where a sequence of steps stands) are kept per rule and per test id, so
tests sharing one server do not use up each other's steps. Every change builds new lists, never edits one
a request may be walking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from llmreplay.config import Settings
from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.rules.answer import Step
from llmreplay.rules.matchers import Matcher, View
from llmreplay.rules.spec import RuleSpec
from llmreplay.shaping.outcomes import Outcome

log = logging.getLogger("llmreplay.rules")

MAX_COUNTS = 10_000
"""Test ids a rule keeps counts for; beyond, the oldest are forgotten (a long-lived server runs many tests)."""


class Rule:
    """One rule, compiled: its matcher, its steps and the counts of its matches."""

    def __init__(self, name: str, spec: RuleSpec, steps: Sequence[Step]) -> None:
        self.name, self.spec = name, spec
        self.matcher = Matcher(spec.match)
        self.steps = tuple(steps)
        self.limit = spec.limit
        self.then = spec.then
        self.counts: dict[str | None, int] = {}
        """Matches taken, per test id (None: exchanges that name no test)."""

    def step_at(self, count: int) -> int | None:
        """The step that answers the match after ``count`` others, or None once the rule is used up."""
        if self.limit is not None and count >= self.limit:
            return None
        n = len(self.steps)
        if count < n:
            return count
        return count % n if self.then == "cycle" else n - 1

    def taken(self, key: str | None) -> None:
        counts = self.counts
        counts[key] = counts.pop(key, 0) + 1  # popped and set again: the latest used is the last to go
        if len(counts) > MAX_COUNTS:
            del counts[next(iter(counts))]

    def as_json(self, test_id: str | None = None, scope: str | None = None) -> dict[str, Any]:
        """The rule as given (its name filled in), with its matches: ``test_id``'s, or every test's together."""
        matches = self.counts.get(test_id, 0) if test_id is not None else sum(self.counts.values())
        return {"name": self.name, "test_id": scope, "matches": matches, "rule": self.doc()}

    def doc(self) -> dict[str, Any]:
        """The rule as JSON that parses back to the same rule (sharing it with other processes)."""
        named = self.spec.model_copy(update={"name": self.name})
        return named.model_dump(mode="json", by_alias=True, exclude_defaults=True)


class Hit:
    """A rule that matched an exchange: what its step asks of the road, and the answer it makes.

    Matching uses nothing up: :meth:`take` counts the match (once the exchange is admitted, or when the step's
    own outcome answered it early), so a refused request leaves the sequence where it was.
    """

    __slots__ = ("_key", "_rule", "_step", "_taken", "_view", "latency", "outcome", "rule", "step")

    def __init__(self, rule: Rule, index: int, view: View) -> None:
        self._rule, self._view, self._key = rule, view, view.ex.test_id
        self._step = step = rule.steps[index]
        self._taken = False
        self.rule = rule.name
        self.step = index
        """0-based."""
        self.outcome: Outcome | None = step.outcome
        """A fault or status this step answers with, for admission (the shaper applies it)."""
        self.latency = step.latency
        """Live latency fields this step overrides (``initial_delay_ms``, ``delay_ms``, ``jitter_ms``,
        ``chunk_size``)."""

    @property
    def has_reply(self) -> bool:
        """Whether the step makes the answer; else it only sets the outcome or timing of whatever answers."""
        return self._step.writes

    @property
    def makes_reply(self) -> bool:
        """Whether the step writes its answer here, rather than replaying a reply the real service made."""
        return self._step.writes and self._step.recorded is None

    def take(self) -> None:
        """Count the match and move the rule's sequence on; a second call does nothing."""
        if not self._taken:
            self._taken = True
            self._rule.taken(self._key)

    async def play(self, ex: Exchange) -> Answer:
        """The unshaped answer, rendered by the exchange's codec; says on the exchange what answered."""
        answer = self._step.answer(ex, self._view, time.time)
        ex.source = "rule"
        ex.answered_by = {"rule": self.rule, "step": self.step}
        return answer


class RuleBook:
    """The global rules and each test's, asked in order for every exchange."""

    def __init__(self, rules: Sequence[Rule] = (), cassettes_dir: str | None = None) -> None:
        self.cassettes_dir = cassettes_dir
        """Where ``cassette:`` answers are read from (the server's cassettes folder)."""
        self._global: tuple[Rule, ...] = tuple(rules)
        self._tests: dict[str, tuple[Rule, ...]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleBook:
        """The book of ``settings.rules.file`` (empty without one); raises ConfigError, one line per problem."""
        from llmreplay.rules.load import load_rules

        folder = settings.cassettes.dir
        path = settings.rules.file
        return cls(load_rules(path, cassettes_dir=folder) if path else (), cassettes_dir=folder)

    def __len__(self) -> int:
        return len(self._global) + sum(len(r) for r in self._tests.values())

    def rules(self, test_id: str | None = None) -> tuple[Rule, ...]:
        """The set of ``test_id`` (None: the global set)."""
        return self._global if test_id is None else self._tests.get(test_id, ())

    # ---- changes -------------------------------------------------------------------------------
    def replace(self, rules: Iterable[Rule], test_id: str | None = None) -> None:
        self._set(test_id, tuple(rules))

    def add(self, rules: Iterable[Rule], test_id: str | None = None) -> None:
        """Rules go before the set's others: a rule added later is asked first."""
        self._set(test_id, (*rules, *self.rules(test_id)))

    def clear(self, test_id: str | None = None) -> None:
        """None: every rule, global and every test's; else that test's rules, and its counts everywhere."""
        if test_id is None:
            self._global, self._tests = (), {}
        else:
            self._tests.pop(test_id, None)
            self.reset(test_id)

    def reset(self, test_id: str | None = None) -> None:
        """Counts and sequences back to the start: every test's, or only ``test_id``'s."""
        for rule in (*self._global, *(r for rs in self._tests.values() for r in rs)):
            if test_id is None:
                rule.counts.clear()
            else:
                rule.counts.pop(test_id, None)

    def _set(self, test_id: str | None, rules: tuple[Rule, ...]) -> None:
        if test_id is None:
            self._global = rules
        elif rules:
            self._tests[test_id] = rules
        else:
            self._tests.pop(test_id, None)

    # ---- sharing between processes -------------------------------------------------------------
    def docs(self, test_id: str | None = None) -> list[dict[str, Any]]:
        """A set as JSON that parses back to the same rules (what other processes are told)."""
        return [r.doc() for r in self.rules(test_id)]

    def take_shared(self, test_id: str | None, docs: list[dict[str, Any]] | None) -> None:
        """Another process changed ``test_id``'s set to ``docs`` (None: it cleared every rule). A set that does
        not load here (a newer version's, a cassette this process cannot read) is logged and left out."""
        if docs is None:
            self._global, self._tests = (), {}
            return
        from llmreplay.rules.load import RulesError, parse_rules

        try:
            rules = parse_rules(docs, "shared rules", self.cassettes_dir)
        except RulesError as exc:
            log.warning("llmreplay: ignored shared rules that do not load here:\n%s", exc)
            return
        self._set(test_id, tuple(rules))

    # ---- reading -------------------------------------------------------------------------------
    def listing(self, test_id: str | None = None) -> list[dict[str, Any]]:
        """As JSON, in the order they are asked: ``test_id``'s rules, then the global ones, with that test's
        matches; without a test id, the global rules then every test's, with all their matches."""
        if test_id is not None:
            own = [r.as_json(test_id, test_id) for r in self._tests.get(test_id, ())]
            return own + [r.as_json(test_id) for r in self._global]
        out = [r.as_json() for r in self._global]
        for tid, rules in self._tests.items():
            out += [r.as_json(scope=tid) for r in rules]
        return out

    def match(self, ex: Exchange) -> Hit | None:
        """The first rule that matches ``ex`` and is not used up, at its next step; uses nothing up."""
        if not self._global and not self._tests:
            return None
        view = View(ex)
        key = ex.test_id
        own = self._tests.get(key, ()) if key is not None else ()
        readable = ex.request is not None
        for rules in (own, self._global):
            for rule in rules:
                index = rule.step_at(rule.counts.get(key, 0))
                if index is None:
                    continue
                if not readable and not rule.steps[index].applies_without_request():
                    continue
                if rule.matcher(view):
                    return Hit(rule, index, view)
        return None
