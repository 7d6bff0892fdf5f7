"""Injected failures before the first byte, as the official SDKs see them.

Each HTTP error must surface as the SDK's own exception class, each network fault as
the SDK's connection or timeout error, and scenarios must drive the SDKs' built-in
retries exactly as a real outage would.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
CLAUDE = "claude-sonnet-4-6"
GEMINI = "gemini-2.5-flash"

OPENAI_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    502: openai.InternalServerError,
    503: openai.InternalServerError,
    504: openai.InternalServerError,
    529: openai.InternalServerError,
}

ANTHROPIC_ERRORS: dict[int, type[anthropic.APIStatusError]] = {
    400: anthropic.BadRequestError,
    401: anthropic.AuthenticationError,
    403: anthropic.PermissionDeniedError,
    404: anthropic.NotFoundError,
    429: anthropic.RateLimitError,
    500: anthropic.InternalServerError,
    502: anthropic.InternalServerError,
    503: anthropic.ServiceUnavailableError,
    504: anthropic.GatewayTimeoutError,
    529: anthropic.OverloadedError,
}

STATUSES = sorted(OPENAI_ERRORS)


def seen_status(status: int) -> int:
    """529 is Anthropic's own overloaded status; OpenAI and Gemini say 503 instead."""
    return 503 if status == 529 else status


def oai(url: str, **kw: Any) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", **kw)


def claude(url: str, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test", **kw)


def gemini(url: str, headers: dict[str, str] | None = None, **kw: Any) -> genai.Client:
    return genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url, headers=headers, **kw))


def generate(url: str, headers: dict[str, str], **kw: Any) -> types.GenerateContentResponse:
    # Keep the client referenced for the call: a collected genai.Client closes its HTTP client.
    client = gemini(url, headers, **kw)
    return client.models.generate_content(model=GEMINI, contents="Hello")


def chat(client: openai.OpenAI, headers: dict[str, str]) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=headers)


def message(client: anthropic.Anthropic, headers: dict[str, str]) -> Any:
    # 256: above the longest synthetic reply (at most ~100 tokens), so an answer always ends its turn.
    return client.messages.create(model=CLAUDE, max_tokens=256, messages=USER, extra_headers=headers)


def requests_on(url: str, endpoint: str) -> int:
    snap = httpx2.get(url + "/api/metrics").json()
    return snap["endpoints"][endpoint]["requests"]


def scenario(steps: str, retry_after_ms: int = 1) -> dict[str, str]:
    return {
        "x-llmreplay-scenario": steps,
        "x-llmreplay-scenario-key": uuid.uuid4().hex,
        "x-llmreplay-retry-after-ms": str(retry_after_ms),
    }


# ---- HTTP errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", STATUSES)
def test_openai_status_errors(server, status):
    with pytest.raises(OPENAI_ERRORS[status]) as info:
        chat(oai(server.url), {"x-llmreplay-status": str(status)})
    assert info.value.status_code == seen_status(status)
    assert isinstance(info.value.body, dict) and info.value.body.get("message")


@pytest.mark.parametrize("status", STATUSES)
def test_anthropic_status_errors(server, status):
    with pytest.raises(ANTHROPIC_ERRORS[status]) as info:
        message(claude(server.url), {"x-llmreplay-status": str(status)})
    assert type(info.value) is ANTHROPIC_ERRORS[status]
    assert info.value.status_code == status
    assert info.value.body["type"] == "error" and info.value.body["error"]["type"]
    assert info.value.request_id


@pytest.mark.parametrize("status", STATUSES)
def test_gemini_status_errors(server, status):
    expected = genai_errors.ClientError if status < 500 else genai_errors.ServerError
    with pytest.raises(expected) as info:
        generate(server.url, {"x-llmreplay-status": str(status)})
    assert info.value.code == seen_status(status)
    assert info.value.status and info.value.message


# ---- network faults ------------------------------------------------------------------------


def test_timeout_with_duration_answers_504_after_it(server):
    fault = {"x-llmreplay-fault": "timeout:300"}
    start = time.perf_counter()
    with pytest.raises(openai.InternalServerError) as info:
        chat(oai(server.url), fault)
    assert info.value.status_code == 504 and time.perf_counter() - start >= 0.28
    start = time.perf_counter()
    with pytest.raises(anthropic.GatewayTimeoutError):
        message(claude(server.url), fault)
    assert time.perf_counter() - start >= 0.28
    start = time.perf_counter()
    with pytest.raises(genai_errors.ServerError) as gerr:
        generate(server.url, fault)
    assert gerr.value.code == 504 and time.perf_counter() - start >= 0.28


