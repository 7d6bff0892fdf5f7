"""OpenAI Responses output items, usage and the response object, from the neutral Reply.

Shared by the non-stream body and the event stream (``openai_responses_stream``) so
that both tell exactly the same thing about a Reply: same item ids, same logprobs,
same usage. A message item groups consecutive text parts; each tool call, thinking
part and recorded server-tool item is an item of its own. The way back (a recorded
response object → Reply) is :mod:`openai_responses_recorded`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmreplay.ids import with_prefix
from llmreplay.model import Candidate, Finish, Opaque, Part, Reply, Request, Text, Thinking, ToolCall, Usage
from llmreplay.providers.base import split
from llmreplay.synth.tokens import pieces

RESPONSE_PREFIX = "resp_"
MESSAGE_PREFIX = "msg_"
FUNCTION_CALL_PREFIX = "fc_"
CALL_PREFIX = "call_"
REASONING_PREFIX = "rs_"

ENCRYPTED_REASONING = "reasoning.encrypted_content"
"""The ``include`` value that asks for reasoning items' ``encrypted_content``."""

INCOMPLETE_REASONS: dict[Finish, str] = {
    Finish.LENGTH: "max_output_tokens",
    Finish.CONTENT_FILTER: "content_filter",
    Finish.BLOCKED: "content_filter",
}

_SERVER_ITEMS = frozenset(
    {
        "compaction",
        "mcp_list_tools",
        "mcp_approval_request",
        "mcp_approval_response",
        "shell_call_output",
        "tool_search_output",
    }
)
"""Recorded output item types (besides every ``*_call``) that are replayed whole."""

_ALTERNATIVES = (" the", " a", " and", ",", ".", " of", " to", " is", " in", " it")
"""Stand-in tokens for ``top_logprobs`` alternatives."""


# ---- ids ------------------------------------------------------------------------------


def response_id(reply: Reply) -> str:
    return with_prefix(RESPONSE_PREFIX, reply.id)


def item_id(prefix: str, reply: Reply, index: int) -> str:
    """An item id that shares the first half of the response's stem, as real ids do.

    The rest is a digest of the stem and the item's position, so ids are stable for a
    Reply and distinct between its items.
    """
    stem = response_id(reply)[len(RESPONSE_PREFIX) :] or "0" * 48
    keep = len(stem) // 2
    digest = hashlib.sha256(f"{stem}:{index}".encode()).hexdigest()
    while len(digest) < len(stem) - keep:
        digest += hashlib.sha256(digest.encode()).hexdigest()
    return prefix + stem[:keep] + digest[: len(stem) - keep]


def first_candidate(reply: Reply) -> Candidate:
    """The candidate Responses can show: it has no ``n``, so only the first."""
    return reply.candidates[0] if reply.candidates else Candidate(())


# ---- logprobs --------------------------------------------------------------------------


class Logprobs:
    """Draws token logprobs from one seeded generator, in text order.

    The stream and the body draw in the same order (delta piece by delta piece), so the
    same Reply gets the same numbers either way.
    """

    def __init__(self, enabled: bool, top: int, seed: int) -> None:
        self.enabled = enabled
        self.top = max(0, min(top, 20))
        self._rng = random.Random(seed)

    def of(self, text: str) -> list[dict[str, Any]]:
        """Logprob entries for the tokens of ``text`` (``[]`` when not asked for)."""
        if not self.enabled:
            return []
        return [self._entry(token) for token in pieces(text)]

    def _entry(self, token: str) -> dict[str, Any]:
        logprob = -round(self._rng.expovariate(8.0), 6)
        tops = [_top(token, logprob)]
        for alt in _ALTERNATIVES:
            if len(tops) >= self.top:
                break
            if alt != token:
                tops.append(_top(alt, round(logprob - 2.0 - self._rng.random() * 6, 6)))
        return {"bytes": list(token.encode()), "logprob": logprob, "token": token, "top_logprobs": tops[: self.top]}


def _top(token: str, logprob: float) -> dict[str, Any]:
    return {"bytes": list(token.encode()), "logprob": logprob, "token": token}


# ---- output items ---------------------------------------------------------------------------


