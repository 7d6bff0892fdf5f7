"""Mid-stream faults, as the official SDKs' stream iterators see them.

A fault must look like the real failure it imitates: the iterator raises (a reset,
a close, a torn chunk, an in-stream error event) or ends early without the stream's
terminator, while stalls and slow first tokens only cost time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llmreplay.server import BackgroundServer

from ..conftest import settings

pytestmark = pytest.mark.sdk

TEXT = "The quick brown fox jumps over the lazy dog. " * 3
USER = [{"role": "user", "content": "Hello there"}]
CLAUDE = "claude-sonnet-4-6"
GEMINI = "gemini-2.5-flash"
Reader = Callable[[str, dict[str, str]], Iterator[str]]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with BackgroundServer(settings(synthetic={"default_response": TEXT, "tool_call_probability": 0})) as s:
        yield s.url


def chat_text(url: str, headers: dict[str, str]) -> Iterator[str]:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    for chunk in client.chat.completions.create(model="gpt-4o", messages=USER, stream=True, extra_headers=headers):
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


def responses_events(url: str, headers: dict[str, str]) -> Iterator[Any]:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    yield from client.responses.create(model="gpt-4o", input="Hello there", stream=True, extra_headers=headers)


def responses_text(url: str, headers: dict[str, str]) -> Iterator[str]:
    for event in responses_events(url, headers):
        if event.type == "response.output_text.delta":
            yield event.delta


def claude_client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0)


def messages_text(url: str, headers: dict[str, str]) -> Iterator[str]:
    with claude_client(url).messages.stream(model=CLAUDE, max_tokens=256, messages=USER, extra_headers=headers) as s:
        yield from s.text_stream


def messages_events(url: str, headers: dict[str, str]) -> Iterator[Any]:
    yield from claude_client(url).messages.create(
        model=CLAUDE, max_tokens=256, messages=USER, stream=True, extra_headers=headers
    )


def gemini_chunks(url: str, headers: dict[str, str]) -> Iterator[types.GenerateContentResponse]:
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url, headers=headers))
    yield from client.models.generate_content_stream(model=GEMINI, contents="Hello there")


def gemini_text(url: str, headers: dict[str, str]) -> Iterator[str]:
    for chunk in gemini_chunks(url, headers):
        yield chunk.text or ""


READERS: dict[str, Reader] = {
    "chat": chat_text,
    "responses": responses_text,
    "messages": messages_text,
    "gemini": gemini_text,
}

# What each SDK raises when the connection dies mid-body, by its own public classes: openai and anthropic wrap
# transport errors raised during iteration in their APIConnectionError; google-genai has no such class and lets
# the transport's error through.
CONNECTION_ERRORS: dict[str, tuple[type[BaseException], ...]] = {
    "chat": (openai.APIConnectionError,),
    "responses": (openai.APIConnectionError,),
    "messages": (anthropic.APIConnectionError,),
    "gemini": (httpx2.TransportError,),
}


def transport_error(exc: BaseException) -> BaseException:
    """The transport's own error under whatever the SDK wrapped it in: it tells a reset from a cut-short body."""
    while isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def fault(spec: str) -> dict[str, str]:
    return {"x-llmreplay-fault": spec}


def collect(reader: Reader, url: str, headers: dict[str, str]) -> tuple[list[str], BaseException | None]:
    """The pieces read before the iterator ended, and what it raised (None if it ended cleanly)."""
    pieces: list[str] = []
    try:
        for piece in reader(url, headers):
            pieces.append(piece)
    except Exception as exc:
        return pieces, exc
    return pieces, None


@pytest.mark.parametrize("api", READERS)
def test_clean_stream_is_complete(url, api):
    assert "".join(READERS[api](url, {})) == TEXT


@pytest.mark.parametrize("api", READERS)
def test_disconnect_raises_a_connection_error(url, api):
    pieces, exc = collect(READERS[api], url, fault("disconnect@3"))
    assert isinstance(exc, CONNECTION_ERRORS[api]), repr(exc)
    assert "".join(pieces) != TEXT
    assert isinstance(transport_error(exc), httpx2.ReadError)  # reset by peer


@pytest.mark.parametrize("api", READERS)
def test_stall_delays_but_completes(url, api):
    start = time.perf_counter()
    text = "".join(READERS[api](url, fault("stall@2:300")))
    assert time.perf_counter() - start >= 0.28
    assert text == TEXT


@pytest.mark.parametrize("api", READERS)
def test_stall_then_close_raises(url, api):
    start = time.perf_counter()
    pieces, exc = collect(READERS[api], url, fault("stall@2:300:close"))
    assert time.perf_counter() - start >= 0.28
    assert isinstance(exc, CONNECTION_ERRORS[api]), repr(exc)
    assert isinstance(transport_error(exc), httpx2.RemoteProtocolError)  # incomplete chunked body
    assert "".join(pieces) != TEXT


