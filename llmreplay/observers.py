"""Observers of answered exchanges: the metrics (JSON and, fed from them, Prometheus) and the event stream.

They run after the writer and never hold up or break an answer: each call is contained, as mitmproxy runs its
addons' hooks (``safecall``): an observer that raises is logged once, with its traceback, its later failures
are counted, and the answer goes out as it would have; one observer's failure does not keep the others from
hearing of the exchange. The recorder, the
observer of finished upstream exchanges, is the deck's (:mod:`llmreplay.sources.deck`).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmreplay.cassettes.usage import Usage
from llmreplay.catalogue import Family
from llmreplay.catalogue.cost import cost_usd
from llmreplay.control.events import EventHub
from llmreplay.journal.entry import Entry
from llmreplay.journal.store import Journal
from llmreplay.journal.view import without_keys
from llmreplay.metrics import Metrics
from llmreplay.model import Call, Reply
from llmreplay.model import Usage as TokenUsage
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.writer import clock

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

log = logging.getLogger("llmreplay.observers")


@dataclass(slots=True)
class Done:
    """What the observers need of an answered exchange. Kept while its stream is held instead of the exchange
    itself, whose call and request (and a seeded exchange's 2.5 KiB generator) are kilobytes. Not frozen: one is
    made per request, and a frozen dataclass sets each of its 15 fields through ``object.__setattr__``."""

    endpoint: str = "other"
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    denied: bool = False
    outcome: Outcome | None = None
    source: str | None = None
    answered_by: dict[str, Any] | None = None
    reply: Reply | None = None
    entry: Entry | None = None
    """The exchange's journal entry, completed when the answer is over (None when the journal keeps none)."""
    key: str | None = None
    """The route's finer configuration key, where it has one (Gemini's generate or stream, v1 or v1beta)."""
    method: str = ""
    path: str = ""
    """The call's method and path, for the cassette usage report's misses."""
    family: Family | None = None
    """Its model's catalogue family, whose prices give the exchange's cost."""
    tokens_later: Callable[[], TokenUsage | None] | None = None
    """Where its tokens come from when they are counted once the answer is over (a replayed recording's)."""


NOTHING_DONE = Done()


def _cost(done: Done, tokens_out: int) -> float | None:
    """The exchange's cost at its family's prices: the reply's usage where one was made (cached and reasoning
    tokens priced as such), else the counted tokens (a replay's recorded usage, an upstream's answer)."""
    usage = done.reply.usage if done.reply is not None else TokenUsage(done.input_tokens, tokens_out)
    return cost_usd(done.family, usage)


_IDS = itertools.count(1)
_PROCESS = os.urandom(4).hex()
"""Each process's own prefix: request ids from workers and replicas sharing one journal view never collide."""


def request_id() -> str:
    """``req_`` and 24 hex digits, unique across the processes sharing a state: a counter, not a random draw
    (a seeded exchange's generator must draw exactly what it drew before the journal existed)."""
    return f"req_{_PROCESS}{next(_IDS):016x}"


class Observers:
    """Tells the metrics and the event stream of each exchange's start and end."""

    def __init__(
        self, metrics: Metrics, events: EventHub, journal: Journal | None = None, usage: Usage | None = None
    ) -> None:
        self.metrics = metrics
        self.events = events
        self.journal = journal
        self.usage = usage
        """Recordings played and requests missed, when cassettes are in play (``GET /api/cassette-usage``)."""
        self.failures = 0
        """Observer errors caught (each logged; the answer was not affected)."""
        self._logged: set[str] = set()

    def opened(
        self, call: Call, endpoint: str, t0: float, test_id: str | None, ex: Exchange | None = None
    ) -> Entry | None:
        """The journal entry of an exchange whose answer is ready, told before its first byte (so that a
        stream in flight is listed); None when the journal keeps nothing."""
        journal = self.journal
        if journal is None or not journal.size:
            return None
        try:
            req = ex.request if ex is not None else None
            # The neutral view is read again from the call when the entry is shown, not kept (see Entry.codec).
            readable = ex is not None and not ex.verbatim and ex.route.op is None
            # In field order, not by name: binding ten keywords took longer than making the entry (0.9 against 0.5 µs).
            entry = Entry(
                request_id(),  # id
                time.time() - (clock() - t0),  # time
                test_id,
                endpoint,
                call.method,
                call.path,
                req.model if req is not None else None,  # model
                call,
                None,  # request
                codec=ex.route.codec if readable and ex is not None else None,
            )
            journal.add(entry)
        except Exception:
            self._failed("journal")
            return None
        return entry

    def again(self, first: Entry, t0: float) -> Entry | None:
        """A journal entry for the same call as ``first``'s, arrived at ``t0`` and answered alike (a kept answer,
        :mod:`llmreplay.kept`)."""
        journal = self.journal
        if journal is None or not journal.size:
            return None
        try:
            f = first
            arrived = time.time() - (clock() - t0)
            entry = Entry(request_id(), arrived, f.test_id, f.endpoint, f.method, f.path, f.model, f.call, None)
            entry.codec, entry.family, entry.body_cut = f.codec, f.family, f.body_cut
            journal.add(entry)
        except Exception:
            self._failed("journal")
            return None
        return entry

    def started(self, endpoint: str, method: str, path: str, stream: bool, key: str | None = None) -> None:
        try:
            self.metrics.started(endpoint, stream=stream)
        except Exception:
            self._failed("metrics")
        if not self.events.clients:
            return  # no dashboard watching: nothing to word
        try:
            which = {"key": key} if key else {}
            self.events.publish(
                "request.start", endpoint=endpoint, method=method, path=without_keys(path), stream=stream, **which
            )
        except Exception:
            self._failed("events")

    def finished(self, done: Done, status: int, stream: bool, marks: dict[str, float], t0: float, end: float) -> None:
        if done.tokens_later is not None:
            done = _with_tokens(done)
        ttfb = marks["first"] - t0 if "first" in marks else None
        chunks = int(marks.get("chunks", 0))
        tokens_out = done.output_tokens if status < 400 else 0
        usd = _cost(done, tokens_out) if status < 400 else None
        try:
            self._count(done, status, stream, ttfb, chunks, tokens_out, end - t0)
            if usd is not None:
                self.metrics.cost(done.endpoint, done.model or "", usd)
        except Exception:
            self._failed("metrics")
        try:
            self._tell(done, status, stream, ttfb, chunks, tokens_out, end - t0)
        except Exception:
            self._failed("events")
        if done.entry is not None:
            done.entry.cost_usd = usd
            try:
                self._journal(done, status, stream, ttfb, chunks, tokens_out, end - t0)
            except Exception:
                self._failed("journal")
        if self.usage is not None:
            try:
                self._used(self.usage, done)
            except Exception:
                self._failed("usage")

    @staticmethod
    def _used(usage: Usage, done: Done) -> None:
        by = done.answered_by or {}
        if "cassette" in by:
            usage.play(str(by["cassette"]), int(by["index"]))
        elif "missed" in by or done.source == "synthetic":
            # With cassettes in play a synthetic reply only answers what they missed. What answered instead: that
            # reply, the upstream (forwarded, not recorded) or the miss's error.
            path = without_keys(done.path)
            cassette = str(by.get("missed", "*"))
            usage.miss(done.method, path, done.endpoint, done.model, cassette, done.source or "error")

    def _journal(
        self, done: Done, status: int, stream: bool, ttfb: float | None, chunks: int, tokens_out: int, total: float
    ) -> None:
        entry = done.entry
        assert entry is not None and self.journal is not None
        entry.model = entry.model or done.model
        entry.source, entry.answered_by, entry.reply = done.source, done.answered_by, done.reply
        entry.outcome = done.outcome.text if done.outcome is not None and not done.outcome.is_ok else None
        entry.status, entry.stream, entry.chunks = status, stream, chunks
        entry.ttfb_ms = None if ttfb is None else round(ttfb * 1000, 2)
        entry.duration_ms = round(total * 1000, 2)
        entry.input_tokens, entry.output_tokens = done.input_tokens, tokens_out
        self.journal.finished(entry)

    def _count(
        self, done: Done, status: int, stream: bool, ttfb: float | None, chunks: int, tokens_out: int, total: float
    ) -> None:
        m, endpoint = self.metrics, done.endpoint
        if done.denied:
            m.denied(endpoint)
        if done.outcome is not None and not done.outcome.is_ok:
            m.fault(endpoint, done.outcome.name)
        m.answered(
            endpoint,
            status=status,
            stream=stream,
            total_s=total,
            ttfb_s=ttfb,
            chunks=chunks,
            input_tokens=done.input_tokens,
            output_tokens=tokens_out,
        )

    def _tell(
        self, done: Done, status: int, stream: bool, ttfb: float | None, chunks: int, tokens_out: int, total: float
    ) -> None:
        hub, endpoint = self.events, done.endpoint
        if not hub.clients:
            return  # no dashboard watching: nothing to word
        # Which call it was, for the original's ids (the key tells Gemini's generate from stream, v1 from v1beta).
        entry = done.entry
        which: dict[str, str] = {"path": without_keys(entry.path), "request_id": entry.id} if entry is not None else {}
        if done.key:
            which["key"] = done.key
        model = None if done.model is None else without_keys(done.model)
        if done.denied:
            hub.publish("rate_limited", endpoint=endpoint, model=model, **which)
        if done.outcome is not None and not done.outcome.is_ok:
            hub.publish("fault", endpoint=endpoint, fault=done.outcome.text, **which)
        hub.publish(
            "request.end",
            **which,
            endpoint=endpoint,
            model=model,
            status=status,
            stream=stream,
            duration_ms=round(total * 1000, 2),
            ttfb_ms=None if ttfb is None else round(ttfb * 1000, 2),
            input_tokens=done.input_tokens,
            output_tokens=tokens_out,
            chunks=chunks,
        )

    def _failed(self, hook: str) -> None:
        self.failures += 1
        if hook in self._logged:
            return
        self._logged.add(hook)
        log.exception("an observer failed in %r; the answer was not affected (further failures are counted)", hook)


def _with_tokens(done: Done) -> Done:
    """``done`` with the tokens it counts only now (a replayed recording's), or as it was if they cannot be read."""
    try:
        usage = done.tokens_later() if done.tokens_later is not None else None
    except Exception:
        log.exception("llmreplay: could not count a replayed answer's tokens")
        usage = None
    if usage is None:
        return dataclasses.replace(done, tokens_later=None)
    return dataclasses.replace(
        done,
        input_tokens=usage.input_tokens or done.input_tokens,
        output_tokens=usage.output_tokens,
        tokens_later=None,
    )
