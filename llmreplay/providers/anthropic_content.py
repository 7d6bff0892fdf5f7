"""Anthropic content blocks, stop reasons and usage ↔ the neutral Reply parts.

Shared by the non-stream body (``anthropic_messages``) and the event stream
(``anthropic_stream``) so both say exactly the same thing about a Reply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmreplay.ids import with_prefix
from llmreplay.model import REFUSAL, Candidate, Finish, Opaque, Part, Reply, Text, Thinking, ToolCall, Usage

MESSAGE_PREFIX = "msg_"
TOOL_USE_PREFIX = "toolu_"

STOP_REASONS: dict[Finish, str] = {
    Finish.STOP: "end_turn",
    Finish.LENGTH: "max_tokens",
    Finish.TOOL_CALLS: "tool_use",
    Finish.STOP_SEQUENCE: "stop_sequence",
    Finish.CONTENT_FILTER: "refusal",
    Finish.REFUSAL: "refusal",
    Finish.BLOCKED: "refusal",
    Finish.OTHER: "end_turn",
}

FINISHES: dict[str, Finish] = {
    "end_turn": Finish.STOP,
    "max_tokens": Finish.LENGTH,
    "model_context_window_exceeded": Finish.LENGTH,
    "tool_use": Finish.TOOL_CALLS,
    "stop_sequence": Finish.STOP_SEQUENCE,
    "refusal": Finish.CONTENT_FILTER,
    "pause_turn": Finish.OTHER,
}


def first_candidate(reply: Reply) -> Candidate:
    """The candidate Anthropic can show: it has no ``n``, so only the first."""
    return reply.candidates[0] if reply.candidates else Candidate(())


def message_id(reply: Reply) -> str:
    return with_prefix(MESSAGE_PREFIX, reply.id)


def stop_reason(c: Candidate) -> str:
    return STOP_REASONS.get(c.finish, "end_turn")


def stop_sequence(c: Candidate) -> str | None:
    return c.stop_sequence if c.finish is Finish.STOP_SEQUENCE else None


def tool_arguments(call: ToolCall) -> str:
    """The call's arguments as JSON text of an object (what ``input_json_delta`` pieces join to)."""
    try:
        value = json.loads(call.arguments) if call.arguments.strip() else {}
    except ValueError:
        value = None
    # The SDK parses the joined pieces as an object; anything else (a truncated replay) would break it.
    return call.arguments if isinstance(value, dict) and call.arguments.strip() else "{}"


def streamed_arguments(call: ToolCall) -> str:
    """The pieces a stream sends: arguments that are not JSON at all go out as written, as fine-grained tool
    streaming sends the model's text unvalidated (the SDK's accumulator raises on them); JSON that is not an
    object is replaced as :func:`tool_arguments` replaces it."""
    try:
        json.loads(call.arguments)
    except ValueError:
        return call.arguments if call.arguments.strip() else "{}"
    return tool_arguments(call)


def _uncached(u: Usage) -> int:
    """Anthropic's ``input_tokens``: the prompt's tokens neither read from nor written to the cache."""
    return max(0, u.input_tokens - u.cached_input_tokens - u.cache_write_tokens)


def usage(u: Usage, output_tokens: int | None = None) -> dict[str, Any]:
    """The ``usage`` object of a message (``output_tokens`` overridden for ``message_start``)."""
    hour = u.cache_write_1h_tokens
    return {
        "input_tokens": _uncached(u),
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cached_input_tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": u.cache_write_tokens - hour, "ephemeral_1h_input_tokens": hour},
        "output_tokens": u.output_tokens if output_tokens is None else output_tokens,
        "service_tier": "standard",
    }


def delta_usage(u: Usage) -> dict[str, Any]:
    """``message_delta.usage``: cumulative totals, which the SDK copies over its snapshot."""
    return {
        "input_tokens": _uncached(u),
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cached_input_tokens,
        "output_tokens": u.output_tokens,
    }


def block(part: Part) -> dict[str, Any] | None:
    """The complete content block of one part (None for parts Anthropic cannot show)."""
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Thinking):
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    if isinstance(part, ToolCall):
        return {
            "type": "tool_use",
            "id": with_prefix(TOOL_USE_PREFIX, part.id),
            "name": part.name,
            "input": json.loads(tool_arguments(part)),
        }
    if (said := refusal_text(part)) is not None:
        return {"type": "text", "text": said}
    return opaque_block(part)


def refusal_text(part: Part) -> str | None:
    """The words of a refusal part (Anthropic has no refusal block: they are text, with ``stop_reason: refusal``)."""
    if isinstance(part, Opaque) and part.kind == REFUSAL and isinstance(part.data.get("refusal"), str):
        return str(part.data["refusal"])
    return None


def opaque_block(part: Opaque) -> dict[str, Any] | None:
    """A recorded Anthropic block kept as it was; opaque parts of other providers are dropped."""
    data = dict(part.data)
    return data if data.get("type") == part.kind else None


def to_part(b: Mapping[str, Any]) -> Part:
    """One complete content block → a neutral part (unknown kinds kept whole as Opaque)."""
    kind = b.get("type")
    if kind == "text" and isinstance(b.get("text"), str):
        return Text(b["text"])
    if kind == "thinking" and isinstance(b.get("thinking"), str):
        return Thinking(b["thinking"], b.get("signature") or "")
    if kind == "tool_use":
        args = json.dumps(b.get("input") or {}, ensure_ascii=False)
        return ToolCall(str(b.get("id", "")), str(b.get("name", "")), args)
    return Opaque(str(kind), dict(b))


def to_usage(u: Mapping[str, Any] | None) -> Usage:
    u = u or {}
    details = u.get("output_tokens_details") or {}
    read, written = int(u.get("cache_read_input_tokens") or 0), int(u.get("cache_creation_input_tokens") or 0)
    split = u.get("cache_creation") or {}
    # The neutral input counts the whole prompt; Anthropic's input_tokens leaves out what the cache read or wrote.
    return Usage(
        input_tokens=int(u.get("input_tokens") or 0) + read + written,
        output_tokens=int(u.get("output_tokens") or 0),
        reasoning_tokens=int(details.get("thinking_tokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=written,
        cache_write_1h_tokens=int(split.get("ephemeral_1h_input_tokens") or 0) if isinstance(split, dict) else 0,
    )


def to_reply(msg: Mapping[str, Any], parts: list[Part]) -> Reply:
    """A Reply from a message object's fields and its content as parts."""
    finish = FINISHES.get(msg.get("stop_reason") or "end_turn", Finish.OTHER)
    u = to_usage(msg.get("usage"))
    cand = Candidate(tuple(parts), finish, msg.get("stop_sequence"), u.output_tokens)
    return Reply(id=str(msg.get("id", "")), model=str(msg.get("model", "")), created=0, candidates=(cand,), usage=u)