@pytest.mark.parametrize("api", READERS)
def test_slow_first_token(url, api):
    start = time.perf_counter()
    stream = READERS[api](url, fault("slow-first-token:300"))
    first = next(piece for piece in stream if piece)
    assert time.perf_counter() - start >= 0.28
    assert first + "".join(stream) == TEXT


# ---- malformed chunks ----------------------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_malformed_chunk_breaks_openai_streams(url, api):
    # The openai SDK parses each data line with json.loads and lets the error through unwrapped.
    pieces, exc = collect(READERS[api], url, fault("malformed@2"))
    assert isinstance(exc, json.JSONDecodeError), repr(exc)
    assert "".join(pieces) != TEXT


def test_malformed_chunk_breaks_gemini_stream(url):
    pieces, exc = collect(gemini_text, url, fault("malformed@2"))
    assert isinstance(exc, genai_errors.UnknownApiResponseError), repr(exc)
    assert isinstance(exc.__cause__, json.JSONDecodeError)
    assert "".join(pieces) != TEXT


def test_malformed_later_chunk_breaks_anthropic_stream(url):
    pieces, exc = collect(messages_text, url, fault("malformed@4"))
    assert isinstance(exc, json.JSONDecodeError), repr(exc)
    assert "".join(pieces) != TEXT


def test_malformed_chunk_breaks_anthropic_stream(url):
    pieces, exc = collect(messages_text, url, fault("malformed@2"))
    assert exc is not None
    assert "".join(pieces) != TEXT


# ---- in-stream error events ----------------------------------------------------------------


def test_stream_error_in_chat_raises_api_error(url):
    pieces, exc = collect(chat_text, url, fault("stream-error@2"))
    assert type(exc) is openai.APIError, repr(exc)
    assert "injected" in exc.message and "".join(pieces) != TEXT


def test_stream_error_in_responses_is_an_error_event(url):
    events = list(responses_events(url, fault("stream-error@2")))
    types_seen = [e.type for e in events]
    assert "error" in types_seen and "response.completed" not in types_seen
    error = events[types_seen.index("error")]
    assert error.message and error.code
    assert types_seen[-1] == "response.failed"


@pytest.mark.parametrize("reader", [messages_text, messages_events], ids=["stream-helper", "raw-events"])
def test_stream_error_in_messages_raises_status_error(url, reader):
    pieces, exc = collect(reader, url, fault("stream-error@2"))
    assert isinstance(exc, anthropic.APIStatusError), repr(exc)
    assert exc.body["type"] == "error" and exc.body["error"]["type"] == "overloaded_error"
    assert len(pieces) < 5


def test_stream_error_in_gemini_raises_server_error(url):
    pieces, exc = collect(gemini_text, url, fault("stream-error@2"))
    assert isinstance(exc, genai_errors.ServerError), repr(exc)
    assert exc.code == 500 and exc.status == "INTERNAL"
    assert "".join(pieces) != TEXT


# ---- truncation: the stream ends cleanly but without its terminator ------------------------


def raw_stream(url: str, path: str, body: dict[str, Any], spec: str | None) -> str:
    headers = {"anthropic-version": "2023-06-01", **(fault(spec) if spec else {})}
    r = httpx2.post(url + path, json=body, headers=headers)
    assert r.status_code == 200
    return r.text


def test_truncate_chat_iterates_without_done(url):
    assert "".join(chat_text(url, fault("truncate"))) == TEXT  # the SDK does not notice
    body = {"model": "gpt-4o", "messages": USER, "stream": True}
    assert raw_stream(url, "/v1/chat/completions", body, None).rstrip().endswith("data: [DONE]")
    cut = raw_stream(url, "/v1/chat/completions", body, "truncate")
    assert "[DONE]" not in cut and '"finish_reason":"stop"' in cut


def test_truncate_responses_has_no_completed_event(url):
    events = [e.type for e in responses_events(url, fault("truncate"))]
    assert "response.output_text.done" in events
    assert "response.completed" not in events and "response.failed" not in events


def test_truncate_messages_has_no_message_stop(url):
    kinds = [e.type for e in messages_events(url, fault("truncate"))]
    assert kinds[-1] == "message_delta" and "message_stop" not in kinds
    # The stream helper accumulates from message_delta, so get_final_message() still succeeds.
    with claude_client(url).messages.stream(
        model=CLAUDE, max_tokens=256, messages=USER, extra_headers=fault("truncate")
    ) as s:
        final = s.get_final_message()
    assert final.stop_reason == "end_turn" and final.content[0].text == TEXT


def test_truncate_gemini_ends_without_finish_reason(url):
    chunks = list(gemini_chunks(url, fault("truncate")))
    assert chunks and all(c.candidates[0].finish_reason is None for c in chunks)
    assert "".join(c.text or "" for c in chunks) != TEXT
