"""Seeded answers kept for the second they were made in, so that the same request again is written, not made again.

A seeded synthetic answer (``--seed``, ``x-llmreplay-seed``) is already a function of its request: its generator
is seeded from the seed and the call, so the same call gets the same text and ids. What else it holds is the
clock's second (``created``, ``Date``) and the journal entry's id. So the express lane keeps the bytes it wrote for
such a call, until the second changes, and answers the same request again (its path, raw headers and body) with
them and a journal id of its own. Each answer still has its journal entry, metrics, cost, events and access log
line: only the making (parsing, the road, the reply, the rendering) is skipped.

Only answers that read no state are kept, and only while nothing they were made from has changed:

- made by the synthetic source, whole, 200, with no cassettes, rules, fault, quota or load factor in play;
- no ``x-llmreplay-*`` header but the seed and the test id (the others draw outcomes from a shared generator or
  step a scenario);
- not a Responses call (it keeps what it answers) and no prompt long enough for the prompt cache (its usage
  depends on the prompts before it);
- the endpoint's configuration and the synthetic settings are the same objects they were (the live
  configuration makes new ones on every change), and still no rule.

An unseeded answer is a new draw every time, as the synthetic source promises, and is never kept whole: where
its bytes differ from the next answer's only in what is drawn, they are kept cut where the draws go, and the
next answer is drawn into them (:mod:`llmreplay.drawn`), under the same conditions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmreplay import drawn
from llmreplay.drawn import Drawn
from llmreplay.labels import REQUEST_ID
from llmreplay.shaping.directives import PREFIX, SEED, TEST_ID
from llmreplay.synth import prompt_cache

if TYPE_CHECKING:
    from llmreplay.codec import Route
    from llmreplay.configmodels import EndpointConfig
    from llmreplay.journal.entry import Entry
    from llmreplay.model import Answer, Call, Request
    from llmreplay.observers import Done
    from llmreplay.runtime import Runtime

log = logging.getLogger("llmreplay")

SIZE = 4096
"""Distinct requests kept within one second; beyond that the rest are made as usual."""
BYTES = 16 << 20
"""Bytes of requests and answers kept within one second, at most (bodies of up to 64 KiB each)."""
_ALLOWED = frozenset({SEED, TEST_ID})
_ID_HEADER = f"\r\n{REQUEST_ID}: ".encode()
"""What comes just before the journal id in a kept head."""

SEEN = "seen"
"""What is kept of an unseeded answer made once within its second: only that it was."""
UNCUT = "uncut"
"""What is kept of an unseeded answer made again within its second that could not be cut: that it could not."""

Key = tuple[str, object, bytes]
"""The request as it came: its path, its raw headers and its body."""


@dataclass(slots=True)
class Kept:
    """One answer's bytes, cut around its journal id, and what its observers need."""

    before: bytes
    """The status line and headers up to the journal id's value (all of them when the journal is off)."""
    after: bytes
    """The rest of the headers, then the body."""
    done: Done
    first: Entry | None
    """The journal entry of the answer made, whose fields the next entries copy (None: the journal is off)."""
    config: EndpointConfig
    settings: object
    """The synthetic source's settings when it was made."""

    @property
    def size(self) -> int:
        return len(self.before) + len(self.after)


class KeptAnswers:
    """The kept answers of the current second, by request."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._second = 0
        self._table: dict[Key, Kept | Drawn | str] = {}
        self._bytes = 0
        self.hits = 0
        """Answers written from a kept one (or drawn into one)."""

    def _drop(self) -> None:
        self._table.clear()
        self._bytes = 0

    def find(self, key: Key, route: Route) -> Kept | Drawn | None:
        """The answer kept for ``key`` this second, if what it was made from is unchanged."""
        table = self._table
        if not table:
            return None
        if int(time.time()) != self._second:
            self._drop()
            return None
        kept = table.get(key)
        if kept is None or isinstance(kept, str):
            return None
        rt = self.rt
        if (
            kept.config is not rt.live.for_endpoint(route.config_key)
            or kept.settings is not rt.source.settings
            or len(rt.rules)
        ):
            self._drop()
            return None
        self.hits += 1
        return kept

    def keep(
        self,
        key: Key,
        second: int,
        call: Call,
        route: Route,
        request: Request | None,
        answer: Answer,
        later: Done,
        head: bytes,
    ) -> None:
        """Keep the answer just written for ``key`` (made within ``second``), if it may be written again: whole
        where it is seeded; else, from the second answer to ``key`` within its second on, cut where its draws go,
        if it can be (cutting every answer made once would cost more than it saves)."""
        rt = self.rt
        if int(time.time()) != second:
            return  # its date or ``created`` may be the next second's
        if second != self._second:
            self._drop()
            self._second = second
        seeded = rt.seed_of(call) is not None
        seen = self._table.get(key)
        kept: Kept | Drawn | str | None
        if not seeded and seen is None:
            kept = SEEN
        elif not seeded and (seen is not SEEN or request is None):
            return
        else:
            config = rt.live.for_endpoint(route.config_key)
            if not _pure(rt, call, route, answer, later, config):
                return
            if seeded:
                kept = _whole(head, answer, later, config, rt.source.settings)
            else:
                assert request is not None
                kept = _cut(rt, route, request, answer, later, head + answer.body, config)
            if kept is None:
                return
        size = len(key[2]) + (0 if isinstance(kept, str) else kept.size)
        if len(self._table) < SIZE and self._bytes + size <= BYTES:
            self._bytes += size
            self._table[key] = kept


def _cut(
    rt: Runtime, route: Route, request: Request, answer: Answer, later: Done, written: bytes, config: EndpointConfig
) -> Drawn | str:
    """:func:`llmreplay.drawn.cut`, or :data:`UNCUT`. The answer is already out: whatever the cut meets must not
    reach the connection it was written on."""
    try:
        return drawn.cut(rt.source, route.codec, request, answer, later, written, config) or UNCUT
    except Exception:
        log.debug("the answer to %s could not be cut; it is made whole each time", route.path, exc_info=True)
        return UNCUT


def _whole(head: bytes, answer: Answer, later: Done, config: EndpointConfig, settings: object) -> Kept | None:
    """A seeded answer's bytes cut around its journal id, or None where the id is not where the lane looks."""
    entry = later.entry
    parts = head.split(entry.id.encode(), 1) if entry is not None else [head, b""]
    if len(parts) != 2 or (entry is not None and not parts[0].endswith(_ID_HEADER)):
        return None  # the id is cut out of its header line, which the lane leaves out whole if a later entry fails
    return Kept(parts[0], parts[1] + answer.body, later, entry, config, settings)


def _pure(rt: Runtime, call: Call, route: Route, answer: Answer, later: Done, config: EndpointConfig) -> bool:
    """Whether ``answer`` was made from its request, the configuration and the clock's second alone."""
    if later.source != "synthetic" or answer.status != 200 or later.denied or later.tokens_later is not None:
        return False
    if later.outcome is not None and not later.outcome.is_ok:
        return False
    if rt.deck is not None or len(rt.rules) or route.op is not None or rt.responses.holds(route.codec.api):
        return False
    if later.input_tokens >= prompt_cache.SMALLEST:  # a later usage would read what this one wrote
        return False
    if config.rate_limit.enabled or config.failures.error_rate > 0 or config.latency.load_degradation:
        return False
    return all(not name.startswith(PREFIX) or name in _ALLOWED for name in call.headers)
