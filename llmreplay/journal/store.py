"""The journal: a bounded ring of recent exchanges, by id, oldest first.

Adding and finishing an entry are O(1) and build nothing: the JSON view is made when the journal is read
(:mod:`llmreplay.journal.view`). The journal's listeners (the dashboard feed, the shared journal's pusher)
hear of each finished entry; a listener that raises is logged once and never touches the answer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from llmreplay.journal.entry import Entry
from llmreplay.journal.view import as_json

log = logging.getLogger("llmreplay.journal")

Listener = Callable[[Entry], None]


class Sizes(Protocol):
    """What the journal takes of its settings (:class:`llmreplay.config.JournalSettings`)."""

    size: int
    max_body_kb: int


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entries a read wants; every field given must hold."""

    test_id: str | None = None
    endpoint: str | None = None
    model: str | None = None
    source: str | None = None
    since: float | None = None
    """Unix seconds: only entries that arrived at or after it."""
    limit: int | None = None
    """Only the newest N (still returned oldest first)."""

    def admits(self, e: Entry) -> bool:
        return (
            (self.test_id is None or e.test_id == self.test_id)
            and (self.endpoint is None or e.endpoint == self.endpoint)
            and (self.model is None or e.model == self.model)
            and (self.source is None or e.source == self.source)
            and (self.since is None or e.time >= self.since)
        )

    def admits_json(self, t: float, d: Mapping[str, Any]) -> bool:
        """The same test on an entry's JSON (another process's), which arrived at unix time ``t``."""
        return (
            (self.test_id is None or d.get("test_id") == self.test_id)
            and (self.endpoint is None or d.get("endpoint") == self.endpoint)
            and (self.model is None or d.get("model") == self.model)
            and (self.source is None or d.get("source") == self.source)
            and (self.since is None or t >= self.since)
        )

    def last(self, items: list[Any]) -> list[Any]:
        return items[-self.limit :] if self.limit else [] if self.limit == 0 else items


class Journal:
    """Recent exchanges, at most ``size`` (the oldest go first); ``size`` 0 keeps nothing and tells no one."""

    def __init__(self, size: int, max_body_bytes: int) -> None:
        self.size = size
        self.max_body_bytes = max_body_bytes
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self.listeners: list[Listener] = []
        """Told of each entry once its answer is over (:meth:`finished`), in order; each is contained."""
        self.failures = 0
        """Listener errors caught (the first logged; the answer was not affected)."""

    @classmethod
    def of(cls, settings: Sizes) -> Journal:
        return cls(settings.size, settings.max_body_kb * 1024)

    def __len__(self) -> int:
        return len(self._entries)

    # ---- the data path ---------------------------------------------------------------------------
    def add(self, entry: Entry) -> None:
        """Keep ``entry`` (in arrival order), dropping the oldest beyond the size. O(1)."""
        if not self.size:
            return
        body = entry.call.body
        if len(body) > self.max_body_bytes:
            # Kept cut, so that the ring's memory is bounded by size × max_body whatever clients send.
            entry.call = dataclasses.replace(entry.call, body=body[: self.max_body_bytes], wire=None)
            entry.body_cut = True
        entries = self._entries
        entries[entry.id] = entry
        if len(entries) > self.size:
            entries.popitem(last=False)

    def finished(self, entry: Entry) -> None:
        """``entry``'s answer is over and its fields complete: mark it done and tell the listeners. O(1)."""
        if not self.size:
            return
        entry.done = True
        for listener in self.listeners:
            try:
                listener(entry)
            except Exception:
                self.failures += 1
                if self.failures == 1:
                    log.exception(
                        "a journal listener failed; the answer was not affected (further failures are counted)"
                    )

    # ---- reading -----------------------------------------------------------------------------------
    def select(self, flt: Filter = Filter()) -> list[Entry]:
        """The entries ``flt`` admits, oldest first, its limit applied."""
        return flt.last([e for e in self._entries.values() if flt.admits(e)])

    def find(
        self,
        test_id: str | None = None,
        endpoint: str | None = None,
        model: str | None = None,
        since: float | None = None,
        limit: int | None = None,
        source: str | None = None,
    ) -> list[dict[str, Any]]:
        """This process's entries as JSON, oldest first; ``limit`` keeps the newest N."""
        flt = Filter(test_id, endpoint, model, source, since, limit)
        return [as_json(e) for e in self.select(flt)]

    def entry(self, id: str) -> Entry | None:
        return self._entries.get(id)

    def get(self, id: str) -> dict[str, Any] | None:
        e = self._entries.get(id)
        return None if e is None else as_json(e)

    def clear(self, test_id: str | None = None) -> int:
        """Forget every entry (``test_id`` None) or one test's; returns how many were forgotten."""
        if test_id is None:
            n = len(self._entries)
            self._entries.clear()
            return n
        gone = [k for k, e in self._entries.items() if e.test_id == test_id]
        for k in gone:
            del self._entries[k]
        return len(gone)
