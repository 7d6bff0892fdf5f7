"""Chat Completions choices, finish reasons, usage and logprobs ↔ the neutral Reply.

Shared by the non-stream body and the chunk stream so both say the same thing.
Logprobs are drawn per streamed piece from ``opts.seed`` so a stream and a body of
the same reply carry the same tokens and values.
"""

from __future__ import annotations

import math
import random
from typing import Any

from llmreplay.ids import with_prefix
from llmreplay.model import Candidate, Finish, Opaque, Part, Reply, Text, ToolCall, Usage
from llmreplay.providers.base import Template, slot, split
from llmreplay.synth.tokens import pieces

COMPLETION_PREFIX = "chatcmpl-"
CALL_PREFIX = "call_"

FINISH_REASONS: dict[Finish, str] = {
    Finish.STOP: "stop",
    Finish.STOP_SEQUENCE: "stop",
    Finish.LENGTH: "length",
    Finish.TOOL_CALLS: "tool_calls",
    Finish.CONTENT_FILTER: "content_filter",
    Finish.BLOCKED: "content_filter",
    Finish.REFUSAL: "stop",
    Finish.OTHER: "stop",
}

FINISHES: dict[str, Finish] = {
    "stop": Finish.STOP,
    "length": Finish.LENGTH,
    "tool_calls": Finish.TOOL_CALLS,
    "function_call": Finish.TOOL_CALLS,
    "content_filter": Finish.CONTENT_FILTER,
}

REFUSAL = "refusal"
"""``Opaque.kind`` of a refusal (``data["refusal"]`` is its text)."""
ANNOTATION = "annotation"
"""``Opaque.kind`` of one ``message.annotations`` entry (``data`` is the entry)."""

_ALTERNATIVES = (" the", " a", ",", ".", " and", " of", " to", " is", "\n", " it", " that", " in")


def completion_id(reply: Reply) -> str:
    return with_prefix(COMPLETION_PREFIX, reply.id)


def call_id(call: ToolCall) -> str:
    return with_prefix(CALL_PREFIX, call.id)


def finish_reason(c: Candidate) -> str:
    return FINISH_REASONS.get(c.finish, "stop")


def fingerprint(reply: Reply) -> str | None:
    return reply.fingerprint or None


def refusal(c: Candidate) -> str | None:
    texts = [str(p.data.get("refusal", "")) for p in c.parts if isinstance(p, Opaque) and p.kind == REFUSAL]
    return "".join(texts) if texts else None


def annotations(c: Candidate) -> list[Any]:
    return [dict(p.data) for p in c.parts if isinstance(p, Opaque) and p.kind == ANNOTATION]


