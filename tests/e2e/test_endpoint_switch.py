"""Endpoints switched off and on: a switched-off endpoint refuses at once with a 404 in its provider's envelope,
which every official SDK raises as its not-found error without retrying, and which names the switch."""

from __future__ import annotations

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

USER = [{"role": "user", "content": "Hello"}]
CLAUDE, GEMINI = "claude-sonnet-4-6", "gemini-2.5-flash"
SAYS = "switched off"


@pytest.fixture(scope="module")
def srv() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings()) as s:
        yield s


@pytest.fixture
def url(srv: BackgroundServer) -> Iterator[str]:
    yield srv.url
    assert httpx2.post(srv.url + "/api/config/reset").status_code == 200


def switch(url: str, endpoint: str | None, on: bool) -> None:
    path = "/api/config/global" if endpoint is None else f"/api/config/endpoints/{endpoint}"
    r = httpx2.patch(url + path, json={"enabled": on})
    assert r.status_code == 200, r.text


def oai(url: str) -> openai.OpenAI:
    # Retries left at the SDK's default: a 404 is not retried, so the refusal is the first and only call.
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test")


def claude(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test")


def chat(url: str, stream: bool) -> Any:
    out = oai(url).chat.completions.create(model="gpt-4o", messages=USER, stream=stream)  # type: ignore[call-overload]
    return list(out) if stream else out


def responses(url: str, stream: bool) -> Any:
    out = oai(url).responses.create(model="gpt-4o", input="Hello", stream=stream)  # type: ignore[call-overload]
    return list(out) if stream else out


def messages(url: str, stream: bool) -> Any:
    out = claude(url).messages.create(model=CLAUDE, max_tokens=64, messages=USER, stream=stream)  # type: ignore[call-overload]
    return list(out) if stream else out


def gemini(url: str, stream: bool) -> Any:
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url))
    if stream:
        return list(client.models.generate_content_stream(model=GEMINI, contents="Hello"))
    return client.models.generate_content(model=GEMINI, contents="Hello")


CALLS: dict[str, tuple[str, Callable[[str, bool], Any], type[Exception]]] = {
    "openai-chat": ("chat-completions", chat, openai.NotFoundError),
    "openai-responses": ("responses", responses, openai.NotFoundError),
    "anthropic-messages": ("messages", messages, anthropic.NotFoundError),
    "gemini": ("gemini", gemini, genai_errors.ClientError),
}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("api", list(CALLS))
def test_a_switched_off_endpoint_refuses_with_404_through_its_sdk(url: str, api: str, stream: bool) -> None:
    endpoint, call, error = CALLS[api]
    switch(url, endpoint, False)
    with pytest.raises(error) as info:
        call(url, stream)
    exc: Any = info.value
    assert (exc.code if isinstance(exc, genai_errors.APIError) else exc.status_code) == 404
    assert SAYS in str(exc) and endpoint in str(exc)
    switch(url, endpoint, True)
    assert call(url, stream)


def test_global_off_switches_every_endpoint_off_but_one_switched_on(url: str) -> None:
    switch(url, None, False)
    switch(url, "messages", True)
    assert messages(url, False).content
    for api in ("openai-chat", "openai-responses", "gemini"):
        _, call, error = CALLS[api]
        with pytest.raises(error):
            call(url, False)


def test_the_refusal_is_told_counted_and_uses_up_no_quota(url: str) -> None:
    limit = {"rate_limit": {"enabled": True, "strategy": "after-n", "after_n": 1}}
    assert httpx2.patch(url + "/api/config/endpoints/chat-completions", json=limit).status_code == 200
    before = httpx2.get(url + "/api/metrics").json()["endpoints"].get("chat-completions", {})
    switch(url, "chat-completions", False)
    body = {"model": "gpt-4o", "messages": USER}
    for _ in range(3):
        r = httpx2.post(url + "/v1/chat/completions", json=body, headers={"x-llmreplay-status": "500"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "endpoint_disabled"
        assert r.headers["x-llmreplay-source"] == "disabled"
    entry = httpx2.get(url + "/api/requests/" + r.headers["x-llmreplay-request-id"]).json()
    assert (entry["source"], entry["status"], entry["outcome"]) == ("disabled", 404, None)
    after = httpx2.get(url + "/api/metrics").json()["endpoints"]["chat-completions"]
    assert after["status_codes"]["404"] - before.get("status_codes", {}).get("404", 0) == 3
    # Switched back on, the quota of one is still whole: none of the refused requests took from it.
    switch(url, "chat-completions", True)
    assert httpx2.post(url + "/v1/chat/completions", json=body).status_code == 200
    assert httpx2.post(url + "/v1/chat/completions", json=body).status_code == 429
