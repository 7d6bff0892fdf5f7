"""The original Mock LLM Server's error types, as the official SDKs see them (issue 18).

Each raises the SDK's own exception class in every API, whichever way it is asked for; ``slow_response``
answers normally, its first byte 5 to 10 s late, which is checked on the writer's own deadlines (the
client leaves at once: nothing here waits for the delay).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llmreplay.server import BackgroundServer
from tests.schedule_spy import Spy, Stream, spy_on_answers, spy_on_streams

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
CLAUDE, GEMINI = "claude-sonnet-4-6", "gemini-2.5-flash"

STATUS_TYPES: dict[str, tuple[int, type[openai.APIStatusError], type[anthropic.APIStatusError], str]] = {
    "server_error": (500, openai.InternalServerError, anthropic.InternalServerError, "INTERNAL"),
    "bad_request": (400, openai.BadRequestError, anthropic.BadRequestError, "INVALID_ARGUMENT"),
    "authentication_error": (401, openai.AuthenticationError, anthropic.AuthenticationError, "UNAUTHENTICATED"),
    "permission_denied": (403, openai.PermissionDeniedError, anthropic.PermissionDeniedError, "PERMISSION_DENIED"),
}
"""Each status type: its status, the OpenAI and Anthropic SDKs' exception classes, and Gemini's status name."""
ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 500: "api_error"}


def oai(url: str, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, **kw)


def claude(url: str, **kw: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0, **kw)


def chat(url: str, headers: dict[str, str], **kw: Any) -> Any:
    return oai(url, **kw).chat.completions.create(model="gpt-4o", messages=USER, extra_headers=headers)


def responses(url: str, headers: dict[str, str], **kw: Any) -> Any:
    return oai(url, **kw).responses.create(model="gpt-4o", input="Hello there", extra_headers=headers)


def message(url: str, headers: dict[str, str], **kw: Any) -> Any:
    return claude(url, **kw).messages.create(model=CLAUDE, max_tokens=256, messages=USER, extra_headers=headers)


def generate(url: str, headers: dict[str, str], **kw: Any) -> Any:
    # Keep the client referenced for the call: a collected genai.Client closes its HTTP client.
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url, headers=headers, **kw))
    return client.models.generate_content(model=GEMINI, contents="Hello")


def fault(word: str) -> dict[str, str]:
    return {"x-llmreplay-fault": word}


@pytest.mark.parametrize("word", list(STATUS_TYPES))
def test_each_status_type_is_the_sdks_exception(server: BackgroundServer, word: str) -> None:
    status, openai_class, anthropic_class, gemini_status = STATUS_TYPES[word]
    for call in (chat, responses):
        with pytest.raises(openai_class) as oerr:
            call(server.url, fault(word))
        assert oerr.value.status_code == status and oerr.value.body["message"]  # type: ignore[index]
    with pytest.raises(anthropic_class) as aerr:
        message(server.url, fault(word))
    assert type(aerr.value) is anthropic_class
    assert aerr.value.body["error"]["type"] == ANTHROPIC_TYPES[status]  # type: ignore[index]
    gemini_class = genai_errors.ServerError if status >= 500 else genai_errors.ClientError
    with pytest.raises(gemini_class) as gerr:
        generate(server.url, fault(word))
    assert (gerr.value.code, gerr.value.status) == (status, gemini_status)


def test_connection_reset_is_the_sdks_connection_error(server: BackgroundServer) -> None:
    for call in (chat, responses):
        with pytest.raises(openai.APIConnectionError) as oerr:
            call(server.url, fault("connection_reset"))
        assert not isinstance(oerr.value, openai.APITimeoutError)
    with pytest.raises(anthropic.APIConnectionError) as aerr:
        message(server.url, fault("connection_reset"))
    assert not isinstance(aerr.value, anthropic.APITimeoutError)
    with pytest.raises(httpx2.TransportError):  # google-genai lets its transport's error through
        generate(server.url, fault("connection_reset"))


def test_configured_scenario_and_rule_spellings_work(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server()
    r = httpx2.patch(
        srv.url + "/api/config/global", json={"failures": {"error_rate": 1.0, "kinds": {"authentication_error": 1}}}
    )
    assert r.status_code == 200, r.text
    with pytest.raises(openai.AuthenticationError):
        chat(srv.url, {})
    r = httpx2.patch(srv.url + "/api/config/global", json={"failures": {"error_rate": 0.0}})
    assert r.status_code == 200, r.text
    steps = {"x-llmreplay-scenario": "permission_denied,ok", "x-llmreplay-scenario-key": uuid.uuid4().hex}
    with pytest.raises(anthropic.PermissionDeniedError):
        message(srv.url, steps)
    assert message(srv.url, steps).content[0].text
    rule = {"name": "broken", "match": {}, "reply": {"outcome": "bad_request"}}
    assert httpx2.put(srv.url + "/api/rules", json={"rules": [rule]}).status_code == 200
    with pytest.raises(genai_errors.ClientError) as gerr:
        generate(srv.url, {})
    assert gerr.value.code == 400


# ---- slow_response: the writer's deadlines, not a stopwatch ----------------------------------------

TTFT = 0.0
"""The shared server's time to first token (none); slow_response's delay is on top of it. The shared server
also keeps the held answers' wait (until their deadline, for a client that left) out of any one test's end."""


def when_seen(found: Callable[[], list[Any]]) -> Any:
    """The one item ``found`` lists, once the server has got that far (a client that left may be ahead of it)."""
    deadline = time.monotonic() + 10
    while not (items := found()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(items) == 1, f"{len(items)} seen"
    return items[0]


def extra_s(first_at: float) -> float:
    return first_at - TTFT


def test_slow_response_plain_bodies_are_due_5_to_10_s_late(server: BackgroundServer, monkeypatch) -> None:
    seen = spy_on_answers(monkeypatch)
    calls: list[tuple[Callable[..., Any], type[BaseException], dict[str, Any]]] = [
        (chat, openai.APITimeoutError, {"timeout": 0.3}),
        (responses, openai.APITimeoutError, {"timeout": 0.3}),
        (message, anthropic.APITimeoutError, {"timeout": 0.3}),
        (generate, httpx2.ReadTimeout, {"timeout": 300}),  # HttpOptions.timeout is in ms
    ]
    for call, gave_up, kw in calls:
        seen.clear()
        with pytest.raises(gave_up):  # the client leaves long before the answer is due
            call(server.url, fault("slow_response"), **kw)
        answer = when_seen(lambda: list(seen))
        assert answer.status == 200 and not answer.stream and answer.cut is None and answer.body
        assert answer.headers_at == 0.0
        assert 5.0 <= extra_s(answer.frames[0].at or 0.0) <= 10.0, (call.__name__, answer.frames[0].at)


def _open_stream(url: str, api: str, headers: dict[str, str]) -> None:
    """Opens a stream, reads its status line and leaves."""
    if api == "chat":
        oai(url).chat.completions.create(model="gpt-4o", messages=USER, stream=True, extra_headers=headers).close()
    elif api == "messages":
        claude(url).messages.create(
            model=CLAUDE, max_tokens=256, messages=USER, stream=True, extra_headers=headers
        ).close()
    else:
        asyncio.run(_gemini_stream_head(url, headers))


async def _gemini_stream_head(url: str, headers: dict[str, str]) -> None:
    # google-genai reads a stream only as it is iterated; the status line is enough here, so ask with httpx2.
    path = f"{url}/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
    async with httpx2.AsyncClient() as client, client.stream("POST", path, json=body, headers=headers) as resp:
        assert resp.status_code == 200


@pytest.mark.parametrize("api", ["chat", "messages", "gemini"])
def test_slow_response_streams_schedule_the_first_chunk_5_to_10_s_late(server, monkeypatch, api: str) -> None:
    spy: Spy = spy_on_streams(monkeypatch)
    _open_stream(server.url, api, {"x-llmreplay-fault": "ok"})
    normal: Stream = when_seen(lambda: spy.of(server))
    assert abs(normal.offsets[0] - TTFT) < 1e-6
    spy.streams.clear()
    _open_stream(server.url, api, fault("slow_response"))
    late: Stream = when_seen(lambda: spy.of(server))
    extra = late.due[0] - late.t0 - TTFT
    assert 5.0 <= extra <= 10.0, extra
    assert abs(late.offsets[0] - TTFT - extra) < 1e-6  # the deadline handed over is the answer's own
