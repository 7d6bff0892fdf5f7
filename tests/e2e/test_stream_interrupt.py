"""The stream interruption rate, as each official SDK's stream iterator sees it: at 1.0 every stream is cut
mid-response (the connection reset after part of it, as ``disconnect@N%`` does), at 0 none is, and plain
answers are never cut."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.shaping.test_faults_stream_sdk import CONNECTION_ERRORS, READERS, TEXT, USER, collect, transport_error

from ..conftest import settings

pytestmark = pytest.mark.sdk


@pytest.fixture(scope="module")
def srv() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings(synthetic={"default_response": TEXT, "tool_call_probability": 0})) as s:
        yield s


@pytest.fixture
def url(srv: BackgroundServer) -> Iterator[str]:
    yield srv.url
    assert httpx2.post(srv.url + "/api/config/reset").status_code == 200


def interrupt(url: str, rate: float) -> None:
    r = httpx2.patch(url + "/api/config/global", json={"failures": {"stream_interrupt_rate": rate}})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("api", READERS)
def test_rate_one_cuts_every_stream(url: str, api: str) -> None:
    interrupt(url, 1.0)
    for _ in range(5):
        pieces, exc = collect(READERS[api], url, {})
        assert isinstance(exc, CONNECTION_ERRORS[api]), repr(exc)
        # Reset by peer before the body's end: its final event never came (the text may all be in: a cut can
        # fall among the bookkeeping events that follow it, as in Responses' long tail).
        assert isinstance(transport_error(exc), httpx2.ReadError)
        assert TEXT.startswith("".join(pieces))


@pytest.mark.parametrize("api", READERS)
def test_rate_zero_never_cuts(url: str, api: str) -> None:
    interrupt(url, 0.0)
    for _ in range(3):
        assert "".join(READERS[api](url, {})) == TEXT


def test_plain_answers_are_not_interrupted(url: str) -> None:
    interrupt(url, 1.0)
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == TEXT


def test_an_interruption_is_journaled_as_its_outcome(url: str) -> None:
    interrupt(url, 1.0)
    body = {"model": "gpt-4o", "messages": USER, "stream": True}
    rid = ""
    with httpx2.stream("POST", url + "/v1/chat/completions", json=body) as r, pytest.raises(httpx2.ReadError):
        rid = r.headers["x-llmreplay-request-id"]
        r.read()
    entry: dict[str, Any] = {}
    for _ in range(200):  # the entry is completed once the server has carried out the cut
        entry = httpx2.get(url + "/api/requests/" + rid).json()
        if entry["done"]:
            break
        time.sleep(0.05)
    assert entry["outcome"].startswith("disconnect@") and entry["outcome"].endswith("%")
    assert entry["source"] == "synthetic"
