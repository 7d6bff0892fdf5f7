"""The Converse event stream: a Reply → event-stream frames, and a recorded stream → events → Reply.

Order, as Bedrock sends it: ``messageStart``; per block a ``contentBlockStart`` (tool uses only: text and
reasoning blocks open with their first delta), deltas, ``contentBlockStop``; ``messageStop`` with the stop
reason; ``metadata`` with usage and metrics. Each event is one binary message (:mod:`eventstream`); the text
deltas, one per chunk, are written from precomputed header and JSON prefix bytes.
"""

from __future__ import annotations

import json
from typing import Any

from llmreplay import eventstream
from llmreplay.model import Frame, Part, Reply, Text, Thinking, ToolCall, frame_of
from llmreplay.providers import bedrock_converse_content as content
from llmreplay.providers.anthropic_content import tool_arguments
from llmreplay.providers.base import StreamEvent, dumps, split

_DELTA = eventstream.event_prefix("contentBlockDelta")


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return eventstream.event(kind, dumps(data))


def _deltas(out: list[Frame], index: int, key: str, pieces: list[str], wrap: str | None = None) -> None:
    """One paced frame per piece: ``{"contentBlockIndex":i,"delta":{key: piece}}`` (or ``{key: {wrap: piece}}``)."""
    head = b'{"contentBlockIndex":%d,"delta":{"%s":' % (index, key.encode())
    if wrap is not None:
        head += b'{"%s":' % wrap.encode()
    tail = b"}}}" if wrap is not None else b"}}"
    for piece in pieces:
        out.append(frame_of((eventstream.message(_DELTA, head + dumps(piece) + tail), None, True)))


def _block(out: list[Frame], index: int, part: Part, chunk_size: int) -> bool:
    said = part.text if isinstance(part, Text) else content.refusal_text(part)
    if said is not None:
        _deltas(out, index, "text", split(said, chunk_size))
    elif isinstance(part, ToolCall):
        start = {"toolUse": {"toolUseId": content.tool_use_id(part), "name": part.name}}
        out.append(Frame(_event("contentBlockStart", {"contentBlockIndex": index, "start": start}), paced=False))
        _deltas(out, index, "toolUse", split(tool_arguments(part), chunk_size), wrap="input")
    elif isinstance(part, Thinking):
        _deltas(out, index, "reasoningContent", split(part.text, chunk_size), wrap="text")
        if part.signature:
            sig = {"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": part.signature}}}
            out.append(Frame(_event("contentBlockDelta", sig), paced=False))
    else:
        return False
    out.append(Frame(_event("contentBlockStop", {"contentBlockIndex": index}), paced=False))
    return True


def render_frames(reply: Reply, chunk_size: int) -> tuple[Frame, ...]:
    """The frames of a stream telling ``reply`` (its first candidate)."""
    cand = content.first_candidate(reply)
    out = [Frame(_event("messageStart", {"role": "assistant"}), paced=False)]
    index = 0
    for part in cand.parts:
        if _block(out, index, part, chunk_size):
            index += 1
    out.append(Frame(_event("messageStop", {"stopReason": content.stop_reason(cand)}), paced=False))
    metadata = {"usage": content.usage(reply.usage), "metrics": {"latencyMs": 0}}
    out.append(Frame(_event("metadata", metadata), paced=False))
    return tuple(out)


# ---- parsing ------------------------------------------------------------------------------------


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every message of a recorded stream, typed by its event (or exception) name."""
    out: list[StreamEvent] = []
    for headers, payload, raw in eventstream.split(body):
        kind = headers.get(":event-type") or headers.get(":exception-type") or "message"
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = None
        out.append(StreamEvent(kind, data, raw))
    return out


class _Block:
    def __init__(self) -> None:
        self.text: str | None = None
        self.reasoning: str | None = None
        self.signature = ""
        self.tool: dict[str, Any] | None = None
        self.json = ""

    def apply(self, delta: dict[str, Any]) -> None:
        if isinstance(delta.get("text"), str):
            self.text = (self.text or "") + delta["text"]
        elif isinstance(delta.get("toolUse"), dict):
            self.json += str(delta["toolUse"].get("input", ""))
        elif isinstance(delta.get("reasoningContent"), dict):
            r = delta["reasoningContent"]
            if isinstance(r.get("text"), str):
                self.reasoning = (self.reasoning or "") + r["text"]
            if isinstance(r.get("signature"), str):
                self.signature = r["signature"]

    def part(self) -> Part:
        if self.tool is not None:
            try:
                args = json.loads(self.json) if self.json else {}
            except ValueError:
                args = {}
            return content.to_part({"toolUse": {**self.tool, "input": args}})
        if self.reasoning is not None:
            return Thinking(self.reasoning, self.signature)
        return Text(self.text or "")


def events_to_reply(events: list[StreamEvent]) -> Reply:
    """Accumulate a stream as boto3's user would: blocks by index, the stop reason, the metadata's usage."""
    blocks: dict[int, _Block] = {}
    stop: str | None = None
    usage: dict[str, Any] | None = None
    for ev in events:
        d = ev.data if isinstance(ev.data, dict) else {}
        if ev.type in ("contentBlockStart", "contentBlockDelta"):
            b = blocks.setdefault(int(d.get("contentBlockIndex", len(blocks))), _Block())
            use = (d.get("start") or {}).get("toolUse")
            if isinstance(use, dict):
                b.tool = use
            b.apply(d.get("delta") or {})
        elif ev.type == "messageStop":
            stop = d.get("stopReason")
        elif ev.type == "metadata":
            usage = d.get("usage")
        elif ev.type.endswith("Exception"):
            stop = stop or "error"
    parts = [blocks[i].part() for i in sorted(blocks)]
    return content.to_reply(stop, usage, parts, b"".join(e.raw for e in events))


__all__ = ["events_to_reply", "parse_events", "render_frames"]
