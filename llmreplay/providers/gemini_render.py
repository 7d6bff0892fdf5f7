"""Gemini response objects: a Reply ↔ ``GenerateContentResponse``, the error envelope, headers.

Shared by the non-stream body and the stream chunks (:mod:`gemini_stream`), which
are complete ``GenerateContentResponse`` objects too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
from datetime import datetime
from typing import Any

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import (
    REFUSAL,
    Answer,
    Candidate,
    Finish,
    Frame,
    Opaque,
    Part,
    Reply,
    Request,
    Text,
    Thinking,
    ToolCall,
    Usage,
)
from llmreplay.providers.base import RenderOptions, stdlib_dumps

JSON_TYPE = "application/json; charset=UTF-8"
_VARY = ("vary", "Origin, X-Origin, Referer")
OPAQUE_KIND = "gemini-part"
"""``Opaque.kind`` of parts kept verbatim (code execution, a bare thought signature …)."""

_FINISH: dict[Finish, str] = {
    Finish.STOP: "STOP",
    Finish.TOOL_CALLS: "STOP",
    Finish.STOP_SEQUENCE: "STOP",
    Finish.LENGTH: "MAX_TOKENS",
    Finish.CONTENT_FILTER: "SAFETY",
    Finish.REFUSAL: "SAFETY",
    Finish.BLOCKED: "SAFETY",
    Finish.OTHER: "OTHER",
}
MALFORMED = "MALFORMED_FUNCTION_CALL"
"""The finish of a candidate whose function call the model wrote as no JSON object: Gemini sends no call."""
_RATED = ("HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_HARASSMENT")
_BLOCKED_BY = "HARM_CATEGORY_DANGEROUS_CONTENT"


def safety_ratings() -> list[dict[str, Any]]:
    """The ratings a blocked candidate or prompt carries: each category rated, the one that blocked it HIGH."""
    rated: list[dict[str, Any]] = [{"category": c, "probability": "NEGLIGIBLE"} for c in _RATED]
    return [*rated, {"category": _BLOCKED_BY, "probability": "HIGH", "blocked": True}]


def prompt_blocked(reply: Reply) -> bool:
    """A filter refused the prompt: Gemini answers no candidate, only ``promptFeedback``."""
    return bool(reply.candidates) and all(c.finish is Finish.BLOCKED for c in reply.candidates)


def blocked_response(reply: Reply) -> dict[str, Any]:
    """The whole answer (and the one chunk of a stream) to a blocked prompt."""
    return {
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": safety_ratings()},
        "usageMetadata": usage_metadata(reply.usage),
        "modelVersion": reply.model,
        "responseId": response_id(reply),
    }


_FILTERED = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"}
)

_STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.AUTHENTICATION: "API key not valid. Please pass a valid API key.",
    ErrorKind.PERMISSION: "The caller does not have permission",
    ErrorKind.RATE_LIMIT: "Resource has been exhausted (e.g. check quota).",
    ErrorKind.SERVER: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ErrorKind.UNAVAILABLE: "The service is currently unavailable.",
    ErrorKind.OVERLOADED: "The model is overloaded. Please try again later.",
    ErrorKind.TIMEOUT: "Deadline expired before operation could complete.",
}
_RESPONSE_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")


# ---- JSON spellings -----------------------------------------------------------------------


def sse_json(obj: Any) -> bytes:
    """Compact except for ``": "`` after every colon, as the SSE chunks are written."""
    return stdlib_dumps(obj, ",", ": ")


def pretty_json(obj: Any) -> bytes:
    """Two-space indented, as the JSON bodies (and array-stream elements) are written."""
    return stdlib_dumps(obj, ",", ": ", indent=2)


def json_headers() -> tuple[tuple[str, str], ...]:
    return (("content-type", JSON_TYPE), _VARY)


def json_body(status: int, obj: Any, headers: dict[str, str] | None = None) -> Answer:
    hs = (*json_headers(), *(headers or {}).items())
    return Answer(status, hs, (Frame(pretty_json(obj) + b"\n"),))


# ---- errors ----------------------------------------------------------------------------------


def error_status(error: ApiError) -> int:
    # Gemini reports overload as 503 UNAVAILABLE; it never sends Anthropic's 529.
    if error.status is None and error.kind is ErrorKind.OVERLOADED:
        return 503
    return error.http_status


def error_object(error: ApiError) -> dict[str, Any]:
    status = error_status(error)
    name = _STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")
    message = error.message or _DEFAULT_MESSAGES.get(error.kind, name)
    body: dict[str, Any] = {"code": status, "message": message, "status": name}
    details = [*_quota_failure(error), *_retry_info(error)]
    if details:
        body["details"] = details
    return {"error": body}


_RPC = "type.googleapis.com/google.rpc."
_QUOTA_IDS = {
    "requests": ("generate_content_free_tier_requests", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
    "tokens": ("generate_content_free_tier_input_token_count", "GenerateContentInputTokensPerModelPerMinute-FreeTier"),
}
"""The quota metric and id a Gemini API 429 names for each quota (per minute, per project and model)."""
RATE_LIMITS_DOC = "https://ai.google.dev/gemini-api/docs/rate-limits"


def _quota_failure(error: ApiError) -> list[dict[str, Any]]:
    """A 429's QuotaFailure (a violation per quota it ran out of) and its Help link, as the Gemini API sends them."""
    quota = error.quota
    if quota is None:
        return []
    dims = {"location": "global", **({"model": error.model} if error.model else {})}
    violations = [
        {
            "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
            "quotaId": quota_id,
            "quotaDimensions": dims,
            "quotaValue": str(q.limit),
        }
        for unit, q in (("requests", quota.requests), ("tokens", quota.tokens))
        if q is not None
        for metric, quota_id in (_QUOTA_IDS[unit],)
    ]
    help_link = {"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_DOC}
    return [{"@type": _RPC + "QuotaFailure", "violations": violations}, {"@type": _RPC + "Help", "links": [help_link]}]


def _retry_info(error: ApiError) -> list[dict[str, Any]]:
    if error.retry_after is None:
        return []
    # Gemini sends no retry headers: the wait travels as a google.rpc.RetryInfo detail.
    delay = f"{error.retry_after:.3f}".rstrip("0").rstrip(".") + "s"
    return [{"@type": _RPC + "RetryInfo", "retryDelay": delay}]


def render_error(error: ApiError, opts: RenderOptions) -> Answer:
    return json_body(error_status(error), error_object(error), dict(error.headers))


# ---- ids, finish, usage ----------------------------------------------------------------------


def response_id(reply: Reply) -> str:
    """The reply's id when it already looks like Gemini's, else a 22-character one derived from it."""
    if _RESPONSE_ID.match(reply.id):
        return reply.id
    digest = hashlib.sha256(reply.id.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def finish_reason(cand: Candidate) -> str:
    return _FINISH.get(cand.finish, "OTHER")


def usage_metadata(usage: Usage, candidates: int | None = None, thoughts: int | None = None) -> dict[str, Any]:
    """``usageMetadata``; ``candidates``/``thoughts`` override the final counts for a stream's running totals."""
    thought = usage.reasoning_tokens if thoughts is None else thoughts
    cands = max(0, usage.output_tokens - usage.reasoning_tokens) if candidates is None else candidates
    out: dict[str, Any] = {"promptTokenCount": usage.input_tokens}
    if cands:
        out["candidatesTokenCount"] = cands
    out["totalTokenCount"] = usage.input_tokens + cands + thought
    out["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": usage.input_tokens}]
    if thought > 0:
        out["thoughtsTokenCount"] = thought
    if usage.cached_input_tokens:
        out["cachedContentTokenCount"] = usage.cached_input_tokens
    return out


def avg_logprobs(reply: Reply, index: int, seed: int) -> float:
    rng = random.Random(f"{reply.id}:{index}:{seed}")
    return -math.exp(rng.uniform(-9.0, -1.0))


# ---- parts -------------------------------------------------------------------------------------


def render_part(part: Part) -> dict[str, Any] | None:
    if isinstance(part, Text):
        return {"text": part.text}
    if isinstance(part, Thinking):
        out: dict[str, Any] = {"text": part.text, "thought": True}
        if part.signature:
            out["thoughtSignature"] = part.signature
        return out
    if isinstance(part, ToolCall):
        try:
            args = json.loads(part.arguments) if part.arguments else {}
        except ValueError:
            args = {}
        return {"functionCall": {"name": part.name, "args": args if isinstance(args, dict) else {}}}
    if isinstance(part, Opaque) and part.kind == OPAQUE_KIND:
        return dict(part.data)
    if isinstance(part, Opaque) and part.kind == REFUSAL and isinstance(part.data.get("refusal"), str):
        # Gemini has no refusal part: the words are text, and finishReason says SAFETY.
        return {"text": str(part.data["refusal"])}
    return None


def render_candidate(
    cand: Candidate, index: int, parts: list[dict[str, Any]], finish: bool, logprobs: float | None = None
) -> dict[str, Any]:
    reason = finish_reason(cand) if finish else None
    if finish and _malformed_call(cand):
        reason = MALFORMED
    empty = parts == [{"text": ""}] or reason == MALFORMED
    # A candidate stopped by a filter, or a call Gemini could not read, comes with no content at all.
    out: dict[str, Any] = (
        {} if empty and reason in ("SAFETY", MALFORMED) else {"content": {"parts": parts, "role": "model"}}
    )
    if reason is not None:
        out["finishReason"] = reason
        if reason == MALFORMED:
            said = next(p for p in cand.parts if isinstance(p, ToolCall))
            out["finishMessage"] = f"Malformed function call: {said.name}({said.arguments})"
        if logprobs is not None:
            out["avgLogprobs"] = logprobs
        if reason == "SAFETY":
            out["safetyRatings"] = safety_ratings()
    out["index"] = index
    return out


def _malformed_call(cand: Candidate) -> bool:
    for p in cand.parts:
        if isinstance(p, ToolCall):
            try:
                if not isinstance(json.loads(p.arguments or "{}"), dict):
                    return True
            except ValueError:
                return True
    return False


def render_response(reply: Reply, request: Request, opts: RenderOptions) -> dict[str, Any]:
    """The whole non-stream ``GenerateContentResponse``."""
    if prompt_blocked(reply):
        return blocked_response(reply)
    cands = []
    for i, c in enumerate(reply.candidates):
        parts = [p for p in (render_part(x) for x in c.parts) if p is not None] or [{"text": ""}]
        lp = avg_logprobs(reply, i, opts.seed) if request.logprobs else None
        cands.append(render_candidate(c, i, parts, True, lp))
    return {
        "candidates": cands,
        "usageMetadata": usage_metadata(reply.usage),
        "modelVersion": reply.model,
        "responseId": response_id(reply),
    }


# ---- recorded responses → Reply -------------------------------------------------------------------


def to_part(part: dict[str, Any], call_id: str) -> Part | None:
    if "functionCall" in part and isinstance(part["functionCall"], dict):
        fc = part["functionCall"]
        args = fc.get("args") or {}
        return ToolCall(str(fc.get("id") or call_id), str(fc.get("name", "")), json.dumps(args, ensure_ascii=False))
    if isinstance(part.get("text"), str):
        if part.get("thought"):
            return Thinking(part["text"], str(part.get("thoughtSignature") or ""))
        if part["text"] == "" and "thoughtSignature" not in part:
            return None
        if part["text"]:
            return Text(part["text"])
    return Opaque(OPAQUE_KIND, part)


def to_finish(reason: str | None, parts: list[Part]) -> Finish:
    if reason in (None, "STOP", "FINISH_REASON_UNSPECIFIED"):
        return Finish.TOOL_CALLS if any(isinstance(p, ToolCall) for p in parts) else Finish.STOP
    if reason == "MAX_TOKENS":
        return Finish.LENGTH
    if reason in _FILTERED:
        return Finish.CONTENT_FILTER
    return Finish.OTHER


def to_usage(meta: dict[str, Any] | None) -> Usage:
    meta = meta or {}
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    output = int(meta.get("candidatesTokenCount") or 0) + thoughts
    cached = int(meta.get("cachedContentTokenCount") or 0)
    return Usage(int(meta.get("promptTokenCount") or 0), output, thoughts, cached_input_tokens=cached)


def _created(resp: dict[str, Any]) -> int:
    stamp = resp.get("createTime")
    if isinstance(stamp, str):
        try:
            return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return 0
    return 0


def to_reply(resp: dict[str, Any]) -> Reply:
    """A ``GenerateContentResponse`` (whole, or chunks merged by :mod:`gemini_stream`) as a Reply."""
    if not isinstance(resp, dict) or "error" in resp:
        raise ValueError("not a Gemini GenerateContentResponse")
    rid = str(resp.get("responseId") or "")
    usage = to_usage(resp.get("usageMetadata"))
    cands: list[Candidate] = []
    for i, c in enumerate(resp.get("candidates") or []):
        raw_parts = ((c.get("content") or {}).get("parts")) or []
        parts = [p for j, rp in enumerate(raw_parts) if (p := to_part(rp, f"{rid}_{i}_{j}")) is not None]
        finish = to_finish(c.get("finishReason"), parts)
        cands.append(Candidate(tuple(parts), finish))
    if not cands:
        # A blocked prompt has no candidates: say so as a filtered, empty answer.
        blocked = bool((resp.get("promptFeedback") or {}).get("blockReason"))
        cands.append(Candidate((), Finish.CONTENT_FILTER if blocked else Finish.OTHER))
    if len(cands) == 1:
        cands[0] = Candidate(cands[0].parts, cands[0].finish, output_tokens=usage.output_tokens)
    return Reply(rid, str(resp.get("modelVersion") or ""), _created(resp), tuple(cands), usage)
