"""The built-in fault kinds, listed explicitly, and everything derived from the list.

No kind registers itself on import; the order below (the kinds, then the original
server's names for some of their spellings) is the order of ``GET /api/failure-modes``,
of the dashboard's table and of the docs table.
"""

from __future__ import annotations

from llmreplay.registries import by_name
from llmreplay.shaping.faultkinds.aliases import ORIGINAL, Alias
from llmreplay.shaping.faultkinds.bad_tool_args import BadToolArgs
from llmreplay.shaping.faultkinds.base import FaultKind, Mode
from llmreplay.shaping.faultkinds.content_filter import ContentFilter
from llmreplay.shaping.faultkinds.context_length import ContextLength
from llmreplay.shaping.faultkinds.cut_json import CutJson
from llmreplay.shaping.faultkinds.disconnect import Disconnect
from llmreplay.shaping.faultkinds.empty import Empty
from llmreplay.shaping.faultkinds.empty_reply import EmptyReply
from llmreplay.shaping.faultkinds.malformed import Malformed
from llmreplay.shaping.faultkinds.ok import Ok
from llmreplay.shaping.faultkinds.prompt_filter import PromptFilter
from llmreplay.shaping.faultkinds.refusal import Refusal
from llmreplay.shaping.faultkinds.reset import Reset
from llmreplay.shaping.faultkinds.schema_violation import SchemaViolation
from llmreplay.shaping.faultkinds.slow_first_token import SlowFirstToken
from llmreplay.shaping.faultkinds.slow_headers import SlowHeaders
from llmreplay.shaping.faultkinds.slow_response import SlowResponse
from llmreplay.shaping.faultkinds.stall import Stall
from llmreplay.shaping.faultkinds.status import Status
from llmreplay.shaping.faultkinds.stream_error import StreamError
from llmreplay.shaping.faultkinds.timeout import Timeout
from llmreplay.shaping.faultkinds.truncate import Truncate
from llmreplay.shaping.faultkinds.unknown_tool import UnknownTool

STATUS = Status()
"""The kind spelled as a number; the grammar needs it by name."""

BUILTIN: tuple[FaultKind, ...] = (
    Ok(),
    STATUS,
    Timeout(),
    Reset(),
    Empty(),
    SlowHeaders(),
    SlowFirstToken(),
    SlowResponse(),
    Disconnect(),
    Stall(),
    Malformed(),
    StreamError(),
    Truncate(),
    Refusal(),
    ContentFilter(),
    PromptFilter(),
    ContextLength(),
    BadToolArgs(),
    SchemaViolation(),
    UnknownTool(),
    EmptyReply(),
    CutJson(),
)


def index(kinds: tuple[FaultKind, ...]) -> dict[str, FaultKind]:
    """The kinds by name; a name given twice is a mistake caught at import."""
    return by_name(kinds, "fault kind")


KINDS: dict[str, FaultKind] = index(BUILTIN)
"""Every kind by ``Outcome.kind``."""


def alias_index(aliases: tuple[Alias, ...], kinds: dict[str, FaultKind]) -> dict[str, Alias]:
    """The aliases by name; one named twice, or named like a kind, is a mistake caught at import."""
    found = by_name(aliases, "fault alias")
    taken = sorted(set(found) & set(kinds))
    if taken:
        raise ValueError(f"fault alias named like a kind: {', '.join(taken)}")
    return found


ALIASES: dict[str, Alias] = alias_index(ORIGINAL, KINDS)
"""Bare words the grammar reads as another spelling (the original server's error types)."""


def _alias_mode(alias: Alias) -> Mode:
    means = KINDS.get(alias.means, KINDS["status"])
    return Mode(alias.name, alias.name, alias.description, means.when, alias.name)


MODES: tuple[Mode, ...] = (
    *(m for kind in BUILTIN for m in kind.modes()),
    *(_alias_mode(a) for a in ALIASES.values()),
)
"""Every line of ``GET /api/failure-modes``, in order."""

STREAM_KINDS = frozenset(k.name for k in BUILTIN if k.when == "mid-stream")
"""Kinds that act once the status line is out."""
EARLY_KINDS = frozenset(k.name for k in BUILTIN if k.when == "before any byte")
"""Kinds that act before any byte is sent."""
CONTENT_KINDS = frozenset(k.name for k in BUILTIN if k.when == "in the reply")
"""Kinds that change what the model says (a refusal, a filter, a bad tool call) instead of the reply."""


def markdown_table() -> str:
    """The failure-kinds table of docs/shaping.md: one row per mode, spellings as code."""
    rows = ["| Outcome | Acts | Effect |", "|---|---|---|"]
    for m in MODES:
        spellings = " / ".join(f"`{s.strip()}`" for s in m.syntax.split("|"))
        when = "—" if m.when == "never" else m.when
        rows.append(f"| {spellings} | {when} | {m.description} |")
    return "\n".join(rows) + "\n"
