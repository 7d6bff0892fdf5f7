"""The OpenAI Responses event stream: a Reply → frames, and a recorded stream → events → Reply.

Every event has an ``event:`` line equal to its data's ``type`` and a ``sequence_number``
counting up from 0. Order: ``response.created``, ``response.in_progress``; per output
item ``response.output_item.added``, its content events, ``response.output_item.done``;
then ``response.completed`` (or ``response.incomplete``). No ``[DONE]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from llmreplay.errors import ApiError
from llmreplay.model import Frame, Reply, Request
from llmreplay.providers import openai_common
from llmreplay.providers import openai_responses_items as items
from llmreplay.providers import openai_responses_recorded as recorded
from llmreplay.providers.base import StreamEvent, dumps
from llmreplay.sse import encode_sse, parse_sse

_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def event(data: dict[str, Any]) -> bytes:
    """One SSE event named after its data's ``type``."""
    return encode_sse(dumps(data), event=data["type"])


# ---- rendering ---------------------------------------------------------------------------


class _Events:
    """Collects the frames of one stream, numbering events; content deltas are paced, the rest not."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.seq = 0

    def add(self, data: dict[str, Any], paced: bool = False) -> None:
        data["sequence_number"] = self.seq
        self.seq += 1
        self.frames.append(Frame(event(data), paced=paced))


def _added(item: dict[str, Any]) -> dict[str, Any]:
    """An item as ``response.output_item.added`` announces it: in progress, nothing streamed yet."""
    kind = item["type"]
    if kind == "message":
        return {**item, "status": "in_progress", "content": []}
    if kind == "function_call":
        return {**item, "status": "in_progress", "arguments": ""}
    if kind == "reasoning":
        return {**item, "summary": []}
    if "status" in item:
        return {**item, "status": "in_progress"}
    return item


def _message_events(out: _Events, index: int, plan: items.Plan) -> None:
    item_id = plan.item["id"]
    for ci, (part, pieces) in enumerate(zip(plan.item["content"], plan.pieces, strict=True)):
        where = {"content_index": ci, "item_id": item_id, "output_index": index}
        if part["type"] == "output_text":
            empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            out.add({"type": "response.content_part.added", **where, "part": empty})
            for piece, logprobs in pieces:
                delta = {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": logprobs}
                out.add(delta, paced=True)
            done = {"type": "response.output_text.done", **where, "logprobs": part["logprobs"], "text": part["text"]}
            out.add(done)
        else:  # refusal
            out.add({"type": "response.content_part.added", **where, "part": {"type": "refusal", "refusal": ""}})
            for piece, _ in pieces:
                out.add({"type": "response.refusal.delta", **where, "delta": piece}, paced=True)
            out.add({"type": "response.refusal.done", **where, "refusal": part["refusal"]})
        out.add({"type": "response.content_part.done", **where, "part": part})


def _function_call_events(out: _Events, index: int, plan: items.Plan) -> None:
    where = {"item_id": plan.item["id"], "output_index": index}
    for piece, _ in plan.pieces[0]:
        out.add({"type": "response.function_call_arguments.delta", "delta": piece, **where}, paced=True)
    out.add({"type": "response.function_call_arguments.done", "arguments": plan.item["arguments"], **where})


def _reasoning_events(out: _Events, index: int, plan: items.Plan) -> None:
    where = {"item_id": plan.item["id"], "output_index": index}
    for si, (summary, pieces) in enumerate(zip(plan.item["summary"], plan.pieces, strict=True)):
        at = {**where, "summary_index": si}
        empty = {"type": "summary_text", "text": ""}
        out.add({"type": "response.reasoning_summary_part.added", **at, "part": empty})
        for piece, _ in pieces:
            out.add({"type": "response.reasoning_summary_text.delta", **at, "delta": piece}, paced=True)
        out.add({"type": "response.reasoning_summary_text.done", **at, "text": summary["text"]})
        out.add({"type": "response.reasoning_summary_part.done", **at, "part": summary})


def render_frames(reply: Reply, request: Request, chunk_size: int, seed: int) -> tuple[Frame, ...]:
    """The frames of a stream telling ``reply`` (its first candidate)."""
    out = _Events()
    plans = items.plan(reply, request, chunk_size, seed)
    started = items.response_object(reply, request, [], "in_progress", final=False)
    out.add({"type": "response.created", "response": started})
    out.add({"type": "response.in_progress", "response": started})
    for index, plan in enumerate(plans):
        out.add({"type": "response.output_item.added", "item": _added(plan.item), "output_index": index})
        kind = plan.item["type"]
        if kind == "message":
            _message_events(out, index, plan)
        elif kind == "function_call":
            _function_call_events(out, index, plan)
        elif kind == "reasoning":
            _reasoning_events(out, index, plan)
        out.add({"type": "response.output_item.done", "item": plan.item, "output_index": index})
    state, incomplete = items.status(reply)
    final = items.response_object(reply, request, [p.item for p in plans], state, incomplete)
    out.add({"type": "response.completed" if state == "completed" else "response.incomplete", "response": final})
    return tuple(out.frames)


def in_stream_error(error: ApiError, sent: Sequence[Frame] = ()) -> bytes:
    """What the API sends when a response fails mid-stream: an ``error`` event, then
    ``response.failed`` carrying the open response (same id, as the SDK checks) with
    ``status: "failed"``; both continue the stream's ``sequence_number``.
    """
    inner = openai_common.error_object(error)
    seq, response = _open_response(sent)
    data = {"type": "error", "code": inner["code"] or inner["type"], "message": inner["message"]}
    data["param"] = inner["param"]
    data["sequence_number"] = seq
    out = event(data)
    if response is not None:
        failed = {**response, "status": "failed"}
        failed["error"] = {"code": "server_error", "message": inner["message"]}
        out += event({"type": "response.failed", "response": failed, "sequence_number": seq + 1})
    return out


def _open_response(sent: Sequence[Frame]) -> tuple[int, dict[str, Any] | None]:
    """(the next sequence number, the response object of ``response.created``) of frames already sent."""
    response: dict[str, Any] | None = None
    seq = 0
    for ev in parse_sse(b"".join(f.data for f in sent)):
        try:
            data = json.loads(ev.data)
        except ValueError:
            continue
        if isinstance(data, dict):
            seq = max(seq, int(data.get("sequence_number", -1)) + 1)
            if data.get("type") == "response.created" and isinstance(data.get("response"), dict):
                response = data["response"]
    return seq, response


# ---- recorded streams -------------------------------------------------------------------


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every event of a recorded stream, typed by its ``event:`` name (or its data's ``type``)."""
    out: list[StreamEvent] = []
    for ev in parse_sse(body):
        data = ev.json_or_none()
        kind = ev.event or (data.get("type") if isinstance(data, dict) else None) or "message"
        out.append(StreamEvent(str(kind), data, ev.raw))
    return out


