"""What a test asks of the exchanges it caused: how many calls, which tools were called and answered in what
order, what was sent, and whether anything went unanswered by a rule or a recording.

It reads journal entries as ``GET /api/requests`` returns them (JSON), so the same checks serve a test in
this process, one on another machine, or a script in another language that reads the admin API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

SCRIPTED = frozenset({"rule", "cassette"})
"""Sources that answer from the test's own script: anything else is unmatched in strict mode."""


@dataclass(frozen=True)
class ToolStep:
    """One step of an agent's tool trajectory: the model calling a tool, or the app sending its result."""

    kind: Literal["call", "result"]
    name: str
    arguments: Any = None
    """A call's arguments (parsed JSON where they parse)."""
    content: str | None = None
    """A result's content as the app sent it."""
    id: str = ""

    def __str__(self) -> str:
        return self.name if self.kind == "call" else f"{self.name} -> result"


class Exchanges(Sequence[Mapping[str, Any]]):
    """The journal entries of one test, oldest first, with the checks tests make most."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self._entries = list(entries)

    def __getitem__(self, i: Any) -> Any:
        return self._entries[i]

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Exchanges({[_line(e) for e in self._entries]!r})"

    def of(self, endpoint: str | None = None, model: str | None = None) -> Exchanges:
        """The entries of one endpoint (``chat-completions``, ``messages``, …) and/or model."""
        return Exchanges(
            e
            for e in self._entries
            if (endpoint is None or e.get("endpoint") == endpoint) and (model is None or e.get("model") == model)
        )

    def unmatched(self) -> Exchanges:
        """Entries no rule and no recording answered (synthetic replies, misses, forwarded calls)."""
        return Exchanges(e for e in self._entries if e.get("source") not in SCRIPTED)

    def trajectory(self) -> list[ToolStep]:
        """Every tool call the model made and every tool result the app sent back, in the order they happened.

        A result is counted in the request that first carried it (later requests repeat the history); a call
        is read from the reply that made it (rules and synthetic replies; a recording's or the upstream's
        calls are not in the journal, their results are)."""
        steps: list[ToolStep] = []
        seen_results: set[tuple[str, str]] = set()
        for entry in self._entries:
            neutral = entry.get("neutral") or {}
            for message in neutral.get("messages") or ():
                for result in message.get("results") or ():
                    key = (result.get("call_id", ""), result.get("content", ""))
                    if key in seen_results:
                        continue
                    seen_results.add(key)
                    name = result.get("name") or _called(steps, result.get("call_id", ""))
                    steps.append(ToolStep("result", name, content=result.get("content"), id=key[0]))
            for call in (entry.get("reply") or {}).get("tool_calls") or ():
                steps.append(
                    ToolStep("call", call.get("name", ""), _parsed(call.get("arguments")), id=call.get("id", ""))
                )
        return steps

    def tool_names(self) -> list[str]:
        """The trajectory in short: ``["get_weather", "get_weather -> result", …]``."""
        return [str(step) for step in self.trajectory()]

    def sent(self, text: str | re.Pattern[str], role: str | None = None) -> bool:
        """Whether any request carried a message (of ``role``: ``system``, ``user``, ``assistant``, ``tool``)
        containing ``text`` (a substring, or a compiled pattern searched for)."""
        return any(_has(e, text, role) for e in self._entries)

    # ---- assertions ----------------------------------------------------------------------------------

    def assert_count(self, n: int, endpoint: str | None = None, model: str | None = None) -> None:
        picked = self.of(endpoint, model)
        if len(picked) != n:
            where = "".join(f" {k}={v}" for k, v in (("endpoint", endpoint), ("model", model)) if v)
            raise AssertionError(f"expected {n} model call(s){where}, got {len(picked)}:{_listing(picked)}")

    def assert_trajectory(self, expected: Sequence[str]) -> None:
        """The short trajectory (:meth:`tool_names`) equals ``expected``."""
        got = self.tool_names()
        if got != list(expected):
            raise AssertionError(f"tool trajectory {got} != expected {list(expected)}")

    def assert_sent(self, text: str | re.Pattern[str], role: str | None = None) -> None:
        if not self.sent(text, role):
            who = f" in a {role} message" if role else ""
            raise AssertionError(f"no request sent {text!r}{who}:{_listing(self)}")

    def assert_all_matched(self) -> None:
        """Every request was answered by a rule or a recording (strict mode's check)."""
        missed = self.unmatched()
        if missed:
            raise AssertionError(
                f"{len(missed)} request(s) no rule or recording answered (strict mode):{_listing(missed)}"
            )


def _parsed(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def _called(steps: list[ToolStep], call_id: str) -> str:
    # The journal's reply holds the neutral id; the app sends back the provider's (``call_…``, ``toolu_…``).
    return next((s.name for s in reversed(steps) if s.kind == "call" and s.id and call_id.endswith(s.id)), "")


def _has(entry: Mapping[str, Any], text: str | re.Pattern[str], role: str | None) -> bool:
    neutral = entry.get("neutral") or {}
    said = [("system", neutral.get("system") or "")] if role in (None, "system") else []
    said += [(m.get("role"), m.get("text") or "") for m in neutral.get("messages") or ()]
    for who, content in said:
        if role is not None and who != role:
            continue
        if isinstance(text, str) and text in content:
            return True
        if isinstance(text, re.Pattern) and text.search(content):
            return True
    return False


def _line(entry: Mapping[str, Any]) -> str:
    return (
        f"{entry.get('method')} {entry.get('path')} {entry.get('status')} model={entry.get('model')} "
        f"source={entry.get('source')} id={entry.get('id')}"
    )


def _listing(entries: Iterable[Mapping[str, Any]]) -> str:
    lines = [_line(e) for e in entries]
    return "".join(f"\n  {line}" for line in lines) if lines else " (none)"
