"""The journal's feed to the dashboard: each finished entry as a ``request.journal`` event, a list row's fields
(no request or reply; the page fetches ``/api/requests/{id}`` for those).

Hook it up once, where the runtime is wired: ``journal.listeners.append(feed.to_hub(events))``.
"""

from __future__ import annotations

from typing import Any, Protocol

from llmreplay.journal.entry import Entry
from llmreplay.journal.store import Listener
from llmreplay.journal.view import summary

KIND = "request.journal"


class Hub(Protocol):
    """What the feed needs of :class:`llmreplay.control.events.EventHub`."""

    clients: int

    def publish(self, kind: str, **fields: Any) -> None: ...


def to_hub(hub: Hub) -> Listener:
    """A journal listener that publishes each finished entry to ``hub``: nothing is built while no
    dashboard is watching."""

    def tell(entry: Entry) -> None:
        if hub.clients:
            hub.publish(KIND, **summary(entry))

    return tell
