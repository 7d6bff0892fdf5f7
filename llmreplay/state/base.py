"""The contract of a state backend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from llmreplay.configmodels import RateLimitConfig
from llmreplay.control.live import LiveConfig
from llmreplay.journal import Journal
from llmreplay.journal.merge import Shared
from llmreplay.rules import RuleBook
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.ratelimit.quotas import Admission
from llmreplay.shaping.scenarios import Scenario
from llmreplay.state.responses import ResponseStore


class State(Protocol):
    name: str
    """``memory`` or ``redis``: shown in the banner and the dashboard."""

    async def start(self, live: LiveConfig) -> None:
        """Begin sharing ``live``: apply remote changes to it and publish local ones."""

    async def close(self) -> None: ...

    # ---- rate limits -----------------------------------------------------------------
    async def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        """Take one request (and ``tokens`` prompt tokens) from the quota of ``endpoint`` and ``key``."""

    async def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        """Count completion tokens once known."""

    async def reset_limits(self, endpoint: str | None = None) -> None: ...

    # ---- scenarios -------------------------------------------------------------------
    async def scenario_next(self, spec: str, key: str | None) -> Outcome:
        """The next outcome of ``spec`` (``429,ok`` or ``@name``) for ``key``; raises ValueError or
        :class:`~llmreplay.shaping.scenarios.UnknownScenario`."""

    async def define_scenario(self, name: str, steps: str | list[str]) -> Scenario: ...

    async def remove_scenario(self, name: str) -> bool: ...

    async def scenarios(self) -> list[Scenario]: ...

    async def reset_scenarios(self) -> None: ...

    async def reset_metrics(self) -> None:
        """Called after this process reset its own JSON metrics: the other processes sharing the state reset
        theirs (nothing to do when there are none)."""
        ...

    # ---- the request journal ---------------------------------------------------------
    def attach_journal(self, journal: Journal) -> None:
        """Share ``journal``'s finished entries with the other processes, from :meth:`start` on."""

    async def shared_journal(self) -> Shared | None:
        """The other processes' finished entries and the clears made anywhere; None when there are no others
        to share with, or they cannot be reached (the caller shows this process's journal alone)."""

    async def clear_journal(self, test_id: str | None) -> None:
        """Clear ``test_id``'s entries (None: all) in the other processes too (this one's are cleared by the
        caller)."""
        ...

    # ---- rules -----------------------------------------------------------------------
    def attach_rules(self, book: RuleBook) -> None:
        """Keep ``book`` as the other processes change it, from :meth:`start` on."""

    async def share_rules(self, test_id: str | None, rules: list[dict[str, Any]] | None) -> None:
        """Tell the other processes that ``test_id``'s rules (None: the global set) are now ``rules`` (None:
        every rule, global and every test's, was cleared). Nothing to do when there are none."""
        ...

    # ---- cassettes loaded at run time --------------------------------------------------------------
    def attach_cassettes(self, apply: Callable[[str, str | None], Awaitable[None]]) -> None:
        """Make the other processes' cassette loads here, from :meth:`start` on: ``apply(name, path)`` loads
        cassette ``name`` from the file at ``path`` (None: unloads it)."""

    async def share_cassettes(self, name: str, path: str | None) -> None:
        """Tell the other processes that cassette ``name`` is now loaded from ``path`` (None: unloaded)."""
        ...

    # ---- kept Responses --------------------------------------------------------------------------
    def attach_responses(self, store: ResponseStore) -> None:
        """Keep ``store``'s responses where the other processes find them too (nothing to do when there are
        none)."""
        ...
