"""The OpenAI Responses API: ``POST /v1/responses``.

Requests are parsed in :mod:`openai_responses_request`, output items, usage and the
response object live in :mod:`openai_responses_items` (read back from a recording in
:mod:`openai_responses_recorded`), the event stream in :mod:`openai_responses_stream`;
this module holds the codec and its route.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from llmreplay.errors import ApiError
from llmreplay.model import Answer, Call, Frame, Quota, Reply, Request
from llmreplay.providers import openai_common, openai_responses_request, openai_responses_stream
from llmreplay.providers import openai_responses_items as items
from llmreplay.providers import openai_responses_recorded as recorded
from llmreplay.providers.base import Codec, RenderOptions, Route, StreamEvent, content_steps, dumps


class OpenAIResponsesCodec(Codec):
    """``POST /v1/responses``: response objects and named-event streams."""

    api = "openai-responses"
    endpoint = "responses"
    credential_headers = openai_common.CREDENTIAL_HEADERS
    account_headers = openai_common.ACCOUNT_HEADERS
    volatile_fields = openai_common.VOLATILE_FIELDS
    significant_fields = (
        "model",
        "input",
        "instructions",
        "previous_response_id",
        "conversation",
        "prompt",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "max_tool_calls",
        "text",
        "reasoning",
        "include",
        "max_output_tokens",
        "truncation",
        "temperature",
        "top_p",
        "top_logprobs",
    )

    def parse_request(self, call: Call) -> Request:
        return openai_responses_request.parse_request(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = tuple(openai_common.base_headers(opts).items())
        if not request.stream:
            body = items.render_body(reply, request, opts.chunk_size, opts.seed)
            return Answer(
                200,
                (("content-type", "application/json"), *headers),
                (Frame(dumps(body)),),
                steps=content_steps(reply, opts.chunk_size),
            )
        frames = openai_responses_stream.render_frames(reply, request, opts.chunk_size, opts.seed)
        hs = (("content-type", "text/event-stream; charset=utf-8"), *headers)
        return Answer(200, hs, frames, stream=True)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return openai_common.render_error(error, opts)

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        return openai_common.quota_headers(quota)

    def prompt_filtered(self) -> ApiError | None:
        return openai_common.prompt_filtered()

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        return openai_responses_stream.in_stream_error(error, sent)

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return openai_responses_stream.parse_events(body)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return openai_responses_stream.encode_events(events)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return openai_responses_stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        resp = json.loads(body)
        if not isinstance(resp, dict) or resp.get("object") != "response":
            raise ValueError("not an OpenAI response object")
        return recorded.to_reply(resp)


CODEC = OpenAIResponsesCodec()

ROUTES = [Route("POST", "/v1/responses", "responses", CODEC)]

__all__ = ["CODEC", "ROUTES", "OpenAIResponsesCodec"]
