"""The OpenAI Chat Completions API: ``POST /v1/chat/completions``.

Requests are parsed in :mod:`openai_chat_request`, choices, usage and logprobs live in
:mod:`openai_chat_content`, the chunk stream in :mod:`openai_chat_stream`; the error
envelope and standard headers are :mod:`openai_common`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from llmreplay.errors import ApiError
from llmreplay.model import Answer, Call, Frame, Quota, Reply, Request
from llmreplay.providers import openai_chat_content as content
from llmreplay.providers import openai_chat_request, openai_chat_stream, openai_common
from llmreplay.providers.base import Codec, RenderOptions, Route, StreamEvent, content_steps, json_answer
from llmreplay.providers.memo import BodyMemo
from llmreplay.sse import encode_sse

STREAM_CONTENT_TYPE = "text/event-stream; charset=utf-8"
_JSON = ("content-type", "application/json")


class OpenAIChatCodec(Codec):
    """``POST /v1/chat/completions``: ``chat.completion`` objects and chunk streams."""

    api = "openai-chat"
    endpoint = "chat-completions"
    credential_headers = openai_common.CREDENTIAL_HEADERS
    account_headers = openai_common.ACCOUNT_HEADERS
    volatile_fields = openai_common.VOLATILE_FIELDS
    significant_fields = (
        "model",
        "messages",
        "tools",
        "functions",
        "tool_choice",
        "function_call",
        "parallel_tool_calls",
        "response_format",
        "max_tokens",
        "max_completion_tokens",
        "reasoning_effort",
        "verbosity",
        "modalities",
        "audio",
        "prediction",
        "web_search_options",
        *openai_common.SAMPLING_FIELDS,
    )

    # Looked up on each read, not kept: tests put a spy in its place.
    _read = BodyMemo(lambda call: openai_chat_request.parse_chat(call))

    def parse_request(self, call: Call) -> Request:
        return self._read(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = openai_common.base_headers(opts)
        if not request.stream:
            steps = content_steps(reply, opts.chunk_size)
            data = None if request.logprobs else content.one_text_body(reply)
            if data is not None:
                return Answer(200, (_JSON, *headers.items()), (Frame(data),), steps=steps)
            obj = content.body(reply, request.logprobs, request.top_logprobs, opts.seed, opts.chunk_size)
            answer = json_answer(200, obj, headers)
            return Answer(answer.status, answer.headers, answer.frames, steps=steps)
        frames = openai_chat_stream.render_frames(reply, request, opts.seed, opts.chunk_size)
        hs = (("content-type", STREAM_CONTENT_TYPE), *headers.items())
        return Answer(200, hs, frames, stream=True)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return openai_common.render_error(error, opts)

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        return openai_common.quota_headers(quota)

    def prompt_filtered(self) -> ApiError | None:
        return openai_common.prompt_filtered()

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        # The SDK raises APIError on any chunk with a truthy top-level "error".
        return encode_sse(json.dumps({"error": openai_common.error_object(error)}, separators=(",", ":")))

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return openai_chat_stream.parse_events(body)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return openai_chat_stream.encode_events(events)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return openai_chat_stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        return content.body_to_reply(json.loads(body))


CODEC = OpenAIChatCodec()

ROUTES = [Route("POST", "/v1/chat/completions", "chat-completions", CODEC)]

__all__ = ["CODEC", "ROUTES", "STREAM_CONTENT_TYPE", "OpenAIChatCodec"]
