"""State shared through Redis: every worker and replica on one ``--state redis://…`` agrees.

:class:`RedisState` is the :class:`~llmreplay.state.base.State` backend that ties together one part per
thing shared, each in its own module:

- the connection, its deadlines and outages: :mod:`~llmreplay.state.redis_link`;
- rate limits, one Lua script per strategy: :mod:`~llmreplay.state.redis_limits`;
- scenarios, named ones and their cursors: :mod:`~llmreplay.state.redis_scenarios`;
- the live configuration, stored and published whole: :mod:`~llmreplay.state.redis_config`;
- rules, each set stored and published whole: :mod:`~llmreplay.state.redis_rules`;
- cassettes loaded at run time, by name and file: :mod:`~llmreplay.state.redis_cassettes`;
- metrics, each process's snapshot and the merged view: :mod:`~llmreplay.state.redis_metrics`;
- the request journal, each process's finished entries: :mod:`~llmreplay.state.redis_journal`;
- kept Responses (``GET /v1/responses/{id}``, ``previous_response_id``): :mod:`~llmreplay.state.redis_responses`.

Every call has a short deadline. When Redis cannot be reached, one log line says so (and one when it
is back), and requests follow ``on_error``: ``open`` admits them unlimited, ``closed`` denies them with
``Admission(allowed=False, reason="state")``. Meanwhile Redis is only retried once per second, so an
outage costs requests nothing.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from typing import Any, Literal

from llmreplay.configmodels import RateLimitConfig
from llmreplay.control.live import LiveConfig
from llmreplay.journal import Journal
from llmreplay.journal.merge import Shared
from llmreplay.rules import RuleBook
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.ratelimit.quotas import Admission
from llmreplay.shaping.scenarios import Scenario
from llmreplay.state.redis_cassettes import Apply, SharedCassettes
from llmreplay.state.redis_config import ConfigFollower
from llmreplay.state.redis_journal import SharedJournal
from llmreplay.state.redis_limits import SharedLimits
from llmreplay.state.redis_link import RedisLink
from llmreplay.state.redis_metrics import MetricsSource, SharedMetrics
from llmreplay.state.redis_responses import RedisShelf
from llmreplay.state.redis_rules import SharedRules
from llmreplay.state.redis_scenarios import SharedScenarios
from llmreplay.state.responses import ResponseStore


class RedisState:
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        on_error: Literal["open", "closed"] = "open",
        prefix: str = "default",
        timeout: float = 0.5,
        rng: random.Random | None = None,
        metrics: MetricsSource | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` is for tests only: it replaces Redis's ``TIME`` so exact sequences can be replayed."""
        self._link = link = RedisLink(url, on_error=on_error, prefix=prefix, timeout=timeout)
        self.url, self.on_error, self.timeout, self.ns = url, on_error, timeout, link.ns
        self.redis = link.redis
        self.origin = uuid.uuid4().hex
        """This process's name in what it publishes (so that it ignores its own messages)."""
        self._limits = SharedLimits(link, rng or random.Random(), clock)
        self._scenarios = SharedScenarios(link)
        self._metrics = SharedMetrics(link, self.origin, metrics)
        self._journal = SharedJournal(link, self.origin)
        self._config = ConfigFollower(link, self.origin, self._metrics.reset_local)
        self._rules = SharedRules(link, self.origin)
        self._cassettes = SharedCassettes(link, self.origin)
        self.responses = RedisShelf(link)
        self.following = self._config.following
        """Set while other processes' configuration changes are being received."""
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def reachable(self) -> bool:
        return self._link.reachable

    # ---- lifecycle -------------------------------------------------------------------------
    def attach_metrics(self, metrics: MetricsSource) -> None:
        self._metrics.source = metrics

    def attach_journal(self, journal: Journal) -> None:
        self._journal.attach(journal)

    def attach_rules(self, book: RuleBook) -> None:
        self._rules.book = book

    def attach_cassettes(self, apply: Apply) -> None:
        self._cassettes.apply = apply

    def attach_responses(self, store: ResponseStore) -> None:
        store.shelf = self.responses

    async def start(self, live: LiveConfig) -> None:
        await self._config.start(live)
        await self._rules.start()
        self._tasks.append(asyncio.create_task(self._rules.follow()))
        self._tasks.append(asyncio.create_task(self._cassettes.follow()))
        self._tasks.append(asyncio.create_task(self._config.follow()))
        self._tasks.append(asyncio.create_task(self._metrics.publish()))
        self._tasks.append(asyncio.create_task(self._journal.publish()))

    async def close(self) -> None:
        self._config.stop()
        self._link.closing = True
        tasks = [*self._tasks, *self._config.pending]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout * 2)
        self._tasks.clear()
        await self._journal.flush()
        await self.responses.settled()
        await self._metrics.forget()
        await self.redis.aclose()

    # ---- rate limits -------------------------------------------------------------------------
    async def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        return await self._limits.admit(endpoint, key, cfg, tokens)

    async def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        await self._limits.charge(endpoint, key, cfg, tokens)

    async def reset_limits(self, endpoint: str | None = None) -> None:
        await self._limits.reset(endpoint)

    # ---- scenarios -----------------------------------------------------------------------------
    async def scenario_next(self, spec: str, key: str | None) -> Outcome:
        return await self._scenarios.next(spec, key)

    async def define_scenario(self, name: str, steps: str | list[str]) -> Scenario:
        return await self._scenarios.define(name, steps)

    async def remove_scenario(self, name: str) -> bool:
        return await self._scenarios.remove(name)

    async def scenarios(self) -> list[Scenario]:
        return await self._scenarios.all()

    async def reset_scenarios(self) -> None:
        await self._scenarios.reset()

    # ---- metrics -------------------------------------------------------------------------------
    async def reset_metrics(self) -> None:
        """Tell every other process to reset its JSON metrics (this one's are reset by the caller), and drop
        the snapshots they last stored, so that the merged view holds no count from before the reset; each
        process stores its own again within a second."""
        await self._config.tell_metrics_reset()
        await self._metrics.drop_snapshots()

    async def shared_metrics(self) -> dict[str, Any] | None:
        """This process's metrics merged with every live process's (see :mod:`merged_metrics`), or None
        when no metrics are attached or Redis cannot be reached."""
        return await self._metrics.merged()

    # ---- the request journal ---------------------------------------------------------------------
    async def shared_journal(self) -> Shared | None:
        return await self._journal.shared()

    async def clear_journal(self, test_id: str | None) -> None:
        await self._journal.clear(test_id)

    # ---- rules ---------------------------------------------------------------------------------
    async def share_rules(self, test_id: str | None, rules: list[dict[str, Any]] | None) -> None:
        await self._rules.share(test_id, rules)

    # ---- cassettes loaded at run time ------------------------------------------------------------
    async def share_cassettes(self, name: str, path: str | None) -> None:
        await self._cassettes.share(name, path)
