"""The Redis client of the shared state, and how it fails: every call under a deadline, an outage told once.

When Redis cannot be reached, one log line says so (and one when it is back); meanwhile Redis is only
retried once per second (:data:`RETRY_AFTER_OUTAGE_S`), so calls in between fail at once with
:class:`Unavailable` and an outage costs requests nothing. What a caller does then is its own policy
(``on_error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.urls import redacted

log = logging.getLogger("llmreplay.state")

MISSING_PACKAGE = "--state redis:// needs the redis package: pip install llmreplay[redis]"
RETRY_AFTER_OUTAGE_S = 1.0
"""While Redis is down, it is tried again at most this often; calls in between fail at once."""
_PREFIX = re.compile(r"[A-Za-z0-9_.-]+")


class Unavailable(Exception):
    """Redis could not be reached for this call (already logged)."""


def admin_error() -> ApiError:
    """What an admin call that needs Redis answers while it cannot be reached."""
    return ApiError(ErrorKind.UNAVAILABLE, "the shared state (Redis) cannot be reached; try again shortly")


class RedisLink:
    """One client of the Redis at ``url``, its key namespace, and whether it is reachable."""

    def __init__(self, url: str, *, on_error: Literal["open", "closed"], prefix: str, timeout: float) -> None:
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
        """The prefix of every key this state uses."""
        self.failures: tuple[type[BaseException], ...] = (
            exceptions.ConnectionError,
            exceptions.TimeoutError,
            exceptions.BusyLoadingError,
            exceptions.ReadOnlyError,
            OSError,
            TimeoutError,
        )
        """The errors that mean Redis cannot be reached (rather than a bug)."""
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
        self.closing = False
        """Set once the state is closing: the background loops stop."""
        self._down_since: float | None = None
        self._retry_at = 0.0

    def topic(self, name: str) -> tuple[str, str]:
        """The key a shared state ``name`` (``config``, ``rules``, ``cassettes``) is stored under, and the channel
        its changes are published on."""
        return f"{self.ns}:{name}", f"{self.ns}:{name}:changes"

    async def call(self, make: Callable[[], Awaitable[Any]], rounds: int = 1) -> Any:
        """Redis round trips (``rounds`` of them at most) under a deadline; raises :class:`Unavailable`
        on an outage."""
        if self._down_since is not None and time.monotonic() < self._retry_at:
            raise Unavailable
        try:
            # asyncio.timeout cancels in place: no orphan task whose error nobody reads.
            async with asyncio.timeout(self.timeout * rounds):
                result = await make()
        except self.failures as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # The client turned our cancellation into a connection error: honour the cancel.
                raise asyncio.CancelledError from exc
            self.went_down(exc)
            raise Unavailable from exc
        self._came_back()
        return result

    def went_down(self, exc: BaseException) -> None:
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

    async def unlink(self, pattern: str) -> None:
        """Delete every key that matches ``pattern``; raises :func:`admin_error` when Redis is unreachable."""

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
            await self.call(run, rounds=10)
        except Unavailable as exc:
            raise admin_error() from exc


async def follow(
    link: RedisLink,
    channel: str,
    following: asyncio.Event,
    load: Callable[[], Awaitable[None]],
    apply: Callable[[str], None],
    keep: Callable[[], bool] = lambda: True,
) -> None:
    """Apply what other processes publish on ``channel`` as it comes (``apply``), loading the stored copy
    (``load``) whenever ``following`` is clear: on subscribing, after an outage, or when ``apply`` asks for a
    reload by clearing it; until the link closes or ``keep`` says no more."""
    while not link.closing and keep():
        pubsub = link.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await link.call(functools.partial(pubsub.subscribe, channel))
            while True:
                if not following.is_set():
                    # Anything published while we were not listening is in the stored copy.
                    await load()
                    following.set()
                # get_message with a timeout reads without the socket deadline and wakes at once on a message.
                msg = await pubsub.get_message(timeout=1.0)
                if msg is not None and msg.get("type") == "message":
                    apply(msg["data"])
        except Unavailable:
            following.clear()
        except link.failures as exc:
            following.clear()
            link.went_down(exc)
        # Not on cancel: closing the client closes this connection too, without waiting on it.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(link.timeout):
                await pubsub.aclose()
        await asyncio.sleep(RETRY_AFTER_OUTAGE_S)
