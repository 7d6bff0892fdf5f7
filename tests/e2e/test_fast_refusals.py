"""Refusals come fast: an answer decided before generation is due after the error delay, not the time to first token.

The server's time to first token is 1.5 s (the original's ``STREAM_INITIAL_DELAY_MS=1500``). Each refusal's due
time is read from the answer the writer is handed (its own deadline), not from a stopwatch; the one stopwatch
check, through the SDK, has a bound (1 s against 1.5 s) that no busy machine makes a correct server miss.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest

from llmreplay.model import Answer
from llmreplay.server import BackgroundServer
from tests.schedule_spy import spy_on_answers

from ..conftest import settings

TTFT_MS = 1500
ERROR_DELAY_S = 0.005  # the default
USER = [{"role": "user", "content": "Hello"}]
CHAT = {"model": "gpt-4o", "messages": USER}


@pytest.fixture(scope="module")
def srv() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings(latency={"initial_delay_ms": TTFT_MS})) as s:
        yield s


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch, srv: BackgroundServer) -> Iterator[list[Answer]]:
    """Every answer the writer is handed during the test; the configuration and rules the test changed are put
    back afterwards."""
    yield spy_on_answers(monkeypatch)
    assert httpx2.post(srv.url + "/api/config/reset").status_code == 200
    assert httpx2.delete(srv.url + "/api/rules").status_code == 200


def post(srv: BackgroundServer, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.post(srv.url + "/v1/chat/completions", json=body, headers=headers or {}, timeout=30)


def patch(srv: BackgroundServer, path: str, body: dict[str, Any]) -> None:
    r = httpx2.patch(srv.url + path, json=body)
    assert r.status_code == 200, r.text


def due(answer: Answer) -> float | None:
    """When the answer's first frame is due, as an offset from the request's arrival."""
    return answer.frames[0].at if answer.frames else None


def test_an_injected_503_arrives_well_before_the_time_to_first_token(srv, answers) -> None:
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    start = time.monotonic()
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers={"x-llmreplay-status": "503"})
    elapsed = time.monotonic() - start
    assert info.value.status_code == 503
    assert elapsed < 1.0, f"{elapsed * 1000:.0f} ms, against a time to first token of {TTFT_MS} ms"
    [answer] = answers
    assert answer.status == 503 and due(answer) == ERROR_DELAY_S and answer.headers_at == 0


REFUSALS: dict[str, tuple[str | None, dict[str, Any] | None, dict[str, str], int]] = {
    # name: (admin path, its body, request headers, status)
    "injected status": (None, None, {"x-llmreplay-status": "503"}, 503),
    "injected 429": (None, None, {"x-llmreplay-fault": "429"}, 429),
    "a scenario step": (None, None, {"x-llmreplay-scenario": "500,ok"}, 500),
    "the error rate": ("/api/config/global", {"failures": {"error_rate": 1, "kinds": {"502": 1}}}, {}, 502),
    "a rate limit": (
        "/api/config/endpoints/chat-completions",
        {"rate_limit": {"enabled": True, "strategy": "always"}},
        {},
        429,
    ),
    "a rule's outcome": ("/api/rules", {"rules": [{"name": "down", "reply": {"outcome": "503"}}]}, {}, 503),
    "a switched-off endpoint": ("/api/config/endpoints/chat-completions", {"enabled": False}, {}, 404),
}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("name", list(REFUSALS))
def test_every_refusal_is_due_after_the_error_delay(srv, answers, name: str, stream: bool) -> None:
    path, body, headers, status = REFUSALS[name]
    if path == "/api/rules":
        assert httpx2.put(srv.url + path, json=body).status_code == 200
    elif path is not None:
        assert body is not None
        patch(srv, path, body)
    if "x-llmreplay-scenario" in headers:
        headers = {**headers, "x-llmreplay-scenario-key": uuid.uuid4().hex}  # a sequence of its own
    r = post(srv, {**CHAT, "stream": stream}, headers)
    assert r.status_code == status, r.text
    [answer] = answers
    assert due(answer) == ERROR_DELAY_S


def test_the_error_delay_is_a_setting(srv, answers) -> None:
    patch(srv, "/api/config/endpoints/chat-completions", {"latency": {"error_delay_ms": 250}})
    assert post(srv, CHAT, {"x-llmreplay-status": "500"}).status_code == 500
    assert due(answers[-1]) == 0.25
    patch(srv, "/api/config/global", {"latency": {"error_delay_ms": 0}})
    assert post(srv, CHAT, {"x-llmreplay-status": "400"}).status_code == 400
    assert due(answers[-1]) == 0.25  # the endpoint's own value wins over the global one


def test_slow_headers_and_timeout_still_make_it_slow(srv, answers) -> None:
    assert post(srv, CHAT, {"x-llmreplay-fault": "timeout:300"}).status_code == 504
    assert due(answers[-1]) == 0.3
    patch(srv, "/api/config/global", {"latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}})
    assert post(srv, CHAT, {"x-llmreplay-fault": "slow-headers:300"}).status_code == 200
    assert answers[-1].headers_at == 0.3 and due(answers[-1]) == 0.3


def test_a_generated_answer_still_waits_for_its_first_token(srv, answers) -> None:
    patch(srv, "/api/config/global", {"latency": {"initial_delay_ms": 700}})
    assert post(srv, CHAT).status_code == 200
    assert due(answers[-1]) == pytest.approx(0.7)
