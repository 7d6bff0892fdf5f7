"""The headers an answer carries to say where it came from: the journal entry holding the exchange, what answered
it and which cassette it came from or went into. The access log reads the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.cassettes.catalog import CASSETTE_HEADER
from llmreplay.sources.cassette import cassette_label

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.observers import Done

SOURCE = "x-llmreplay-source"
"""The answer's header that says what answered it (:func:`source_label`); the access log reads it too."""
CASSETTE = CASSETTE_HEADER
"""The answer's header naming the cassette it came from or went into (:func:`cassette_label`); the access log
reads it too."""
REQUEST_ID = "x-llmreplay-request-id"
"""The answer's header naming its journal entry (``GET /api/requests/{id}``)."""


def source_label(later: Done | Exchange) -> str:
    """What answered, as ``x-llmreplay-source`` and the access log say it: ``rule:NAME#STEP``,
    ``cassette:NAME#INDEX``, ``upstream``, ``synthetic``, ``fault``, ``rate-limit``, ``disabled`` (a
    switched-off endpoint) or ``error``."""
    source = later.source or "error"
    by = later.answered_by
    if by is not None:
        if "rule" in by:
            return f"rule:{by['rule']}#{by['step']}"
        if "cassette" in by:
            return f"cassette:{by['cassette']}#{by['index']}"
    return source


def labels(later: Done | Exchange) -> tuple[tuple[str, str], ...]:
    """The headers that tell the client which journal entry holds its exchange, what answered it and from or
    into which cassette (the writer adds them: copying the answer to add them would cost more than the rest of
    the journal)."""
    entry = later.entry
    found = [(SOURCE, source_label(later))]
    if entry is not None:
        found.insert(0, (REQUEST_ID, entry.id))
    cassette = cassette_label(later.answered_by)
    if cassette is not None:
        found.append((CASSETTE, cassette))
    return tuple(found)
