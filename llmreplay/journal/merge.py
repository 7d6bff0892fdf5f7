"""Every process's journal as one (``--state redis://…``): this process's entries with the finished entries the
others shared, by arrival time, less what a ``DELETE /api/requests`` anywhere cleared.

A clear made in one process is a mark (a test id, or ``*`` for every entry, and when), not a deletion in the
others: each read hides what arrived before the mark, in every process's entries alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmreplay.journal.entry import Entry
from llmreplay.journal.store import Filter, Journal
from llmreplay.journal.view import as_json

EVERY_TEST = "*"
"""The clear mark's key for a clear of every entry."""


@dataclass(frozen=True, slots=True)
class Shared:
    """What the other processes shared: their finished entries and the clears made anywhere."""

    others: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    """(arrival unix time, entry JSON) of every other live process's finished entries."""
    cleared: Mapping[str, float] = field(default_factory=dict)
    """Test id (or :data:`EVERY_TEST`) → unix time of its latest clear."""

    def hidden(self, t: float, test_id: str | None) -> bool:
        """Whether an entry of ``test_id`` that arrived at ``t`` was cleared."""
        c = self.cleared
        if not c:
            return False
        mark = c.get(EVERY_TEST)
        if mark is not None and t < mark:
            return True
        mark = c.get(test_id) if test_id is not None else None
        return mark is not None and t < mark


def find(journal: Journal, flt: Filter, shared: Shared | None) -> list[dict[str, Any]]:
    """The entries ``flt`` admits, in this process and the others, oldest first; its limit keeps the newest."""
    if shared is None:
        return [as_json(e) for e in journal.select(flt)]
    whole = Filter(flt.test_id, flt.endpoint, flt.model, flt.source, flt.since)
    rows: list[tuple[float, Entry | dict[str, Any]]] = [
        (e.time, e) for e in journal.select(whole) if not shared.hidden(e.time, e.test_id)
    ]
    rows += [(t, d) for t, d in shared.others if whole.admits_json(t, d) and not shared.hidden(t, d.get("test_id"))]
    rows.sort(key=lambda r: r[0])
    # The JSON of this process's entries is built only for those the limit keeps.
    return [as_json(x) if isinstance(x, Entry) else x for _, x in flt.last(rows)]


def get(journal: Journal, id: str, shared: Shared | None) -> dict[str, Any] | None:
    """The entry ``id`` wherever it is, unless cleared."""
    e = journal.entry(id)
    if e is not None:
        return None if shared is not None and shared.hidden(e.time, e.test_id) else as_json(e)
    if shared is None:
        return None
    for t, d in shared.others:
        if d.get("id") == id:
            return None if shared.hidden(t, d.get("test_id")) else d
    return None


def clear(journal: Journal, test_id: str | None, shared: Shared | None) -> int:
    """Forget ``test_id``'s entries (None: all) in this process; how many entries, here and in the other
    processes, the clear takes out of view (the others' are hidden by the mark the caller sets)."""
    if shared is None:
        return journal.clear(test_id)
    flt = Filter(test_id=test_id)
    here = sum(1 for e in journal.select(flt) if not shared.hidden(e.time, e.test_id))
    there = sum(1 for t, d in shared.others if flt.admits_json(t, d) and not shared.hidden(t, d.get("test_id")))
    journal.clear(test_id)
    return here + there