def encode_events(events: list[StreamEvent]) -> bytes:
    return b"".join(e.raw for e in events)


class _Accumulator:
    """Rebuilds output items from added/delta/done events, for streams cut before their terminal event."""

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {}

    def feed(self, ev: StreamEvent) -> None:
        d = ev.data if isinstance(ev.data, dict) else {}
        index = d.get("output_index")
        if ev.type in ("response.output_item.added", "response.output_item.done"):
            if isinstance(index, int) and isinstance(d.get("item"), dict):
                self.items[index] = json.loads(json.dumps(d["item"]))
            return
        item = self.items.get(index) if isinstance(index, int) else None
        if item is None:
            return
        if ev.type == "response.content_part.added" and isinstance(d.get("part"), dict):
            item.setdefault("content", []).append(dict(d["part"]))
        elif ev.type == "response.output_text.delta":
            part = self._part(item, d)
            if part is not None:
                part["text"] = str(part.get("text", "")) + str(d.get("delta", ""))
        elif ev.type == "response.function_call_arguments.delta":
            item["arguments"] = str(item.get("arguments", "")) + str(d.get("delta", ""))
        elif ev.type == "response.reasoning_summary_part.added" and isinstance(d.get("part"), dict):
            item.setdefault("summary", []).append(dict(d["part"]))
        elif ev.type == "response.reasoning_summary_text.delta":
            summary = item.get("summary") or []
            si = d.get("summary_index")
            if isinstance(si, int) and 0 <= si < len(summary):
                summary[si]["text"] = str(summary[si].get("text", "")) + str(d.get("delta", ""))

    @staticmethod
    def _part(item: dict[str, Any], d: dict[str, Any]) -> dict[str, Any] | None:
        content = item.get("content") or []
        ci = d.get("content_index")
        return content[ci] if isinstance(ci, int) and 0 <= ci < len(content) else None

    def output(self) -> list[dict[str, Any]]:
        return [self.items[i] for i in sorted(self.items)]


def events_to_reply(events: list[StreamEvent]) -> Reply:
    """The Reply a recorded stream tells: its terminal response object, else what its events built."""
    acc = _Accumulator()
    last: dict[str, Any] | None = None
    for ev in events:
        d = ev.data if isinstance(ev.data, dict) else {}
        if isinstance(d.get("response"), dict):
            last = d["response"]
            if ev.type in _TERMINAL:
                output = last.get("output")
                return recorded.to_reply(last, output if output else acc.output())
        acc.feed(ev)
    if last is None:
        raise ValueError("not an OpenAI Responses stream: no response object in any event")
    return recorded.to_reply(last, acc.output())
