"""AWS Bedrock's InvokeModel for Anthropic models: ``POST /model/{modelId}/invoke`` and
``/invoke-with-response-stream``.

The body is Anthropic's Messages body without ``model`` (it is in the path) and with
``anthropic_version: bedrock-2023-05-31``; the answer is Anthropic's message object. The stream is Anthropic's
events, each one's JSON base64'd into an event-stream ``chunk`` event (``{"bytes": "…"}``). So the Anthropic
codec does the work and this one wraps it; errors are Bedrock's (:mod:`bedrock_common`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from llmreplay import eventstream
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Reply, Request
from llmreplay.providers import anthropic_messages, anthropic_stream, bedrock_common
from llmreplay.providers.anthropic_request import invalid
from llmreplay.providers.base import RenderOptions, Route, StreamEvent, dumps, load_json
from llmreplay.providers.bedrock_converse import MODEL

API = "bedrock-invoke"
ENDPOINT = "bedrock-invoke"
STREAM_SUFFIX = "/invoke-with-response-stream"
ANTHROPIC_VERSION = "bedrock-2023-05-31"

_CHUNK = eventstream.event_prefix("chunk")


def parse_invoke(call: Call) -> Request:
    """The Anthropic body with the path's model; the path alone says whether it streams."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    if "anthropic_version" not in data:
        raise invalid("anthropic_version", "Field required")
    with_model = dataclasses.replace(call, body=dumps({**data, "model": call.params.get("model", "")}))
    request = anthropic_messages.CODEC.parse_request(with_model)
    return dataclasses.replace(request, api=API, endpoint=ENDPOINT, stream=call.path.endswith(STREAM_SUFFIX), body=data)


def chunk(event_json: bytes) -> bytes:
    """One Anthropic event's JSON as Bedrock streams it."""
    return eventstream.message(_CHUNK, b'{"bytes":"' + base64.b64encode(event_json) + b'"}')


def _metrics(reply: Reply) -> dict[str, int]:
    """Bedrock's invocation metrics, which real streams' last chunk (``message_stop``) carries."""
    return {
        "inputTokenCount": reply.usage.input_tokens,
        "outputTokenCount": reply.usage.output_tokens,
        "invocationLatency": 0,
        "firstByteLatency": 0,
    }


def render_frames(reply: Reply, chunk_size: int) -> tuple[Frame, ...]:
    """Anthropic's events (no ``ping``: Bedrock has none), each one's JSON in a chunk as it is rendered."""

    def encode(data: dict[str, Any]) -> bytes:
        if data["type"] == "message_stop":
            data = {**data, "amazon-bedrock-invocationMetrics": _metrics(reply)}
        return chunk(dumps(data))

    return anthropic_stream.render_frames(reply, chunk_size, encode, ping=None)


def parse_events(body: bytes) -> list[StreamEvent]:
    """Every message of a recorded stream; a chunk is typed and read as the Anthropic event it carries."""
    out: list[StreamEvent] = []
    for headers, payload, raw in eventstream.split(body):
        kind = headers.get(":event-type") or headers.get(":exception-type") or "message"
        data: Any = None
        try:
            data = json.loads(payload) if payload else None
            if kind == "chunk" and isinstance(data, dict):
                data = json.loads(base64.b64decode(data.get("bytes") or ""))
                kind = str(data.get("type", kind)) if isinstance(data, dict) else kind
        except ValueError:
            data = None
        out.append(StreamEvent(kind, data, raw))
    return out


class BedrockInvokeCodec(bedrock_common.BedrockCodec):
    """Anthropic's messages through Bedrock's InvokeModel, with Bedrock's errors and stream framing."""

    api = API
    endpoint = ENDPOINT
    stream_error_kind = ErrorKind.SERVER
    stream_paths: ClassVar[Mapping[str, str]] = {STREAM_SUFFIX: "/invoke"}
    volatile_fields = anthropic_messages.CODEC.volatile_fields
    significant_fields = (
        "anthropic_version",
        *(f for f in anthropic_messages.CODEC.significant_fields if f != "model"),
    )

    def parse_request(self, call: Call) -> Request:
        return parse_invoke(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = bedrock_common.base_headers(opts)
        if not request.stream:
            answer = anthropic_messages.CODEC.render(reply, request, opts)
            return dataclasses.replace(answer, headers=(("content-type", "application/json"), *headers.items()))
        hs = (
            ("content-type", eventstream.CONTENT_TYPE),
            ("x-amzn-bedrock-content-type", "application/json"),
            *headers.items(),
        )
        return Answer(200, hs, render_frames(reply, opts.chunk_size), stream=True)

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return parse_events(body)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return anthropic_stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        return anthropic_messages.CODEC.body_to_reply(body)


CODEC = BedrockInvokeCodec()

ROUTES = [
    Route("POST", f"/model/{MODEL}/invoke", ENDPOINT, CODEC),
    Route("POST", f"/model/{MODEL}{STREAM_SUFFIX}", ENDPOINT, CODEC, key="bedrock-invoke-stream"),
]

__all__ = ["ANTHROPIC_VERSION", "CODEC", "ROUTES", "BedrockInvokeCodec", "chunk", "parse_invoke", "render_frames"]
