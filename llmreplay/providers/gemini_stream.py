"""Gemini's ``streamGenerateContent``: a Reply → frames, and a recorded stream → events → Reply.

Two framings carry the same chunks (each a complete ``GenerateContentResponse``):

- ``?alt=sse``: ``data: <json>\\r\\n\\r\\n`` per chunk, JSON compact but for ``": "``,
  no terminator (all recorded streams);
- no ``alt``: one JSON array flushed element by element, ``[{…}\\n,\\r\\n{…}\\n]``,
  each element pretty-printed.

Chunks carry only new parts; text arrives in pieces, function calls whole; every
chunk repeats ``modelVersion``, ``responseId`` and running ``usageMetadata``; the
chunk that ends a candidate carries its ``finishReason``.
"""

from __future__ import annotations

import json
from typing import Any

from llmreplay.model import Frame, Reply, Request, Text, Thinking, ToolCall
from llmreplay.providers import gemini_render as render
from llmreplay.providers.base import RenderOptions, StreamEvent, split
from llmreplay.sse import parse_json_array_stream, parse_sse
from llmreplay.synth import tokens

SSE_SEP = b"\r\n\r\n"
ARRAY_SEP = b"\n,\r\n"
ARRAY_END = b"\n]"


# ---- rendering -------------------------------------------------------------------------------


def _pieces(reply: Reply, index: int, chunk_size: int) -> list[tuple[dict[str, Any], int, int]]:
    """One candidate's stream parts: (part, output tokens so far, thought tokens so far)."""
    out: list[tuple[dict[str, Any], int, int]] = []
    said = thought = 0
    for p in reply.candidates[index].parts:
        if isinstance(p, Thinking):
            for piece in split(p.text, chunk_size):
                thought += tokens.count(piece)
                out.append(({"text": piece, "thought": True}, said, thought))
            if p.signature:
                out[-1][0]["thoughtSignature"] = p.signature
        elif isinstance(p, Text):
            for piece in split(p.text, chunk_size):
                said += tokens.count(piece)
                out.append(({"text": piece}, said, thought))
        else:
            part = render.render_part(p)
            if part is not None:
                if isinstance(p, ToolCall):
                    said += tokens.count(p.name) + tokens.count(p.arguments)
                out.append((part, said, thought))
    return out or [({"text": ""}, 0, 0)]


def chunks(reply: Reply, request: Request, opts: RenderOptions) -> list[dict[str, Any]]:
    """The chunk objects of a stream telling ``reply``; candidates advance together."""
    if render.prompt_blocked(reply):
        return [render.blocked_response(reply)]
    plans = [_pieces(reply, i, opts.chunk_size) for i in range(len(reply.candidates))]
    steps = max((len(p) for p in plans), default=1)
    rid = render.response_id(reply)
    final_thoughts = reply.usage.reasoning_tokens
    final_cands = max(0, reply.usage.output_tokens - final_thoughts)
    # Thoughts not shown (no includeThoughts) were all thought before the first chunk: every chunk counts them.
    unseen = max(0, final_thoughts - sum(plan[-1][2] for plan in plans))
    out: list[dict[str, Any]] = []
    for k in range(steps):
        cands = []
        said = thought = 0
        for i, plan in enumerate(plans):
            if k < len(plan):
                part, s, t = plan[k]
                last = k == len(plan) - 1
                lp = render.avg_logprobs(reply, i, opts.seed) if last and request.logprobs else None
                cands.append(render.render_candidate(reply.candidates[i], i, [part], last, lp))
            else:
                s, t = plan[-1][1], plan[-1][2]
            said += s
            thought += t
        if k == steps - 1:
            usage = render.usage_metadata(reply.usage)
        else:
            usage = render.usage_metadata(reply.usage, min(said, final_cands), min(unseen + thought, final_thoughts))
        out.append({"candidates": cands, "usageMetadata": usage, "modelVersion": reply.model, "responseId": rid})
    return out