@dataclass
class Plan:
    """One output item of a Reply: its final form and the pieces a stream sends it in.

    ``pieces`` holds, per content part (message), the text pieces with their logprobs;
    for a function call or reasoning item, one list of argument / summary pieces.
    """

    item: dict[str, Any]
    pieces: list[list[tuple[str, list[dict[str, Any]]]]] = field(default_factory=list)


def _text_pieces(text: str, chunk_size: int, logprobs: Logprobs) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(p, logprobs.of(p)) for p in split(text, chunk_size)]


def _message(reply: Reply, index: int, parts: list[Part], chunk_size: int, logprobs: Logprobs) -> Plan:
    content: list[dict[str, Any]] = []
    streamed: list[list[tuple[str, list[dict[str, Any]]]]] = []
    for p in parts:
        if isinstance(p, Text):
            ps = _text_pieces(p.text, chunk_size, logprobs)
            lps = [e for _, lp in ps for e in lp]
            content.append({"type": "output_text", "annotations": [], "logprobs": lps, "text": p.text})
            streamed.append(ps)
        else:  # a recorded refusal
            refusal = str(p.data.get("refusal", "")) if isinstance(p, Opaque) else ""
            content.append({"type": "refusal", "refusal": refusal})
            streamed.append([(x, []) for x in split(refusal, chunk_size)])
    item = {
        "id": item_id(MESSAGE_PREFIX, reply, index),
        "type": "message",
        "status": "completed",
        "content": content,
        "role": "assistant",
    }
    return Plan(item, streamed)


def _function_call(reply: Reply, index: int, call: ToolCall, chunk_size: int) -> Plan:
    # The SDK parses the arguments of strict tools; an empty string (a replay from elsewhere) would break it.
    arguments = call.arguments if call.arguments.strip() else "{}"
    item = {
        "id": item_id(FUNCTION_CALL_PREFIX, reply, index),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": with_prefix(CALL_PREFIX, call.id),
        "name": call.name,
    }
    return Plan(item, [[(x, []) for x in split(arguments, chunk_size)]])


def wants_summary(request: Request) -> bool:
    """Whether reasoning items show their summary: only when ``reasoning.summary`` asks for one."""
    r = request.body.get("reasoning")
    return isinstance(r, dict) and bool(r.get("summary") or r.get("generate_summary"))


def _reasoning(reply: Reply, index: int, part: Thinking, chunk_size: int, request: Request) -> Plan:
    shown = part.text if wants_summary(request) else ""
    item: dict[str, Any] = {
        "id": item_id(REASONING_PREFIX, reply, index),
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": shown}] if shown else [],
    }
    include = request.body.get("include")
    if isinstance(include, list) and ENCRYPTED_REASONING in include:
        item["encrypted_content"] = part.signature or _encrypted_stand_in(item["id"])
    return Plan(item, [[(x, []) for x in split(shown, chunk_size)]] if shown else [])


def _encrypted_stand_in(seed: str) -> str:
    """Opaque bytes in the shape of real ``encrypted_content`` (a Fernet-like token)."""
    return "gAAAAAB" + hashlib.sha256(seed.encode()).hexdigest()


def is_recorded_item(part: Part) -> bool:
    """Whether an Opaque part is a Responses output item recorded whole (other providers' are dropped)."""
    if not isinstance(part, Opaque) or part.data.get("type") != part.kind:
        return False
    return part.kind.endswith("_call") or part.kind in _SERVER_ITEMS


def _is_refusal(part: Part) -> bool:
    return isinstance(part, Opaque) and part.kind == "refusal"


def plan(reply: Reply, request: Request, chunk_size: int, seed: int) -> list[Plan]:
    """The output items of ``reply`` (first candidate), in order, with their stream pieces."""
    cand = first_candidate(reply)
    logprobs = Logprobs(request.logprobs, request.top_logprobs, seed)
    out: list[Plan] = []
    texts: list[Part] = []

    def flush() -> None:
        if texts:
            out.append(_message(reply, len(out), list(texts), chunk_size, logprobs))
            texts.clear()

    for p in cand.parts:
        if isinstance(p, Text) or _is_refusal(p):
            texts.append(p)
            continue
        flush()
        if isinstance(p, ToolCall):
            out.append(_function_call(reply, len(out), p, chunk_size))
        elif isinstance(p, Thinking):
            out.append(_reasoning(reply, len(out), p, chunk_size, request))
        elif is_recorded_item(p):
            out.append(Plan(dict(p.data)))
    flush()
    if cand.finish in INCOMPLETE_REASONS:
        for pl in reversed(out):
            if pl.item["type"] == "message":
                pl.item["status"] = "incomplete"
                break
    return out


