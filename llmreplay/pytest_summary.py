"""The pytest plugin's end of session: what answered each cassette's tests, and the session's usage report.

Each test's server is asked at teardown what answered its requests (its journal's ``source``) and, for a test
with a cassette, which recordings it played and what it missed (``GET /api/cassette-usage``). At the end of the
session the counts are one table in the terminal summary, so a CI run meant to replay that answered
synthetically says so, and ``--llmreplay-usage-report FILE`` writes the tests' usage reports merged into one
for ``llmreplay cassettes stale --usage FILE``.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from llmreplay.testing import LLMReplay

NO_CASSETTE = ""


@dataclass
class Tally:
    """What answered the requests of the tests of one cassette (or of the tests with none)."""

    tests: int = 0
    sources: Counter[str] = field(default_factory=Counter)


class SessionSummary:
    """A pytest plugin object: gathers each test's counts, and reports them once the session is over."""

    def __init__(self, report_path: str | None) -> None:
        self.report_path = report_path
        self.tallies: dict[str, Tally] = {}
        self.reports: list[dict[str, Any]] = []

    def test_done(self, handle: LLMReplay) -> None:
        """Called at the test's teardown, before its server stops; a server that cannot say is skipped."""
        from llmreplay.testing import AdminError

        with contextlib.suppress(AdminError, OSError, ValueError):
            sources = Counter(str(e.get("source") or "error") for e in handle.requests)
            name = handle.cassette.stem if handle.cassette is not None else NO_CASSETTE
            tally = self.tallies.setdefault(name, Tally())
            tally.tests += 1
            tally.sources.update(sources)
            if handle.cassette is not None and handle.server is not None:
                self.reports.append(handle.admin.request("GET", "/api/cassette-usage"))

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, t in sorted(self.tallies.items(), key=lambda kv: (kv[0] == NO_CASSETTE, kv[0])):
            answered = sum(t.sources.values())
            tests = _count(t.tests, "test")
            if name == NO_CASSETTE:
                out.append(f"no cassette: {_count(answered, 'request')}, {t.sources['synthetic']} synthetic ({tests})")
                continue
            others = {k: n for k, n in sorted(t.sources.items()) if k not in ("cassette", "synthetic")}
            rest = "".join(f", {n} {k}" for k, n in others.items())
            out.append(
                f"cassette {name}: {t.sources['cassette']} of {_count(answered, 'request')} answered from it, "
                f"{t.sources['synthetic']} fell back to synthetic{rest} ({tests})"
            )
        return out

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.tallies:
            terminalreporter.section("llmreplay")
            for line in self.lines():
                terminalreporter.write_line(line)
        if self.report_path:
            from llmreplay.cassettes.usage import merge

            path = Path(self.report_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(merge(self.reports), indent=2) + "\n", encoding="utf-8")
            terminalreporter.write_line(f"llmreplay: usage report {path} (llmreplay cassettes stale --usage {path})")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


__all__ = ["SessionSummary"]
