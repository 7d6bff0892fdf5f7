"""A PATCH in the original Mock LLM Server's vocabulary changes what the next request gets, through the
official SDKs; timing is checked on the writer's own deadlines (:mod:`tests.schedule_spy`), not a stopwatch."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable

import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llmreplay import road
from llmreplay.server import BackgroundServer
from llmreplay.shaping.faultkinds.registry import KINDS
from tests.schedule_spy import spy_on_streams, steps
from tests.shaping.test_stream_timing import read_stream, text_of

pytestmark = pytest.mark.sdk

TEXT = "abcdefghij" * 3  # 30 characters: 3 chunks of 10
BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
MakeServer = Callable[..., BackgroundServer]


def start(make_server: MakeServer) -> BackgroundServer:
    return make_server(
        latency={"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )


def patch(srv: BackgroundServer, path: str, body: dict) -> None:
    r = httpx2.patch(srv.url + path, json=body)
    assert r.status_code == 200, r.text


def test_stream_delay_ms_widens_the_next_streams_gaps(make_server: MakeServer, monkeypatch) -> None:
    spy = spy_on_streams(monkeypatch)
    srv = start(make_server)
    patch(srv, "/api/config/global", {"streamDelayMs": 200, "streamInitialDelayMs": 0})
    got = asyncio.run(read_stream(srv.url + "/v1/chat/completions", BODY))
    assert text_of(got.body) == TEXT
    spy.only(srv).check_schedule(steps(0.0, 0.200, 3))


def test_rate_limit_always_makes_the_next_request_a_429(make_server: MakeServer) -> None:
    srv = start(make_server)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    assert client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    patch(srv, "/api/config/global", {"rateLimit": {"enabled": True, "strategy": "always"}})
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


@pytest.mark.skipif("slow_response" not in KINDS, reason="slow_response is not a fault kind yet")
def test_slow_response_is_scheduled_five_to_ten_seconds_late(make_server: MakeServer, monkeypatch) -> None:
    spy = spy_on_streams(monkeypatch)
    srv = start(make_server)
    patch(srv, "/api/config/global", {"errorRate": 1, "errorTypes": ["slow_response"]})
    # The stream is scheduled at once; its deadlines are read, not waited for, and the client then leaves.

    async def scheduled() -> None:
        sending = asyncio.create_task(read_stream(srv.url + "/v1/chat/completions", BODY))
        for _ in range(1000):
            if spy.of(srv) or sending.done():
                break
            await asyncio.sleep(0.01)
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending

    asyncio.run(scheduled())
    stream = spy.only(srv)
    assert 5.0 <= stream.due[0] - stream.t0 <= 10.0, stream.due[0] - stream.t0


def _road_looks_up_finer_keys() -> bool:
    return "config_key" in inspect.getsource(road)


@pytest.mark.skipif(not _road_looks_up_finer_keys(), reason="road.py does not look up route.config_key yet")
def test_a_gemini_id_addresses_only_its_own_calls(make_server: MakeServer) -> None:
    srv = start(make_server)
    patch(srv, "/api/config/endpoints/gemini-stream", {"errorRate": 1, "errorTypes": ["server_error"]})
    client = genai.Client(
        api_key="AIza-test",
        # v1beta named: SDK releases differ in the version they call by default, and the ids tell them apart.
        http_options=types.HttpOptions(
            base_url=srv.url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    assert client.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    with pytest.raises(genai_errors.ServerError):
        list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
    # The same call on v1 is another id, untouched.
    v1 = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=srv.url, api_version="v1"))
    assert list(v1.models.generate_content_stream(model="gemini-2.5-flash", contents="hi"))
