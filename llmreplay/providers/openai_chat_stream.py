"""The Chat Completions chunk stream: a Reply → frames, and a recorded stream → events → Reply.

Every event is ``data: <compact JSON>\\n\\n`` with no ``event:`` line, ending with
``data: [DONE]``. Per choice: a role chunk (``content:""``, or the first tool call's
header when the choice starts with a call), content pieces, tool-call headers and
argument pieces, then an empty delta with ``finish_reason``. With
``stream_options.include_usage`` every chunk carries ``"usage":null`` and a last chunk
with ``choices:[]`` carries the usage. Choices of ``n>1`` are interleaved step by step.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from llmreplay.model import Candidate, Frame, Reply, Request, Text, ToolCall, frame_of
from llmreplay.providers import openai_chat_content as content
from llmreplay.providers.base import StreamEvent, dumps, split
from llmreplay.sse import encode_sse, parse_sse

DONE = b"data: [DONE]\n\n"


def event(data: dict[str, Any]) -> bytes:
    return encode_sse(dumps(data))


# ---- rendering ------------------------------------------------------------------------


class _Chunks:
    """Builds chunks that repeat the stream's header fields."""

    def __init__(self, reply: Reply, include_usage: bool) -> None:
        self.head = {
            "id": content.completion_id(reply),
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.model,
            "service_tier": "default",
            "system_fingerprint": content.fingerprint(reply),
        }
        self.include_usage = include_usage

    def choice(self, index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None) -> bytes:
        ch = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        obj: dict[str, Any] = {**self.head, "choices": [ch]}
        if self.include_usage:
            obj["usage"] = None
        return event(obj)

    def piece_template(self, index: int, delta: Any) -> tuple[bytes, bytes]:
        """The bytes around one string piece in a chunk of this shape: the hot loop of rendering only
        JSON-encodes the piece itself. Cut from a chunk rendered the general way, so they are identical."""
        whole = self.choice(index, _fill(delta, _MARK))
        mark = dumps(_MARK)
        at = whole.rindex(mark)  # the delta comes after every echoed field (model, ids)
        return whole[:at], whole[at + len(mark) :]

    def usage(self, reply: Reply) -> bytes:
        return event({**self.head, "choices": [], "usage": content.usage(reply.usage)})


_MARK = "\x00llmreplay:piece\x00"
"""Stands for the piece while a template is cut (its last occurrence: a client could echo it in the model name)."""


def _fill(shape: Any, piece: str) -> Any:
    # The delta with its one ``None`` leaf replaced by ``piece``.
    if shape is None:
        return piece
    if isinstance(shape, dict):
        return {k: _fill(v, piece) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_fill(v, piece) for v in shape]
    return shape


def _pieces(out: _Chunks, index: int, delta: Any, text: str, chunk_size: int) -> list[Frame]:
    head, tail = out.piece_template(index, delta)
    return [frame_of((head + dumps(piece) + tail, None, True)) for piece in split(text, chunk_size)]


def _tool_header(position: int, call: ToolCall) -> dict[str, Any]:
    fn = {"name": call.name, "arguments": ""}
    return {"index": position, "id": content.call_id(call), "type": "function", "function": fn}


def _choice_frames(
    out: _Chunks, index: int, cand: Candidate, request: Request, seed: int, chunk_size: int
) -> list[Frame]:
    frames: list[Frame] = []
    lp = content.Logprobs(seed, index, request.top_logprobs) if request.logprobs else None
    texts = [p for p in cand.parts if isinstance(p, Text)]
    calls = cand.tool_calls
    first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
    if not texts and calls:
        first = {"role": "assistant", "content": None, "tool_calls": [_tool_header(0, calls[0])], "refusal": None}
    frames.append(Frame(out.choice(index, first), paced=False))
    if texts and lp is not None:
        for piece in split(cand.text, chunk_size):
            frames.append(Frame(out.choice(index, {"content": piece}, content.logprobs_object(lp.piece(piece)))))
    elif texts:
        frames += _pieces(out, index, {"content": None}, cand.text, chunk_size)
    refusal = content.refusal(cand)
    if refusal is not None:
        frames += _pieces(out, index, {"refusal": None}, refusal, chunk_size)
    for position, call in enumerate(calls):
        if texts or position > 0:
            frames.append(Frame(out.choice(index, {"tool_calls": [_tool_header(position, call)]}), paced=False))
        delta = {"tool_calls": [{"index": position, "function": {"arguments": None}}]}
        frames += _pieces(out, index, delta, call.arguments, chunk_size)
    frames.append(Frame(out.choice(index, {}, None, content.finish_reason(cand)), paced=False))
    return frames