def render_frames(reply: Reply, request: Request, opts: RenderOptions) -> tuple[Frame, ...]:
    """SSE frames when the call asked ``alt=sse`` (``request.wire["sse"]``), else a JSON array."""
    objs = chunks(reply, request, opts)
    if request.wire.get("sse", True):
        return tuple(Frame(b"data: " + render.sse_json(o) + SSE_SEP) for o in objs)
    frames = [Frame((b"[" if i == 0 else ARRAY_SEP) + render.pretty_json(o)) for i, o in enumerate(objs)]
    frames.append(Frame(ARRAY_END, paced=False))
    return tuple(frames)


def stream_headers(request: Request) -> tuple[tuple[str, str], ...]:
    if request.wire.get("sse", True):
        return (
            ("content-type", "text/event-stream"),
            ("content-disposition", "attachment"),
            ("vary", "Origin, X-Origin, Referer"),
        )
    return render.json_headers()


def error_event(error_obj: dict[str, Any]) -> bytes:
    return b"data: " + render.sse_json(error_obj) + SSE_SEP


# ---- parsing ---------------------------------------------------------------------------------


def _event(data: Any, raw: bytes) -> StreamEvent:
    kind = "error" if isinstance(data, dict) and "error" in data else "chunk"
    return StreamEvent(kind, data, raw)


def _parse_array(body: bytes) -> list[StreamEvent]:
    """Each element with the bytes before it (``[`` or the separator); the closing bytes ride with the last."""
    out: list[StreamEvent] = []
    pos = 0
    for element in parse_json_array_stream(body):
        end = body.index(element, pos) + len(element)
        try:
            data = json.loads(element)
        except ValueError:
            data = None
        out.append(_event(data, body[pos:end]))
        pos = end
    if pos < len(body):
        if out:
            last = out[-1]
            out[-1] = StreamEvent(last.type, last.data, last.raw + body[pos:])
        else:
            out.append(StreamEvent("end", None, body[pos:]))
    return out


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every chunk of a complete stream body, SSE or JSON array (told apart by the first byte)."""
    if body.lstrip()[:1] == b"[":
        return _parse_array(body)
    out: list[StreamEvent] = []
    for ev in parse_sse(body):
        data = ev.json_or_none()
        out.append(_event(data, ev.raw))
    return out


def encode_events(events: list[StreamEvent]) -> bytes:
    return b"".join(e.raw for e in events)


def _merge_part(parts: list[dict[str, Any]], part: dict[str, Any]) -> None:
    """Append a streamed part, joining text pieces of the same kind (thought or not)."""
    prev = parts[-1] if parts else None
    if (
        prev is not None
        and isinstance(part.get("text"), str)
        and isinstance(prev.get("text"), str)
        and bool(prev.get("thought")) == bool(part.get("thought"))
        and "thoughtSignature" not in prev
    ):
        prev["text"] += part["text"]
        for k, v in part.items():
            if k != "text":
                prev[k] = v
        return
    parts.append(dict(part))


def merge_chunks(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``GenerateContentResponse`` from a stream's chunks, as if it had not been streamed."""
    merged: dict[str, Any] = {}
    cands: dict[int, dict[str, Any]] = {}
    for obj in objs:
        for key in ("usageMetadata", "modelVersion", "responseId", "createTime", "promptFeedback"):
            if key in obj:
                merged[key] = obj[key]
        for pos, c in enumerate(obj.get("candidates") or []):
            idx = int(c.get("index", pos))
            acc = cands.setdefault(idx, {"parts": []})
            for p in (c.get("content") or {}).get("parts") or []:
                if isinstance(p, dict):
                    _merge_part(acc["parts"], p)
            if c.get("finishReason"):
                acc["finishReason"] = c["finishReason"]
    merged["candidates"] = [
        {
            "content": {"parts": c["parts"], "role": "model"},
            **({"finishReason": c["finishReason"]} if "finishReason" in c else {}),
        }
        for _, c in sorted(cands.items())
    ]
    return merged


def events_to_reply(events: list[StreamEvent]) -> Reply:
    objs = [e.data for e in events if isinstance(e.data, dict) and "error" not in e.data]
    if not objs:
        raise ValueError("no Gemini chunks in the stream")
    return render.to_reply(merge_chunks(objs))
