"""Scenarios shared through Redis: named ones in one hash, cursors as INCR counters per (spec, key) that
expire after an hour (:data:`CURSOR_TTL_MS`)."""

from __future__ import annotations

import contextlib
import hashlib

from llmreplay.shaping.outcomes import OK, Outcome, parse, parse_sequence
from llmreplay.shaping.scenarios import ParsedSpecs, Scenario, UnknownScenario, header_steps
from llmreplay.state import redis_scripts
from llmreplay.state.redis_link import RedisLink, Unavailable, admin_error

CURSOR_TTL_MS = 3_600_000
"""An idle scenario key is forgotten after an hour."""


def _digest(spec: str) -> str:
    return hashlib.sha256(spec.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class SharedScenarios:
    """Named scenarios and every (spec, key)'s position in its steps, kept in Redis."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._named = link.redis.register_script(redis_scripts.SCENARIO_NAMED)
        self._parsed = ParsedSpecs()

    @property
    def _key(self) -> str:
        return f"{self._link.ns}:scenarios"

    def _cursor(self, spec: str, key: str | None) -> str:
        tail = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24] if key else "-"
        return f"{self._link.ns}:sc:{_digest(spec)}:{tail}"

    async def next(self, spec: str, key: str | None) -> Outcome:
        cursor = self._cursor(spec, key)
        call = self._link.call
        try:
            if spec.startswith("@"):
                found = await call(lambda: self._named(keys=[self._key, cursor], args=[spec[1:], CURSOR_TTL_MS]))
                if not found:
                    raise UnknownScenario(spec[1:])
                text, i = found
                steps = self._parsed.steps(text)
            else:
                steps = header_steps(self._parsed, spec)
                i = await call(lambda: self._incr(cursor))
        except Unavailable:
            return OK if self._link.on_error == "open" else parse("503")
        i = int(i) - 1
        return steps[i] if i < len(steps) else OK

    async def _incr(self, cursor: str) -> int:
        async with self._link.redis.pipeline(transaction=False) as pipe:
            pipe.incr(cursor)
            pipe.pexpire(cursor, CURSOR_TTL_MS)
            i, _ = await pipe.execute()
        return int(i)

    async def define(self, name: str, steps: str | list[str]) -> Scenario:
        text = steps if isinstance(steps, str) else ",".join(steps)
        scenario = Scenario(name, parse_sequence(text))
        try:
            await self._link.call(lambda: self._link.redis.hset(self._key, name, text))
        except Unavailable as exc:
            raise admin_error() from exc
        await self._link.unlink(f"{self._link.ns}:sc:{_digest('@' + name)}:*")
        return scenario

    async def remove(self, name: str) -> bool:
        try:
            removed = await self._link.call(lambda: self._link.redis.hdel(self._key, name))
        except Unavailable as exc:
            raise admin_error() from exc
        await self._link.unlink(f"{self._link.ns}:sc:{_digest('@' + name)}:*")
        return bool(removed)

    async def all(self) -> list[Scenario]:
        try:
            named: dict[str, str] = await self._link.call(lambda: self._link.redis.hgetall(self._key))
        except Unavailable as exc:
            raise admin_error() from exc
        out = []
        for name in sorted(named):
            with contextlib.suppress(ValueError):
                out.append(Scenario(name, self._parsed.steps(named[name])))
        return out

    async def reset(self) -> None:
        await self._link.unlink(f"{self._link.ns}:sc:*")