def render_frames(reply: Reply, request: Request, seed: int, chunk_size: int) -> tuple[Frame, ...]:
    """The frames of a stream telling every candidate of ``reply``."""
    out = _Chunks(reply, request.include_usage)
    per_choice = [_choice_frames(out, i, c, request, seed, chunk_size) for i, c in enumerate(reply.candidates)]
    # Real n>1 streams interleave the choices; round-robin over their frames does the same (one pass in C).
    frames = [f for step in zip_longest(*per_choice) for f in step if f is not None]
    if request.include_usage:
        frames.append(Frame(out.usage(reply), paced=False))
    frames.append(Frame(DONE, paced=False))
    return tuple(frames)


# ---- parsing ------------------------------------------------------------------------------


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every event of a complete stream: ``chunk``, ``error`` (a top-level ``error`` key) or ``done``."""
    out: list[StreamEvent] = []
    for ev in parse_sse(body):
        if ev.data.strip() == "[DONE]":
            out.append(StreamEvent("done", None, ev.raw))
            continue
        data = ev.json_or_none()
        kind = "error" if isinstance(data, dict) and data.get("error") else "chunk"
        out.append(StreamEvent(kind, data, ev.raw))
    return out


def encode_events(events: list[StreamEvent]) -> bytes:
    """The events' bytes back to back (recorded events keep their exact bytes)."""
    return b"".join(e.raw for e in events)


class _Choice:
    """One choice being accumulated from its deltas."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.refusal = ""
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: Any = None

    def apply(self, ch: dict[str, Any]) -> None:
        delta = ch.get("delta") or {}
        if isinstance(delta.get("content"), str):
            self.text = (self.text or "") + delta["content"]
        if isinstance(delta.get("refusal"), str):
            self.refusal += delta["refusal"]
        for i, tc in enumerate(delta.get("tool_calls") or ()):
            call = self.calls.setdefault(int(tc.get("index", i)), {"id": "", "name": "", "arguments": ""})
            fn = tc.get("function") or {}
            # Some proxies repeat id and name on every fragment; keep the first instead of concatenating.
            call["id"] = call["id"] or str(tc.get("id") or "")
            call["name"] = call["name"] or str(fn.get("name") or "")
            call["arguments"] += str(fn.get("arguments") or "")
        if ch.get("finish_reason") is not None:
            self.finish = ch["finish_reason"]

    def candidate(self) -> Candidate:
        msg: dict[str, Any] = {"content": self.text, "refusal": self.refusal or None}
        msg["tool_calls"] = [
            {"id": c["id"], "function": {"name": c["name"], "arguments": c["arguments"]}}
            for _, c in sorted(self.calls.items())
        ]
        parts = content.to_parts(msg)
        # A text that only opened the stream (the role chunk's "") says nothing beside tool calls.
        if self.calls and not self.text:
            parts = [p for p in parts if not isinstance(p, Text)]
        return Candidate(tuple(parts), content.to_finish(self.finish))


def events_to_reply(events: list[StreamEvent]) -> Reply:
    """Merge the chunks into a Reply: choices by index, the last non-null usage, the header of the first."""
    head: dict[str, Any] = {}
    choices: dict[int, _Choice] = {}
    for ev in events:
        d = ev.data
        if ev.type != "chunk" or not isinstance(d, dict):
            continue
        if not head:
            head = {k: d.get(k) for k in ("id", "model", "created", "system_fingerprint")}
        if d.get("usage"):
            head["usage"] = d["usage"]
        for ch in d.get("choices") or ():
            if isinstance(ch, dict):
                choices.setdefault(int(ch.get("index", 0)), _Choice()).apply(ch)
    if not head:
        raise ValueError("no chat.completion.chunk in the stream")
    return content.to_reply(head, [choices[i].candidate() for i in sorted(choices)])
