"""The request journal: recent exchanges, what was sent and what answered, for the admin API, the dashboard
and tests' assertions.

- :mod:`~llmreplay.journal.entry`: :class:`Entry`, one exchange;
- :mod:`~llmreplay.journal.store`: :class:`Journal`, the bounded ring (O(1) add and finish), and :class:`Filter`;
- :mod:`~llmreplay.journal.view`: an entry as JSON, secrets redacted, built only when read;
- :mod:`~llmreplay.journal.merge`: every process's journal as one, under ``--state``;
- :mod:`~llmreplay.journal.feed`: finished entries as dashboard events.
"""

from llmreplay.journal.entry import Entry
from llmreplay.journal.store import Filter, Journal, Listener

__all__ = ["Entry", "Filter", "Journal", "Listener"]
