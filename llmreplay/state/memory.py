"""State kept in this process: the embedded default (one process, or per worker)."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from llmreplay.configmodels import RateLimitConfig
from llmreplay.control.live import LiveConfig
from llmreplay.journal import Journal
from llmreplay.journal.merge import Shared
from llmreplay.rules import RuleBook
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.ratelimit.quotas import Admission, Quotas
from llmreplay.shaping.scenarios import Scenario, ScenarioBook
from llmreplay.state.responses import ResponseStore


class MemoryState:
    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None) -> None:
        self.quotas = Quotas(clock, rng)
        self.book = ScenarioBook()

    async def start(self, live: LiveConfig) -> None:
        return None

    async def close(self) -> None:
        return None

    async def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        return self.quotas.admit(endpoint, key, cfg, tokens)

    async def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        self.quotas.charge(endpoint, key, cfg, tokens)

    async def reset_limits(self, endpoint: str | None = None) -> None:
        self.quotas.reset(endpoint)

    async def scenario_next(self, spec: str, key: str | None) -> Outcome:
        return self.book.next(spec, key)

    async def define_scenario(self, name: str, steps: str | list[str]) -> Scenario:
        return self.book.define(name, steps)

    async def remove_scenario(self, name: str) -> bool:
        return self.book.remove(name)

    async def scenarios(self) -> list[Scenario]:
        return list(self.book.named.values())

    async def reset_scenarios(self) -> None:
        self.book.reset()

    async def reset_metrics(self) -> None:
        return None  # one process: the admin API has reset the only metrics there are

    def attach_journal(self, journal: Journal) -> None:
        return None  # one process: its journal is the whole journal

    async def shared_journal(self) -> Shared | None:
        return None

    async def clear_journal(self, test_id: str | None) -> None:
        return None

    def attach_rules(self, book: RuleBook) -> None:
        return None  # one process: its book is the only one

    async def share_rules(self, test_id: str | None, rules: list[dict[str, Any]] | None) -> None:
        return None

    def attach_cassettes(self, apply: Callable[[str, str | None], Awaitable[None]]) -> None:
        return None  # one process: its cassettes are the only ones

    async def share_cassettes(self, name: str, path: str | None) -> None:
        return None

    def attach_responses(self, store: ResponseStore) -> None:
        return None  # one process: its memory holds them