# ---- the response object ------------------------------------------------------------------------


def usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.input_tokens,
        "input_tokens_details": {"cached_tokens": u.cached_input_tokens, "cache_write_tokens": u.cache_write_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_tokens,
    }


def status(reply: Reply) -> tuple[str, dict[str, str] | None]:
    """(``status``, ``incomplete_details``) of a finished response."""
    reason = INCOMPLETE_REASONS.get(first_candidate(reply).finish)
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def _echo_tool(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function":
        return {
            "type": "function",
            "description": tool.get("description"),
            "name": tool.get("name"),
            "parameters": tool.get("parameters"),
            "strict": tool.get("strict", True),
        }
    return tool


def _echo_text(text: Any) -> dict[str, Any]:
    text = text if isinstance(text, dict) else {}
    fmt = text.get("format") if isinstance(text.get("format"), dict) else {"type": "text"}
    if fmt.get("type") == "json_schema":
        fmt = {"description": None, "strict": None, **fmt}
    return {"format": fmt, "verbosity": text.get("verbosity") or "medium"}


def _echo_reasoning(reasoning: Any) -> dict[str, Any]:
    r = reasoning if isinstance(reasoning, dict) else {}
    return {"effort": r.get("effort"), "summary": r.get("summary") or r.get("generate_summary")}


def _service_tier(body: Mapping[str, Any]) -> str:
    tier = body.get("service_tier")
    return tier if isinstance(tier, str) and tier != "auto" else "default"


def response_object(
    reply: Reply,
    request: Request,
    output: list[dict[str, Any]],
    state: str,
    incomplete: dict[str, str] | None = None,
    final: bool = True,
) -> dict[str, Any]:
    """The response object in the real field order, echoing the request's settings.

    ``final`` False gives the in-progress form of ``response.created`` (no usage, no
    completion time).
    """
    b = request.body

    def echo(key: str, default: Any = None) -> Any:
        value = b.get(key)
        return default if value is None else value

    obj: dict[str, Any] = {
        "id": response_id(reply),
        "object": "response",
        "created_at": reply.created,
        "status": state,
        "background": bool(b.get("background")),
        "completed_at": reply.created if final and state == "completed" else None,
        "error": None,
        "frequency_penalty": echo("frequency_penalty", 0.0),
        "incomplete_details": incomplete,
        "instructions": b.get("instructions"),
        "max_output_tokens": b.get("max_output_tokens"),
        "max_tool_calls": b.get("max_tool_calls"),
        "model": reply.model or request.model,
        "output": output,
        "parallel_tool_calls": echo("parallel_tool_calls", True),
        "presence_penalty": echo("presence_penalty", 0.0),
        "previous_response_id": b.get("previous_response_id"),
        "prompt_cache_key": b.get("prompt_cache_key"),
        "reasoning": _echo_reasoning(b.get("reasoning")),
        "safety_identifier": b.get("safety_identifier"),
        "service_tier": _service_tier(b),
        "store": echo("store", True),
        "temperature": echo("temperature", 1.0),
        "text": _echo_text(b.get("text")),
        "tool_choice": echo("tool_choice", "auto"),
        "tools": [_echo_tool(t) for t in b.get("tools") or []],
        "top_logprobs": echo("top_logprobs", 0),
        "top_p": echo("top_p", 1.0),
        "truncation": echo("truncation", "disabled"),
        "usage": usage(reply.usage) if final else None,
        "user": b.get("user"),
        "metadata": echo("metadata", {}),
    }
    conversation = b.get("conversation")
    if isinstance(conversation, str | dict):
        obj["conversation"] = {"id": conversation} if isinstance(conversation, str) else conversation
    return obj


def render_body(reply: Reply, request: Request, chunk_size: int, seed: int) -> dict[str, Any]:
    """The non-stream response object of ``reply``."""
    state, incomplete = status(reply)
    items = [p.item for p in plan(reply, request, chunk_size, seed)]
    return response_object(reply, request, items, state, incomplete)
