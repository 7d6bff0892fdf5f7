"""The Anthropic Messages API: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``.

Requests are parsed in :mod:`anthropic_request`, content blocks and usage live in
:mod:`anthropic_content`, the event stream in :mod:`anthropic_stream`; this module
holds the codec, the error envelope and the response headers.
"""

from __future__ import annotations

import datetime
import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Quota, Reply, Request
from llmreplay.providers import anthropic_content as content
from llmreplay.providers import anthropic_request, anthropic_stream
from llmreplay.providers.base import (
    Codec,
    RenderOptions,
    Route,
    StreamEvent,
    content_steps,
    json_answer,
)
from llmreplay.synth.tokens import prompt_tokens

ORGANIZATION_ID = str(uuid.uuid5(uuid.NAMESPACE_DNS, "llmreplay.anthropic.organization"))
"""A constant ``anthropic-organization-id``: real answers always carry one."""

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

# kind -> error.type; the status is the kind's own (OVERLOADED is 529 already).
_ERROR_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.REQUEST_TOO_LARGE: "request_too_large",
    ErrorKind.UNPROCESSABLE: "invalid_request_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.SERVER: "api_error",
    ErrorKind.BAD_GATEWAY: "api_error",
    # 503 keeps its status (the SDK's ServiceUnavailableError); only 529 is documented as overloaded_error.
    ErrorKind.UNAVAILABLE: "api_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.OVERLOADED: "overloaded_error",
}

_DEFAULT_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.OVERLOADED: "Overloaded",
    ErrorKind.UNAVAILABLE: "Service unavailable",
    ErrorKind.SERVER: "Internal server error",
    ErrorKind.RATE_LIMIT: "Rate limited",
    ErrorKind.TIMEOUT: "Request timed out",
}


# ---- headers and errors ---------------------------------------------------------------


def request_id(rid: str) -> str:
    """``req_011C…`` (24 characters after ``req_``, like the real ones) derived from the answer's request id."""
    try:
        n = int(rid, 16)
    except ValueError:
        n = int.from_bytes(rid.encode()[:16].ljust(16, b"\0"), "big")
    digits = []
    for _ in range(20):
        n, r = divmod(n, 58)
        digits.append(_BASE58[r])
    return "req_011C" + "".join(reversed(digits))


def base_headers(opts: RenderOptions) -> dict[str, str]:
    """Headers every Anthropic answer carries."""
    return {"request-id": request_id(opts.request_id), "anthropic-organization-id": ORGANIZATION_ID}


def error_object(error: ApiError) -> dict[str, str]:
    """The inner ``{type, message}`` of an error, for the envelope and the in-stream event."""
    etype = _ERROR_TYPES.get(error.kind, "api_error")
    return {"type": etype, "message": error.message or _DEFAULT_MESSAGES.get(error.kind, etype)}


def render_error(error: ApiError, opts: RenderOptions) -> Answer:
    """``{"type":"error","error":{type, message},"request_id":"req_…"}`` with the kind's status."""
    headers = base_headers(opts)
    headers.update(error.headers)
    body = {"type": "error", "error": error_object(error), "request_id": headers["request-id"]}
    return json_answer(error.http_status, body, headers)


# ---- the codec ---------------------------------------------------------------------------


def _rfc3339(seconds_from_now: float) -> str:
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_from_now)
    return at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def quota_headers(quota: Quota) -> dict[str, str]:
    """``anthropic-ratelimit-*`` (reset as an RFC 3339 time) and ``retry-after`` on a denial.

    The token quota is reported as the combined, input and output limits alike: the
    shaper keeps one token budget.
    """
    out: dict[str, str] = {}
    units = [("requests", quota.requests)]
    if quota.tokens is not None:
        units += [("tokens", quota.tokens), ("input-tokens", quota.tokens), ("output-tokens", quota.tokens)]
    for unit, q in units:
        if q is not None:
            out[f"anthropic-ratelimit-{unit}-limit"] = str(q.limit)
            out[f"anthropic-ratelimit-{unit}-remaining"] = str(q.remaining)
            out[f"anthropic-ratelimit-{unit}-reset"] = _rfc3339(q.reset_after)
    if quota.retry_after is not None:
        out["retry-after"] = str(math.ceil(quota.retry_after))
        if quota.retry_after < 1:
            # retry-after cannot say less than a second; the SDK reads this one first.
            out["retry-after-ms"] = str(max(1, round(quota.retry_after * 1000)))
    return out


def render_body(reply: Reply) -> dict[str, Any]:
    """The non-stream message object of ``reply`` (its first candidate)."""
    cand = content.first_candidate(reply)
    blocks = [b for b in (content.block(p) for p in cand.parts) if b is not None]
    return {
        "id": content.message_id(reply),
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": blocks,
        "stop_reason": content.stop_reason(cand),
        "stop_sequence": content.stop_sequence(cand),
        "usage": content.usage(reply.usage),
    }


class AnthropicMessagesCodec(Codec):
    """``POST /v1/messages``: Anthropic's message objects and event streams."""

    api = "anthropic-messages"
    endpoint = "messages"
    # A stream that breaks mid-way at Anthropic says overloaded_error (529); other providers say server error.
    stream_error_kind = ErrorKind.OVERLOADED
    # x-api-key is the API key; Authorization: Bearer carries OAuth tokens (and what gateways send).
    credential_headers = ("x-api-key", "authorization")
    account_headers = ("anthropic-organization-id",)
    volatile_fields = ("metadata", "service_tier")
    significant_fields = (
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "max_tokens",
        "thinking",
        "output_format",
        "stop_sequences",
        "temperature",
        "top_p",
        "top_k",
        "mcp_servers",
        "container",
    )

    def parse_request(self, call: Call) -> Request:
        return anthropic_request.parse_messages(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = base_headers(opts)
        if not request.stream:
            answer = json_answer(200, render_body(reply), headers)
            return Answer(answer.status, answer.headers, answer.frames, steps=content_steps(reply, opts.chunk_size))
        hs = (("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"), *headers.items())
        return Answer(200, hs, anthropic_stream.render_frames(reply, opts.chunk_size), stream=True)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return render_error(error, opts)

    def request_id_form(self, rid: str) -> str | None:
        return request_id(rid)

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        return quota_headers(quota)

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        # The SDK raises on the event name alone; real error events carry no request_id.
        return anthropic_stream.event({"type": "error", "error": error_object(error)})

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return anthropic_stream.parse_events(body)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return anthropic_stream.encode_events(events)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return anthropic_stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        msg = json.loads(body)
        if not isinstance(msg, dict) or msg.get("type") == "error":
            raise ValueError("not an Anthropic message object")
        return content.to_reply(msg, [content.to_part(b) for b in msg.get("content") or []])


CODEC = AnthropicMessagesCodec()


def count_tokens(call: Call, opts: RenderOptions) -> Answer:
    """``POST /v1/messages/count_tokens``: the input tokens a generation of the same input would report."""
    request = anthropic_request.parse_count_tokens(call)
    return json_answer(200, {"input_tokens": prompt_tokens(request)}, base_headers(opts))


ROUTES = [
    Route("POST", "/v1/messages", "messages", CODEC),
    Route("POST", "/v1/messages/count_tokens", "messages", CODEC, op=count_tokens),
]

__all__ = [
    "CODEC",
    "ROUTES",
    "AnthropicMessagesCodec",
    "base_headers",
    "count_tokens",
    "quota_headers",
    "render_error",
    "request_id",
]