def usage(u: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_input_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call_id(call), "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


# ---- logprobs ------------------------------------------------------------------------


class Logprobs:
    """Draws token logprobs for one choice; one instance per choice, called piece by piece."""

    def __init__(self, seed: int, index: int, top: int) -> None:
        self._rng = random.Random(f"{seed}:{index}")
        self._top = top

    def entry(self, token: str) -> dict[str, Any]:
        lp = round(math.log(self._rng.uniform(0.35, 1.0)), 6)
        top: list[dict[str, Any]] = []
        if self._top:
            top.append({"token": token, "logprob": lp, "bytes": list(token.encode())})
            alts = [a for a in _ALTERNATIVES if a != token]
            worse = lp
            for alt in self._rng.sample(alts, min(self._top - 1, len(alts))):
                worse = round(worse - self._rng.uniform(0.5, 3.0), 6)
                top.append({"token": alt, "logprob": worse, "bytes": list(alt.encode())})
        return {"token": token, "logprob": lp, "bytes": list(token.encode()), "top_logprobs": top}

    def piece(self, text: str) -> list[dict[str, Any]]:
        return [self.entry(t) for t in pieces(text)]


def logprobs_object(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"content": entries, "refusal": None}


def body_logprobs(c: Candidate, index: int, seed: int, top: int, chunk_size: int) -> dict[str, Any]:
    """The choice's logprobs drawn exactly as the stream of the same choice draws them."""
    lp = Logprobs(seed, index, top)
    entries: list[dict[str, Any]] = []
    if c.text:
        for piece in split(c.text, chunk_size):
            entries.extend(lp.piece(piece))
    return logprobs_object(entries)


# ---- non-stream body --------------------------------------------------------------------


def message(c: Candidate) -> dict[str, Any]:
    calls = c.tool_calls
    text = c.text
    has_text = any(isinstance(p, Text) for p in c.parts)
    msg: dict[str, Any] = {
        "role": "assistant",
        # The real API sends null (not "") beside tool calls or a refusal.
        "content": text if has_text or not (calls or refusal(c) is not None) else None,
        "refusal": refusal(c),
        "annotations": annotations(c),
    }
    if calls:
        msg["tool_calls"] = [tool_call(t) for t in calls]
    return msg


def body(reply: Reply, logprobs: bool, top: int, seed: int, chunk_size: int) -> dict[str, Any]:
    """The ``chat.completion`` object of ``reply``."""
    choices = [
        {
            "index": i,
            "message": message(c),
            "logprobs": body_logprobs(c, i, seed, top, chunk_size) if logprobs else None,
            "finish_reason": finish_reason(c),
        }
        for i, c in enumerate(reply.candidates)
    ]
    return {
        "id": completion_id(reply),
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": choices,
        "usage": usage(reply.usage),
        "service_tier": "default",
        "system_fingerprint": fingerprint(reply),
    }


_ONE_TEXT = Template(
    {
        "id": slot(0),
        "object": "chat.completion",
        "created": slot(1),
        "model": slot(2),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": slot(3), "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": slot(4),
            }
        ],
        "usage": {
            "prompt_tokens": slot(5),
            "completion_tokens": slot(6),
            "total_tokens": slot(7),
            "prompt_tokens_details": {"cached_tokens": slot(8), "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": slot(9),
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": slot(10),
    }
)
""":func:`body` of the most common reply, one choice of text alone, cut once."""


def one_text_body(reply: Reply) -> bytes | None:
    """:func:`body`'s encoding for one choice of one text part and no logprobs, filled into a template; None for
    any other reply (or a value only the standard library encodes)."""
    if len(reply.candidates) != 1:
        return None
    c = reply.candidates[0]
    if len(c.parts) != 1 or type(c.parts[0]) is not Text:
        return None
    u = reply.usage
    return _ONE_TEXT.fill(
        completion_id(reply),
        reply.created,
        reply.model,
        c.parts[0].text,
        finish_reason(c),
        u.input_tokens,
        u.output_tokens,
        u.total_tokens,
        u.cached_input_tokens,
        u.reasoning_tokens,
        fingerprint(reply),
    )


# ---- recorded bodies → Reply ------------------------------------------------------------


def to_usage(u: Any) -> Usage:
    if not isinstance(u, dict):
        return Usage()
    details = u.get("completion_tokens_details") or {}
    prompt = u.get("prompt_tokens_details") or {}
    return Usage(
        input_tokens=int(u.get("prompt_tokens") or 0),
        output_tokens=int(u.get("completion_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0) if isinstance(details, dict) else 0,
        cached_input_tokens=int(prompt.get("cached_tokens") or 0) if isinstance(prompt, dict) else 0,
    )


def to_finish(reason: Any) -> Finish:
    return FINISHES.get(reason, Finish.OTHER) if reason is not None else Finish.OTHER


def to_parts(msg: dict[str, Any]) -> list[Part]:
    parts: list[Part] = []
    if isinstance(msg.get("content"), str):
        parts.append(Text(msg["content"]))
    if msg.get("refusal"):
        parts.append(Opaque(REFUSAL, {"refusal": msg["refusal"]}))
    for a in msg.get("annotations") or ():
        if isinstance(a, dict):
            parts.append(Opaque(ANNOTATION, a))
    for t in msg.get("tool_calls") or ():
        fn = t.get("function") or {}
        parts.append(ToolCall(str(t.get("id", "")), str(fn.get("name", "")), str(fn.get("arguments") or "")))
    fc = msg.get("function_call")
    if isinstance(fc, dict):
        parts.append(ToolCall("", str(fc.get("name", "")), str(fc.get("arguments") or "")))
    return parts


def to_reply(obj: dict[str, Any], candidates: list[Candidate]) -> Reply:
    return Reply(
        id=str(obj.get("id", "")),
        model=str(obj.get("model", "")),
        created=int(obj.get("created") or 0),
        candidates=tuple(candidates),
        usage=to_usage(obj.get("usage")),
        fingerprint=str(obj.get("system_fingerprint") or ""),
    )


def body_to_reply(obj: Any) -> Reply:
    """A recorded ``chat.completion`` object → Reply."""
    if not isinstance(obj, dict) or "error" in obj or not isinstance(obj.get("choices"), list):
        raise ValueError("not a chat.completion object")
    ordered = sorted(obj["choices"], key=lambda ch: int(ch.get("index", 0)))
    cands = [Candidate(tuple(to_parts(ch.get("message") or {})), to_finish(ch.get("finish_reason"))) for ch in ordered]
    return to_reply(obj, cands)
