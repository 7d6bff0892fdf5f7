"""The event hub: what happens in the server, for the dashboard's WebSocket clients.

Publishing is O(1) and never waits: events go into one bounded ring with a
sequence number. Each WebSocket client keeps its own cursor and, every tick,
takes what is new; a client that fell behind the ring (a slow or stalled
browser) skips ahead and is told how many events it missed. So no client can
slow the data path, and memory is bounded however many clients there are.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import Any

RING = 5_000
"""Events kept for clients to catch up on."""

Event = dict[str, Any]


class EventHub:
    def __init__(self, size: int = RING, clock: Callable[[], float] = time.time) -> None:
        self._ring: deque[Event] = deque(maxlen=size)
        self._next = 0
        """Sequence number the next event gets."""
        self._clock = clock
        self.clients = 0
        """Connected WebSocket clients; with none, publishing is a no-op."""

    def publish(self, kind: str, **fields: Any) -> None:
        if not self.clients:
            return
        fields["kind"] = kind
        fields["t"] = round(self._clock() * 1000)
        self._ring.append(fields)
        self._next += 1

    @property
    def cursor(self) -> int:
        """Where a new client starts: only what happens from now on."""
        return self._next

    def since(self, cursor: int, limit: int = 1_000) -> tuple[list[Event], int, int]:
        """(events after ``cursor``, at most ``limit``; events skipped; the new cursor)."""
        first = self._next - len(self._ring)
        skipped = max(0, first - cursor)
        start = max(cursor, first)
        pending = self._next - start
        if pending > limit:
            skipped += pending - limit
            start = self._next - limit
        # The newest events sit at the right end: walk back from there, not forward from the left.
        events = list(islice(reversed(self._ring), self._next - start))
        events.reverse()
        return events, skipped, self._next
