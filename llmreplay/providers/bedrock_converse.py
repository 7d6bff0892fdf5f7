"""AWS Bedrock's Converse API: ``POST /model/{modelId}/converse`` and ``/converse-stream``.

Requests are parsed in :mod:`bedrock_converse_request`, blocks and usage live in :mod:`bedrock_converse_content`,
the binary event stream in :mod:`bedrock_converse_stream`; errors are :mod:`bedrock_common`'s. SigV4's
``Authorization`` is accepted without checking (a test's fake credentials sign as well as real ones).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from llmreplay import eventstream
from llmreplay.model import Answer, Call, Reply, Request
from llmreplay.providers import bedrock_common
from llmreplay.providers import bedrock_converse_content as content
from llmreplay.providers import bedrock_converse_request as parsing
from llmreplay.providers import bedrock_converse_stream as stream
from llmreplay.providers.base import RenderOptions, Route, StreamEvent, content_steps, json_answer

MODEL = "{model:[^/]+}"
"""Bedrock model ids hold colons (``anthropic.claude-…-v1:0``): only a slash ends one."""


def render_body(reply: Reply) -> dict[str, Any]:
    """The non-stream answer of ``reply`` (its first candidate)."""
    cand = content.first_candidate(reply)
    blocks = [b for b in (content.block(p) for p in cand.parts) if b is not None]
    return {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": content.stop_reason(cand),
        "usage": content.usage(reply.usage),
        "metrics": {"latencyMs": 0},
    }


class BedrockConverseCodec(bedrock_common.BedrockCodec):
    """Converse's JSON answers and binary event streams."""

    api = parsing.API
    endpoint = parsing.ENDPOINT
    stream_paths: ClassVar[Mapping[str, str]] = {parsing.STREAM_SUFFIX: "/converse"}
    volatile_fields = ("requestMetadata",)
    # The model is in the path.
    significant_fields = (
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "outputConfig",
        "additionalModelRequestFields",
        "guardrailConfig",
        "promptVariables",
    )

    def parse_request(self, call: Call) -> Request:
        return parsing.parse_converse(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = bedrock_common.base_headers(opts)
        if not request.stream:
            answer = json_answer(200, render_body(reply), headers)
            return Answer(answer.status, answer.headers, answer.frames, steps=content_steps(reply, opts.chunk_size))
        hs = (("content-type", eventstream.CONTENT_TYPE), *headers.items())
        return Answer(200, hs, stream.render_frames(reply, opts.chunk_size), stream=True)

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return stream.parse_events(body)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        data = json.loads(body)
        message = ((data.get("output") or {}).get("message") or {}) if isinstance(data, dict) else None
        if not isinstance(message, dict) or "stopReason" not in data:
            raise ValueError("not a Converse answer")
        parts = [content.to_part(b) for b in message.get("content") or [] if isinstance(b, dict)]
        return content.to_reply(data.get("stopReason"), data.get("usage"), parts, body)


CODEC = BedrockConverseCodec()

ROUTES = [
    Route("POST", f"/model/{MODEL}/converse", parsing.ENDPOINT, CODEC),
    Route("POST", f"/model/{MODEL}{parsing.STREAM_SUFFIX}", parsing.ENDPOINT, CODEC, key="bedrock-converse-stream"),
]

__all__ = ["CODEC", "MODEL", "ROUTES", "BedrockConverseCodec", "render_body"]
