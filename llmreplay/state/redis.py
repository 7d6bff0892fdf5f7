"""State shared through Redis: every worker and replica on one ``--state redis://…`` agrees.

- Rate limits: one Lua script per strategy (:mod:`llmreplay.state.redis_scripts`), atomic and on
  Redis's clock. Keys ``llmreplay:{prefix}:rl:{endpoint}:{config digest}:{api key}:req|tok`` expire once
  their state is the same as fresh state; a changed limit configuration has a new digest, so fresh counters.
- Scenarios: named ones in one hash, cursors as INCR counters per (spec, key) that expire after an hour.
- Live configuration: a local change is stored and published whole; other processes apply it (pub/sub).
- Metrics: each process stores its snapshot every second; :meth:`RedisState.shared_metrics` merges them.

Every call has a short deadline. When Redis cannot be reached, one log line says so (and one when it
is back), and requests follow ``on_error``: ``open`` admits them unlimited, ``closed`` denies them with
``Admission(allowed=False, reason="state")``. Meanwhile Redis is only retried once per second, so an
outage costs requests nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from llmreplay.control.live import LiveConfig, RateLimitConfig
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Quota
from llmreplay.shaping.outcomes import OK, Outcome, parse, parse_sequence
from llmreplay.shaping.ratelimit.quotas import Admission
from llmreplay.shaping.ratelimit.strategies import STRATEGIES
from llmreplay.shaping.scenarios import Scenario, UnknownScenario
from llmreplay.state import redis_admission as admission
from llmreplay.state import redis_scripts
from llmreplay.state.merged_metrics import merge_snapshots
from llmreplay.urls import redacted

log = logging.getLogger("llmreplay.state")

MISSING_PACKAGE = "--state redis:// needs the redis package: pip install llmreplay[redis]"
CURSOR_TTL_MS = 3_600_000
"""An idle scenario key is forgotten after an hour."""
METRICS_EVERY_S = 1.0
METRICS_TTL_MS = 3_000
"""A process that stops publishing drops out of the merged metrics after this long."""
RETRY_AFTER_OUTAGE_S = 1.0
"""While Redis is down, it is tried again at most this often; calls in between fail at once."""
_PREFIX = re.compile(r"[A-Za-z0-9_.-]+")


class MetricsSource(Protocol):
    def snapshot(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class Unavailable(Exception):
    """Redis could not be reached for this call (already logged)."""


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
        try:
            import redis.asyncio as aioredis
            from redis import exceptions
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
        except ImportError:
            from llmreplay.state.factory import StateConfigError

            raise StateConfigError(MISSING_PACKAGE) from None
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"state prefix {prefix!r} may hold only letters, digits, '_', '.' and '-'")
        self.url, self.on_error, self.timeout = url, on_error, timeout
        self.ns = f"llmreplay:{prefix}"
        self.origin = uuid.uuid4().hex
        self._rng = rng or random.Random()
        self._clock = clock
        self._metrics = metrics
        self._failures: tuple[type[BaseException], ...] = (
            exceptions.ConnectionError,
            exceptions.TimeoutError,
            exceptions.BusyLoadingError,
            exceptions.ReadOnlyError,
            OSError,
            TimeoutError,
        )
        self.redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One immediate retry on a fresh connection: after Redis restarts, every pooled connection is
            # stale once, and that must not count as an outage. The deadline still bounds the whole call.
            retry=Retry(NoBackoff(), 1),
            retry_on_timeout=False,
        )
        self._admit = {name: self.redis.register_script(src) for name, src in redis_scripts.ADMIT.items()}
        self._charge = self.redis.register_script(redis_scripts.CHARGE)
        self._named = self.redis.register_script(redis_scripts.SCENARIO_NAMED)
        self._digests: dict[RateLimitConfig, str] = {}
        self._parsed: dict[str, tuple[Outcome, ...]] = {}
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._live: LiveConfig | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._publish_lock = asyncio.Lock()
        self._pending: set[asyncio.Task[None]] = set()
        self.following = asyncio.Event()
        """Set while other processes' configuration changes are being received."""
        self._closing = False

    # ---- calls, deadlines and outages ----------------------------------------------------
    async def _call(self, make: Callable[[], Awaitable[Any]], rounds: int = 1) -> Any:
        """Redis round trips (``rounds`` of them at most) under a deadline; raises :class:`Unavailable`
        on an outage."""
        if self._down_since is not None and time.monotonic() < self._retry_at:
            raise Unavailable
        try:
            # asyncio.timeout cancels in place: no orphan task whose error nobody reads.
            async with asyncio.timeout(self.timeout * rounds):
                result = await make()
        except self._failures as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The client turned our cancellation into a connection error: honour the cancel.
                raise asyncio.CancelledError from exc
            self._went_down(exc)
            raise Unavailable from exc
        self._came_back()
        return result

    def _went_down(self, exc: BaseException) -> None:
        self._retry_at = time.monotonic() + RETRY_AFTER_OUTAGE_S
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        policy = (
            "failing open: requests are admitted without rate limits"
            if self.on_error == "open"
            else "failing closed: rate-limited requests are answered 503"
        )
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        log.warning("llmreplay: shared state at %s unreachable (%s); %s", redacted(self.url), detail, policy)

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        gone = time.monotonic() - self._down_since
        self._down_since = None
        log.warning("llmreplay: shared state at %s reachable again after %.1f s", redacted(self.url), gone)

    @property
    def reachable(self) -> bool:
        return self._down_since is None

    # ---- lifecycle -------------------------------------------------------------------------
    def attach_metrics(self, metrics: MetricsSource) -> None:
        self._metrics = metrics

    async def start(self, live: LiveConfig) -> None:
        self._live = live
        live.listeners.append(self._local_change)
        with contextlib.suppress(Unavailable):
            await self._load_config(first=True)
        self._tasks.append(asyncio.create_task(self._follow_config()))
        self._tasks.append(asyncio.create_task(self._publish_metrics()))

    async def close(self) -> None:
        if self._live is not None and self._local_change in self._live.listeners:
            self._live.listeners.remove(self._local_change)
        self._closing = True
        tasks = [*self._tasks, *self._pending]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout * 2)
        self._tasks.clear()
        with contextlib.suppress(*self._failures):
            async with asyncio.timeout(self.timeout):
                await self.redis.delete(self._metrics_key(self.origin))
        await self.redis.aclose()

    # ---- rate limits -------------------------------------------------------------------------
    def _keys(self, endpoint: str, key: str, cfg: RateLimitConfig) -> list[str]:
        digest = self._digests.get(cfg)
        if digest is None:
            digest = hashlib.sha256(cfg.model_dump_json().encode()).hexdigest()[:12]
            if len(self._digests) > 256:
                self._digests.clear()
            self._digests[cfg] = digest
        base = f"{self.ns}:rl:{endpoint}:{digest}:{key or '-'}"
        return [f"{base}:req", f"{base}:tok"]

    def _args(self, cfg: RateLimitConfig, tokens: int, draw: bool = False) -> list[Any]:
        now = "" if self._clock is None else repr(self._clock())
        window = cfg.window_ms / 1000
        return [now, cfg.requests, repr(window), cfg.after_n, tokens, cfg.tokens_per_minute or 0, int(draw)]

    async def admit(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> Admission:
        strategy = STRATEGIES[cfg.strategy]
        draw = strategy.draws and self._rng.random() < cfg.probability
        if strategy.stateless and not cfg.tokens_per_minute:
            # Nothing to share: decided here, without a round trip.
            return admission.local(strategy, cfg, draw)
        script = self._admit[cfg.strategy]
        keys, args = self._keys(endpoint, key, cfg), self._args(cfg, tokens, draw)
        try:
            reply = await self._call(lambda: script(keys=keys, args=args))
        except Unavailable:
            if self.on_error == "open":
                return Admission(True, Quota())
            return Admission(False, Quota(), "state")
        return admission.from_reply(reply)

    async def charge(self, endpoint: str, key: str, cfg: RateLimitConfig, tokens: int) -> None:
        if not cfg.tokens_per_minute:
            return
        keys, args = self._keys(endpoint, key, cfg), self._args(cfg, tokens)
        with contextlib.suppress(Unavailable):
            await self._call(lambda: self._charge(keys=keys, args=args))

    async def reset_limits(self, endpoint: str | None = None) -> None:
        await self._unlink(f"{self.ns}:rl:{endpoint}:*" if endpoint else f"{self.ns}:rl:*")

    async def _unlink(self, pattern: str) -> None:
        async def run() -> None:
            batch: list[str] = []
            async for name in self.redis.scan_iter(match=pattern, count=500):
                batch.append(name)
                if len(batch) >= 500:
                    await self.redis.unlink(*batch)
                    batch.clear()
            if batch:
                await self.redis.unlink(*batch)

        # A scan takes several round trips: it gets a longer deadline than one call.
        try:
            await self._call(run, rounds=10)
        except Unavailable as exc:
            raise _admin_error() from exc

    # ---- scenarios -----------------------------------------------------------------------------
    def _steps(self, text: str) -> tuple[Outcome, ...]:
        steps = self._parsed.get(text)
        if steps is None:
            steps = parse_sequence(text)
            if len(self._parsed) >= 10_000:
                self._parsed.clear()
            self._parsed[text] = steps
        return steps

    def _cursor(self, spec: str, key: str | None) -> str:
        tail = hashlib.sha256(key.encode()).hexdigest()[:24] if key else "-"
        return f"{self.ns}:sc:{_digest(spec)}:{tail}"

    async def scenario_next(self, spec: str, key: str | None) -> Outcome:
        cursor = self._cursor(spec, key)
        try:
            if spec.startswith("@"):
                found = await self._call(
                    lambda: self._named(keys=[self._scenarios_key, cursor], args=[spec[1:], CURSOR_TTL_MS])
                )
                if not found:
                    raise UnknownScenario(spec[1:])
                text, i = found
                steps = self._steps(text)
            else:
                steps = self._steps(spec)
                i = await self._call(lambda: self._incr(cursor))
        except Unavailable:
            return OK if self.on_error == "open" else parse("503")
        i = int(i) - 1
        return steps[i] if i < len(steps) else OK

    async def _incr(self, cursor: str) -> int:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.incr(cursor)
            pipe.pexpire(cursor, CURSOR_TTL_MS)
            i, _ = await pipe.execute()
        return int(i)

    @property
    def _scenarios_key(self) -> str:
        return f"{self.ns}:scenarios"

    async def define_scenario(self, name: str, steps: str | list[str]) -> Scenario:
        text = steps if isinstance(steps, str) else ",".join(steps)
        scenario = Scenario(name, parse_sequence(text))
        try:
            await self._call(lambda: self.redis.hset(self._scenarios_key, name, text))
        except Unavailable as exc:
            raise _admin_error() from exc
        await self._unlink(f"{self.ns}:sc:{_digest('@' + name)}:*")
        return scenario

    async def remove_scenario(self, name: str) -> bool:
        try:
            removed = await self._call(lambda: self.redis.hdel(self._scenarios_key, name))
        except Unavailable as exc:
            raise _admin_error() from exc
        await self._unlink(f"{self.ns}:sc:{_digest('@' + name)}:*")
        return bool(removed)

    async def scenarios(self) -> list[Scenario]:
        try:
            named: dict[str, str] = await self._call(lambda: self.redis.hgetall(self._scenarios_key))
        except Unavailable as exc:
            raise _admin_error() from exc
        out = []
        for name in sorted(named):
            with contextlib.suppress(ValueError):
                out.append(Scenario(name, self._steps(named[name])))
        return out

    async def reset_scenarios(self) -> None:
        await self._unlink(f"{self.ns}:sc:*")

    # ---- live configuration --------------------------------------------------------------------
    @property
    def _config_key(self) -> str:
        return f"{self.ns}:config"

    @property
    def _channel(self) -> str:
        return f"{self.ns}:config:changes"

    def _local_change(self, what: str, endpoint: str | None) -> None:
        if what == "remote" or self._live is None:
            return
        message = json.dumps({"origin": self.origin, "snapshot": self._live.snapshot()})
        task = asyncio.get_running_loop().create_task(self._publish(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, message: str) -> None:
        async def run() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._config_key, message)
                pipe.publish(self._channel, message)
                await pipe.execute()

        # The lock keeps this process's changes in the order they were made.
        async with self._publish_lock:
            with contextlib.suppress(Unavailable):
                await self._call(run)

    async def _load_config(self, first: bool = False) -> None:
        """Take the stored configuration; the first process to start stores its own."""
        assert self._live is not None
        stored = await self._call(lambda: self.redis.get(self._config_key))
        if stored is None:
            if first:
                message = json.dumps({"origin": self.origin, "snapshot": self._live.snapshot()})
                await self._call(lambda: self.redis.set(self._config_key, message, nx=True))
            return
        self._apply(stored)

    def _apply(self, message: str) -> None:
        assert self._live is not None
        try:
            parsed = json.loads(message)
            if parsed.get("origin") == self.origin:
                return
            if parsed.get("reset") == "metrics":
                if self._metrics is not None:
                    self._metrics.reset()
                return
            if parsed["snapshot"] == self._live.snapshot():
                return
            self._live.apply_snapshot(parsed["snapshot"])
        except Exception as exc:  # a bad message from another version must not stop the follower
            log.warning("llmreplay: ignored a shared configuration that does not apply here (%s)", exc)

    async def _follow_config(self) -> None:
        """Apply other processes' changes as they are published; after an outage, reload the stored one."""
        while not self._closing:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await self._call(functools.partial(pubsub.subscribe, self._channel))
                # Anything published while we were not listening is in the stored copy.
                await self._load_config()
                self.following.set()
                while True:
                    # get_message with a timeout reads without the socket deadline and wakes at once on a message.
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is not None and msg.get("type") == "message":
                        self._apply(msg["data"])
            except Unavailable:
                self.following.clear()
            except self._failures as exc:
                self.following.clear()
                self._went_down(exc)
            # Not on cancel: closing the client closes this connection too, without waiting on it.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout):
                    await pubsub.aclose()
            await asyncio.sleep(RETRY_AFTER_OUTAGE_S)

    # ---- metrics -------------------------------------------------------------------------------
    def _metrics_key(self, origin: str) -> str:
        return f"{self.ns}:metrics:{origin}"

    async def _publish_metrics(self) -> None:
        while not self._closing:
            if self._metrics is not None:
                payload = json.dumps({"pid": os.getpid(), "snapshot": self._metrics.snapshot()})
                key = self._metrics_key(self.origin)
                with contextlib.suppress(Unavailable):
                    await self._call(functools.partial(self.redis.set, key, payload, px=METRICS_TTL_MS))
            await asyncio.sleep(METRICS_EVERY_S)

    async def reset_metrics(self) -> None:
        """Tell every other process to reset its JSON metrics (this one's are reset by the caller), and drop
        the snapshots they last stored, so that the merged view holds no count from before the reset; each
        process stores its own again within a second."""
        # Published, never stored: a process that starts later has nothing to reset.
        message = json.dumps({"origin": self.origin, "reset": "metrics"})
        with contextlib.suppress(Unavailable):
            await self._call(functools.partial(self.redis.publish, self._channel, message))
        await self._unlink(self._metrics_key("*"))

    async def shared_metrics(self) -> dict[str, Any] | None:
        """This process's metrics merged with every live process's (see :mod:`merged_metrics`), or None
        when no metrics are attached or Redis cannot be reached."""
        if self._metrics is None:
            return None
        local = self._metrics.snapshot()
        mine = self._metrics_key(self.origin)

        async def others() -> list[dict[str, Any]]:
            names = [n async for n in self.redis.scan_iter(match=self._metrics_key("*"), count=500) if n != mine]
            values = await self.redis.mget(names) if names else []
            return [json.loads(v)["snapshot"] for v in values if v]

        try:
            found = await self._call(others, rounds=4)
        except Unavailable:
            return None
        return merge_snapshots(local, found)


def _digest(spec: str) -> str:
    return hashlib.sha256(spec.encode()).hexdigest()[:24]


def _admin_error() -> ApiError:
    return ApiError(ErrorKind.UNAVAILABLE, "the shared state (Redis) cannot be reached; try again shortly")
