"""What changed between two cassettes: requests added and removed, answers changed, usage and timing.

Recordings are paired by their match key (:func:`~llmreplay.cassettes.keys.key_of`, stream and plain kept
apart), the n-th recording of a request in one with the n-th in the other, so a re-recorded cassette lines up
with the old one whatever the order its calls came in. A paired recording is compared by what a client sees:
its status, its answer (text and tool calls, read through the codec, so ids that differ on every call are not a
change), its token usage and its timing (time to first event and to the end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from llmreplay.cassettes.keys import MatchConfig, key_of
from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.provenance import model_of
from llmreplay.cassettes.summary import reply_of
from llmreplay.model import Reply, Text, ToolCall

KEYED = MatchConfig(stream_in_key=True)
"""How recordings are paired: as replay matches them, except that a stream and a plain answer are different."""
TIMING_CHANGE = 0.2
"""A time to first event or to the end that moved by more than this share (and 50 ms) is reported."""
TIMING_FLOOR_MS = 50.0
SHOWN = 60
"""Characters of an answer shown when it changed."""


@dataclass(frozen=True, slots=True)
class Side:
    """One recording of a pair: its place in its cassette and the recording."""

    index: int
    it: Interaction

    @property
    def label(self) -> str:
        req = self.it.request
        model = model_of(self.it)
        return f"#{self.index} {req.method} {req.path}" + (f" {model}" if model else "")


@dataclass
class Diff:
    """Recordings only in A, only in B, and the pairs that differ with how."""

    removed: list[Side] = field(default_factory=list)
    added: list[Side] = field(default_factory=list)
    changed: list[tuple[Side, Side, list[str]]] = field(default_factory=list)
    same: int = 0

    @property
    def empty(self) -> bool:
        return not (self.removed or self.added or self.changed)

    def lines(self, a_name: str, b_name: str) -> list[str]:
        out = [f"- {s.label}: only in {a_name}" for s in self.removed]
        out += [f"+ {s.label}: only in {b_name}" for s in self.added]
        for a, b, how in self.changed:
            where = a.label if a.index == b.index else f"{a.label} (#{b.index} in {b_name})"
            out.append(f"~ {where}: " + "; ".join(how))
        out.append(
            f"{a_name} -> {b_name}: {self.same} same, {len(self.changed)} changed, "
            f"{len(self.added)} added, {len(self.removed)} removed"
        )
        return out


def _key(it: Interaction) -> str:
    return key_of(it.request, KEYED, verbatim=it.api is None)


def diff(a: Iterable[Interaction], b: Iterable[Interaction]) -> Diff:
    """How cassette B's recordings differ from A's."""
    waiting: dict[str, list[Side]] = {}
    for i, it in enumerate(a):
        waiting.setdefault(_key(it), []).append(Side(i, it))
    out = Diff()
    for j, it in enumerate(b):
        olds = waiting.get(_key(it))
        if not olds:
            out.added.append(Side(j, it))
            continue
        old, new = olds.pop(0), Side(j, it)
        how = changes(old.it, new.it)
        if how:
            out.changed.append((old, new, how))
        else:
            out.same += 1
    out.removed = sorted((s for sides in waiting.values() for s in sides), key=lambda s: s.index)
    return out


def changes(a: Interaction, b: Interaction) -> list[str]:
    """What a client would see differ between two recordings of the same request."""
    ra, rb = a.response, b.response
    out: list[str] = []
    if ra.status != rb.status:
        out.append(f"status {ra.status} -> {rb.status}")
    if ra.stream != rb.stream:
        out.append("stream -> plain" if ra.stream else "plain -> stream")
    if ra.error != rb.error:
        out.append(f"upstream error {ra.error or 'none'} -> {rb.error or 'none'}")
    reply_a, reply_b = reply_of(a), reply_of(b)
    if reply_a is not None and reply_b is not None:
        out.extend(_reply_changes(reply_a, reply_b))
    elif ra.raw != rb.raw:
        out.append(f"body changed ({len(ra.raw)} -> {len(rb.raw)} bytes)")
    out.extend(_timing_changes(a, b))
    return out


def _said(reply: Reply) -> str:
    parts: list[str] = []
    for c in reply.candidates:
        for p in c.parts:
            if isinstance(p, Text):
                parts.append(p.text)
            elif isinstance(p, ToolCall):
                parts.append(f"{p.name}({p.arguments})")
    return "".join(parts)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 1] + "…")


def _reply_changes(a: Reply, b: Reply) -> list[str]:
    out: list[str] = []
    said_a, said_b = _said(a), _said(b)
    if said_a != said_b:
        out.append(f"answer {_short(said_a)} -> {_short(said_b)}")
    finish_a = [c.finish.value for c in a.candidates]
    finish_b = [c.finish.value for c in b.candidates]
    if finish_a != finish_b:
        out.append(f"finish {','.join(finish_a)} -> {','.join(finish_b)}")
    ua, ub = a.usage, b.usage
    if (ua.input_tokens, ua.output_tokens) != (ub.input_tokens, ub.output_tokens):
        out.append(
            f"usage {ua.input_tokens} in / {ua.output_tokens} out -> {ub.input_tokens} in / {ub.output_tokens} out"
        )
    return out


def _first_ms(it: Interaction) -> float:
    events = it.response.events
    return (events[0].at_us if events else it.response.end_us) / 1000


def _timing_changes(a: Interaction, b: Interaction) -> list[str]:
    out: list[str] = []
    pairs = [("duration", a.response.end_us / 1000, b.response.end_us / 1000)]
    if a.response.stream and b.response.stream:  # a plain answer's first byte is its end
        pairs.insert(0, ("first event", _first_ms(a), _first_ms(b)))
    for what, old, new in pairs:
        moved = abs(new - old)
        if moved > TIMING_FLOOR_MS and moved > TIMING_CHANGE * max(old, new):
            out.append(f"{what} {old:.0f} ms -> {new:.0f} ms")
    return out


__all__ = ["KEYED", "Diff", "Side", "changes", "diff"]
