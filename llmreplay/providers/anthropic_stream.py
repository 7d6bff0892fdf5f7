"""The Anthropic Messages event stream: a Reply → frames, and a recorded stream → events → Reply.

Every event carries an ``event:`` line (the SDK ignores events without one) and its
data's ``type`` equals it. Order: ``message_start``; per block ``content_block_start``,
deltas, ``content_block_stop`` (a ``ping`` after the first block start);
``message_delta`` with the cumulative usage; ``message_stop``. No ``[DONE]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from llmreplay.model import Frame, Part, Reply, Text, Thinking, ToolCall
from llmreplay.providers import anthropic_content as content
from llmreplay.providers.base import StreamEvent, dumps, split
from llmreplay.sse import encode_sse, parse_sse

_PING = b'event: ping\ndata: {"type": "ping"}\n\n'


def event(data: dict[str, Any]) -> bytes:
    """One SSE event named after its data's ``type``."""
    return encode_sse(dumps(data), event=data["type"])


# ---- rendering ------------------------------------------------------------------------


Encode = Callable[[dict[str, Any]], bytes]
"""One event's data as a framing carries it: :func:`event` for SSE; Bedrock wraps the JSON in an event-stream
chunk instead, from the same data (``bedrock_invoke``), so the events' shape has this one home."""


class _Frames:
    """Collects the frames of one stream; content pieces are paced, bookkeeping is not."""

    def __init__(self, encode: Encode) -> None:
        self.frames: list[Frame] = []
        self.encode = encode

    def add(self, data: dict[str, Any], paced: bool = False) -> None:
        self.frames.append(Frame(self.encode(data), paced=paced))

    def delta(self, index: int, delta: dict[str, Any], paced: bool = True) -> None:
        self.add({"type": "content_block_delta", "index": index, "delta": delta}, paced)


def _start(part: Part) -> dict[str, Any] | None:
    """The block as ``content_block_start`` announces it: empty for streamed kinds, whole otherwise."""
    whole = content.block(part)
    if whole is None:
        return None
    if isinstance(part, Text) or content.refusal_text(part) is not None:
        return {"type": "text", "text": ""}
    if isinstance(part, Thinking):
        return {"type": "thinking", "thinking": "", "signature": ""}
    if isinstance(part, ToolCall):
        return {**whole, "input": {}}
    return whole


def _deltas(out: _Frames, index: int, part: Part, chunk_size: int) -> None:
    said = part.text if isinstance(part, Text) else content.refusal_text(part)
    if said is not None:
        for piece in split(said, chunk_size):
            out.delta(index, {"type": "text_delta", "text": piece})
    elif isinstance(part, Thinking):
        for piece in split(part.text, chunk_size):
            out.delta(index, {"type": "thinking_delta", "thinking": piece})
        out.delta(index, {"type": "signature_delta", "signature": part.signature}, paced=False)
    elif isinstance(part, ToolCall):
        # The real API opens every tool input with an empty fragment.
        out.delta(index, {"type": "input_json_delta", "partial_json": ""}, paced=False)
        for piece in split(content.streamed_arguments(part), chunk_size):
            out.delta(index, {"type": "input_json_delta", "partial_json": piece})


def render_frames(
    reply: Reply, chunk_size: int, encode: Encode = event, ping: bytes | None = _PING
) -> tuple[Frame, ...]:
    """The frames of a stream telling ``reply`` (its first candidate), each event as ``encode`` has it; ``ping``
    (None: no ping) after the first block starts."""
    cand = content.first_candidate(reply)
    out = _Frames(encode)
    start = {
        "id": content.message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": content.usage(reply.usage, output_tokens=min(1, reply.usage.output_tokens)),
    }
    out.add({"type": "message_start", "message": start})
    index = 0
    for part in cand.parts:
        block = _start(part)
        if block is None:
            continue
        out.add({"type": "content_block_start", "index": index, "content_block": block})
        if index == 0 and ping is not None:
            out.frames.append(Frame(ping, paced=False))
        _deltas(out, index, part, chunk_size)
        out.add({"type": "content_block_stop", "index": index})
        index += 1
    if index == 0 and ping is not None:
        out.frames.append(Frame(ping, paced=False))
    delta = {"stop_reason": content.stop_reason(cand), "stop_sequence": content.stop_sequence(cand)}
    out.add({"type": "message_delta", "delta": delta, "usage": content.delta_usage(reply.usage)})
    out.add({"type": "message_stop"})
    return tuple(out.frames)


# ---- parsing ------------------------------------------------------------------------------


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every event of a complete stream body, typed by its ``event:`` name."""
    out: list[StreamEvent] = []
    for ev in parse_sse(body):
        data = ev.json_or_none()
        kind = ev.event or (data.get("type") if isinstance(data, dict) else None) or "message"
        out.append(StreamEvent(kind, data, ev.raw))
    return out


def encode_events(events: list[StreamEvent]) -> bytes:
    """The events' bytes back to back (recorded events keep their exact bytes)."""
    return b"".join(e.raw for e in events)


class _Block:
    """One content block being accumulated from its start and deltas."""

    def __init__(self, start: dict[str, Any]) -> None:
        self.data = dict(start)
        self.json = ""

    def apply(self, delta: dict[str, Any]) -> None:
        kind = delta.get("type")
        if kind == "text_delta":
            self.data["text"] = self.data.get("text", "") + delta.get("text", "")
        elif kind == "thinking_delta":
            self.data["thinking"] = self.data.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            self.data["signature"] = delta.get("signature", "")
        elif kind == "input_json_delta":
            self.json += delta.get("partial_json", "")
        elif kind == "citations_delta":
            self.data.setdefault("citations", []).append(delta.get("citation"))

    def part(self) -> Part:
        if self.json:
            try:
                self.data["input"] = json.loads(self.json)
            except ValueError:
                self.data["input"] = {}
        return content.to_part(self.data)


def events_to_reply(events: list[StreamEvent]) -> Reply:
    """Accumulate a stream as the SDK does: blocks by index, usage overwritten by ``message_delta``."""
    msg: dict[str, Any] = {}
    blocks: dict[int, _Block] = {}
    usage: dict[str, Any] = {}
    for ev in events:
        d = ev.data if isinstance(ev.data, dict) else {}
        kind = d.get("type", ev.type)
        if kind == "message_start":
            msg = dict(d.get("message") or {})
            usage.update(msg.get("usage") or {})
        elif kind == "content_block_start":
            blocks[int(d.get("index", len(blocks)))] = _Block(d.get("content_block") or {})
        elif kind == "content_block_delta":
            b = blocks.get(int(d.get("index", -1)))
            if b is not None:
                b.apply(d.get("delta") or {})
        elif kind == "message_delta":
            delta = d.get("delta") or {}
            msg["stop_reason"] = delta.get("stop_reason")
            msg["stop_sequence"] = delta.get("stop_sequence")
            usage.update({k: v for k, v in (d.get("usage") or {}).items() if v is not None})
        elif kind == "error":
            # A stream cut by an error event never finished; no Anthropic reason says so, hence OTHER.
            msg["stop_reason"] = msg.get("stop_reason") or "error"
    msg["usage"] = usage
    parts = [blocks[i].part() for i in sorted(blocks)]
    return content.to_reply(msg, parts)
