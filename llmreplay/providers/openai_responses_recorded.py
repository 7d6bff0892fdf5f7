"""OpenAI Responses: a recorded response object and its output items → the neutral Reply.

The way there (Reply → items and response object) is :mod:`openai_responses_items`. Responses has no
finish reason: it is read from the status and the output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmreplay.model import Candidate, Finish, Opaque, Part, Reply, Text, Thinking, ToolCall, Usage


def to_parts(item: Mapping[str, Any]) -> list[Part]:
    """One complete output item → neutral parts (unknown kinds kept whole as Opaque)."""
    kind = str(item.get("type"))
    if kind == "message":
        parts: list[Part] = []
        for c in item.get("content") or []:
            if not isinstance(c, dict):
                continue
            if c.get("type") == "output_text":
                parts.append(Text(str(c.get("text") or "")))
            else:
                parts.append(Opaque(str(c.get("type")), dict(c)))
        return parts
    if kind == "function_call":
        return [ToolCall(str(item.get("call_id") or item.get("id") or ""), str(item.get("name", "")), _args(item))]
    if kind == "reasoning":
        summary = [s.get("text", "") for s in item.get("summary") or [] if isinstance(s, dict)]
        return [Thinking("\n\n".join(summary), str(item.get("encrypted_content") or ""))]
    return [Opaque(kind, dict(item))]


def _args(item: Mapping[str, Any]) -> str:
    args = item.get("arguments")
    return args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)


def to_usage(u: Mapping[str, Any] | None) -> Usage:
    u = u or {}
    details = u.get("output_tokens_details") or {}
    given = u.get("input_tokens_details") or {}
    return Usage(
        input_tokens=int(u.get("input_tokens") or 0),
        output_tokens=int(u.get("output_tokens") or 0),
        reasoning_tokens=int(details.get("reasoning_tokens") or 0),
        cached_input_tokens=int(given.get("cached_tokens") or 0),
        cache_write_tokens=int(given.get("cache_write_tokens") or 0),
    )


def finish_of(resp: Mapping[str, Any], parts: list[Part]) -> Finish:
    """Responses has no finish reason: it is read from the status and the output."""
    state = resp.get("status")
    if state == "incomplete":
        reason = (resp.get("incomplete_details") or {}).get("reason")
        return Finish.CONTENT_FILTER if reason == "content_filter" else Finish.LENGTH
    if state not in (None, "completed"):
        return Finish.OTHER
    if any(isinstance(p, ToolCall) for p in parts):
        return Finish.TOOL_CALLS
    return Finish.STOP


def to_reply(resp: Mapping[str, Any], items: list[Mapping[str, Any]] | None = None) -> Reply:
    """A Reply from a response object (``items`` overrides its ``output``)."""
    output = resp.get("output") if items is None else items
    parts = [p for item in output or [] if isinstance(item, dict) for p in to_parts(item)]
    u = to_usage(resp.get("usage"))
    cand = Candidate(tuple(parts), finish_of(resp, parts), None, u.output_tokens)
    created = resp.get("created_at")
    return Reply(
        id=str(resp.get("id", "")),
        model=str(resp.get("model", "")),
        created=int(created) if isinstance(created, int | float) else 0,
        candidates=(cand,),
        usage=u,
    )
