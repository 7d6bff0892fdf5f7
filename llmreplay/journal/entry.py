"""One exchange as the journal keeps it: what came in, and what answered it.

The road creates an :class:`Entry` before the first byte (it is in the journal while its answer is written)
and completes it once the answer is over. Everything is kept as it came (the call, the neutral request and
reply); the JSON view, with its secrets redacted, is built only when someone reads it
(:mod:`llmreplay.journal.view`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmreplay.catalogue import Family
from llmreplay.codec import Codec
from llmreplay.model import Call, Reply, Request


@dataclass(slots=True, eq=False)
class Entry:
    """One exchange in the journal. The fields after ``request`` are filled in as the answer goes out."""

    id: str
    """``req_`` and 24 hex digits, also sent back as ``x-llmreplay-request-id``."""
    time: float
    """Unix seconds at arrival."""
    test_id: str | None
    """The test it belongs to (``x-llmreplay-test-id``), or None."""
    endpoint: str
    """The route's endpoint name (``chat-completions`` …; ``other`` for paths no codec knows)."""
    method: str
    path: str
    model: str | None
    call: Call
    """The call as it came; secrets are redacted when shown, not here (adding an entry stays cheap)."""
    request: Request | None
    """The neutral view, where one is kept; else :attr:`codec` reads it from the call when the entry is shown."""
    reply: Reply | None = None
    """The neutral reply, where the source made one (synthetic, rule)."""
    source: str | None = None
    """What answered: ``rule``, ``cassette``, ``upstream``, ``synthetic``; for an early answer, ``fault`` (an
    injected outcome), ``rate-limit``, ``disabled`` (a switched-off endpoint) or ``error`` (a request no source
    could answer, a bad one)."""
    answered_by: dict[str, Any] | None = None
    """Which of the source answered: ``{"rule": name, "step": i}``, ``{"cassette": name, "index": i}``,
    ``{"upstream": url}`` or ``{"synthetic": True}``."""
    outcome: str | None = None
    """The fault or status applied (the outcome grammar's spelling), None for a plain answer."""
    status: int = 0
    """The HTTP status sent; 0 while none is (or when the connection was cut before the headers)."""
    stream: bool = False
    ttfb_ms: float | None = None
    duration_ms: float | None = None
    chunks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    done: bool = False
    """Set by :meth:`Journal.finished <llmreplay.journal.store.Journal.finished>` once the answer is over."""
    codec: Codec | None = None
    """The codec that reads the call into its neutral view, when shown. The road keeps no parsed request in
    the journal: a parsed body is hundreds of objects, and thousands of entries' worth kept alive made the
    cyclic collector's full passes cost every exchange tens of microseconds."""
    body_cut: bool = False
    """Whether the journal kept only the first ``max_body_kb`` of the body (set by the journal)."""
    family: Family | None = None
    """Its model's catalogue family (limits, prices); ``UNKNOWN`` for a model the catalogue does not know."""
    cost_usd: float | None = None
    """What it cost at its family's prices (docs/models.md); None for an error or a model without prices."""