def test_timeout_without_duration_hangs_until_the_client_gives_up(server):
    # Each call ends by the client's 0.5 s timeout (a lower bound); the upper bound only guards against a hang,
    # 20 times the timeout, so that a busy machine cannot break it.
    fault = {"x-llmreplay-fault": "timeout"}
    start = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        chat(oai(server.url, timeout=0.5), fault)
    assert 0.45 <= time.perf_counter() - start < 10
    start = time.perf_counter()
    with pytest.raises(anthropic.APITimeoutError):
        message(claude(server.url, timeout=0.5), fault)
    assert 0.45 <= time.perf_counter() - start < 10
    start = time.perf_counter()
    with pytest.raises(httpx2.ReadTimeout):  # google-genai lets httpx2's timeout through
        generate(server.url, fault, timeout=500)  # HttpOptions.timeout is in ms
    assert 0.45 <= time.perf_counter() - start < 10


@pytest.mark.parametrize(
    ("fault", "cause"), [("reset", httpx2.ReadError), ("empty", httpx2.RemoteProtocolError)], ids=["reset", "empty"]
)
def test_connection_faults(server, fault, cause):
    headers = {"x-llmreplay-fault": fault}
    with pytest.raises(openai.APIConnectionError) as oerr:
        chat(oai(server.url), headers)
    assert not isinstance(oerr.value, openai.APITimeoutError) and isinstance(oerr.value.__cause__, cause)
    with pytest.raises(anthropic.APIConnectionError) as aerr:
        message(claude(server.url), headers)
    assert not isinstance(aerr.value, anthropic.APITimeoutError) and isinstance(aerr.value.__cause__, cause)
    with pytest.raises(httpx2.TransportError):
        generate(server.url, headers)


def test_slow_headers_delays_then_answers(server):
    headers = {"x-llmreplay-fault": "slow-headers:300"}
    start = time.perf_counter()
    assert chat(oai(server.url), headers).choices[0].message.content
    assert time.perf_counter() - start >= 0.28
    start = time.perf_counter()
    assert message(claude(server.url), headers).content[0].text
    assert time.perf_counter() - start >= 0.28
    start = time.perf_counter()
    assert generate(server.url, headers).text
    assert time.perf_counter() - start >= 0.28


# ---- scenarios against the SDKs' retries ---------------------------------------------------


def test_openai_retries_through_429s(make_server):
    srv = make_server()
    r = chat(oai(srv.url, max_retries=2), scenario("429,429,ok"))
    assert r.choices[0].message.content
    assert requests_on(srv.url, "chat-completions") == 3


def test_openai_without_retries_sees_429_with_retry_headers(make_server):
    srv = make_server()
    with pytest.raises(openai.RateLimitError) as info:
        chat(oai(srv.url), scenario("429,429,ok", retry_after_ms=1500))
    headers = info.value.response.headers
    assert headers["retry-after-ms"] == "1500" and headers["retry-after"] == "2"
    assert requests_on(srv.url, "chat-completions") == 1


def test_anthropic_retries_through_overload(make_server):
    srv = make_server()
    r = message(claude(srv.url, max_retries=2), scenario("529,529,ok"))
    assert r.content[0].text and r.stop_reason == "end_turn"
    assert requests_on(srv.url, "messages") == 3


def test_anthropic_without_retries_sees_overloaded(make_server):
    srv = make_server()
    with pytest.raises(anthropic.OverloadedError) as info:
        message(claude(srv.url), scenario("529,529,ok", retry_after_ms=2000))
    assert info.value.status_code == 529 and info.value.body["error"]["type"] == "overloaded_error"
    assert info.value.response.headers["retry-after"] == "2"
    assert requests_on(srv.url, "messages") == 1


def test_gemini_retries_through_429_and_503(make_server):
    srv = make_server()
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05)
    assert generate(srv.url, scenario("429,503,ok"), retry_options=retry).text
    assert requests_on(srv.url, "gemini") == 3


def test_gemini_without_retries_sees_resource_exhausted(make_server):
    srv = make_server()
    with pytest.raises(genai_errors.ClientError) as info:
        generate(srv.url, scenario("429,503,ok", retry_after_ms=3000))
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    details = info.value.details["error"]["details"]
    retry_info = [d for d in details if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
    assert retry_info and retry_info[0]["retryDelay"] == "3s"
    assert requests_on(srv.url, "gemini") == 1


def test_scenario_keys_are_independent(server):
    client = oai(server.url)
    first, second = scenario("429,ok"), scenario("429,ok")
    second["x-llmreplay-scenario"] = first["x-llmreplay-scenario"]
    with pytest.raises(openai.RateLimitError):
        chat(client, first)
    with pytest.raises(openai.RateLimitError):
        chat(client, second)
    assert chat(client, first).choices[0].message.content
    assert chat(client, first).choices[0].message.content
