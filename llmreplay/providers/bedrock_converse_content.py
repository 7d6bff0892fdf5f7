"""Converse content blocks, stop reasons and usage ↔ the neutral Reply parts.

Shared by the non-stream body (``bedrock_converse``) and the event stream (``bedrock_converse_stream``) so
both say the same thing about a Reply. A block is a one-key union (``{"text": …}``, ``{"toolUse": …}``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from llmreplay.ids import with_prefix
from llmreplay.model import Candidate, Finish, Opaque, Part, Reply, Text, Thinking, ToolCall, Usage
from llmreplay.providers import anthropic_content as anthropic
from llmreplay.providers.anthropic_content import first_candidate, refusal_text, tool_arguments

TOOL_USE_PREFIX = "tooluse_"
OPAQUE_PREFIX = "converse."
"""``Opaque.kind`` of a recorded block we do not model (``converse.citationsContent`` …): kept whole."""

# Converse's stop reasons are Anthropic's, but for what a filter stopped (Anthropic says refusal).
_FILTERED = "content_filtered"
STOP_REASONS: dict[Finish, str] = {
    **anthropic.STOP_REASONS,
    Finish.CONTENT_FILTER: _FILTERED,
    Finish.REFUSAL: _FILTERED,
}
FINISHES: dict[str, Finish] = {
    **{k: v for k, v in anthropic.FINISHES.items() if k != "refusal"},
    _FILTERED: Finish.CONTENT_FILTER,
    "guardrail_intervened": Finish.CONTENT_FILTER,
}


def stop_reason(c: Candidate) -> str:
    return STOP_REASONS.get(c.finish, "end_turn")


def tool_use_id(call: ToolCall) -> str:
    return with_prefix(TOOL_USE_PREFIX, call.id)


def block(part: Part) -> dict[str, Any] | None:
    """The complete block of one part (None for parts Converse cannot show)."""
    if isinstance(part, Text):
        return {"text": part.text}
    if isinstance(part, ToolCall):
        return {
            "toolUse": {"toolUseId": tool_use_id(part), "name": part.name, "input": json.loads(tool_arguments(part))}
        }
    if isinstance(part, Thinking):
        return {"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}
    if (said := refusal_text(part)) is not None:
        return {"text": said}
    if isinstance(part, Opaque) and part.kind.startswith(OPAQUE_PREFIX):
        return dict(part.data)
    return None


def to_part(b: Mapping[str, Any]) -> Part:
    """One complete block → a neutral part (kinds we do not model kept whole)."""
    if isinstance(b.get("text"), str):
        return Text(b["text"])
    use = b.get("toolUse")
    if isinstance(use, dict):
        args = json.dumps(use.get("input") or {}, ensure_ascii=False)
        return ToolCall(str(use.get("toolUseId", "")), str(use.get("name", "")), args)
    reasoning = (
        (b.get("reasoningContent") or {}).get("reasoningText") if isinstance(b.get("reasoningContent"), dict) else None
    )
    if isinstance(reasoning, dict) and isinstance(reasoning.get("text"), str):
        return Thinking(reasoning["text"], str(reasoning.get("signature") or ""))
    return Opaque(OPAQUE_PREFIX + next(iter(b), ""), dict(b))


def usage(u: Usage) -> dict[str, int]:
    """``usage``: ``inputTokens`` leaves out what the prompt cache read or wrote, which have their own counts."""
    fresh = max(0, u.input_tokens - u.cached_input_tokens - u.cache_write_tokens)
    out = {"inputTokens": fresh, "outputTokens": u.output_tokens, "totalTokens": u.input_tokens + u.output_tokens}
    if u.cached_input_tokens:
        out["cacheReadInputTokens"] = u.cached_input_tokens
    if u.cache_write_tokens:
        out["cacheWriteInputTokens"] = u.cache_write_tokens
    return out


def to_usage(u: Mapping[str, Any] | None) -> Usage:
    u = u or {}
    read, written = int(u.get("cacheReadInputTokens") or 0), int(u.get("cacheWriteInputTokens") or 0)
    return Usage(
        input_tokens=int(u.get("inputTokens") or 0) + read + written,
        output_tokens=int(u.get("outputTokens") or 0),
        cached_input_tokens=read,
        cache_write_tokens=written,
    )


def to_reply(stop: str | None, u: Mapping[str, Any] | None, parts: list[Part], stem: bytes) -> Reply:
    """A Reply from a stop reason, a usage object and parts; Converse answers carry no id, so ``stem`` (the
    recorded bytes) is digested into one that stays the same on every replay."""
    usage_ = to_usage(u)
    cand = Candidate(tuple(parts), FINISHES.get(stop or "end_turn", Finish.OTHER), None, usage_.output_tokens)
    rid = hashlib.sha256(stem).hexdigest()[:24]
    return Reply(id=rid, model="", created=0, candidates=(cand,), usage=usage_)


__all__ = [
    "FINISHES",
    "OPAQUE_PREFIX",
    "STOP_REASONS",
    "TOOL_USE_PREFIX",
    "block",
    "first_candidate",
    "refusal_text",
    "stop_reason",
    "to_part",
    "to_reply",
    "to_usage",
    "tool_use_id",
    "usage",
]
