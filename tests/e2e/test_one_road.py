"""Every answer takes the same road: admission before any source, and a forwarded or recorded answer is limited,
faulted, counted and told like any other."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx2
import pytest

from llmreplay.cassettes.store import load
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.e2e.common import ZERO, recorder, replayer, upstream_server

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
HEARD_WITHIN_S = 20.0
"""A guard against a hang, not a figure."""


@pytest.fixture(scope="module")
def up() -> Iterator[BackgroundServer]:
    with upstream_server(ZERO) as s:
        yield s


def post(url: str, headers: dict[str, str] | None = None, body: dict[str, Any] | None = None) -> httpx2.Response:
    return httpx2.post(url + "/v1/chat/completions", json=body or CHAT, headers=headers or {}, timeout=10)


def upstream_requests(up: BackgroundServer) -> int:
    return int(httpx2.get(up.url + "/api/metrics", timeout=5).json()["totals"]["requests"])


def test_an_injected_429_uses_up_no_recording(tmp_path: Path, up: BackgroundServer) -> None:
    with recorder(tmp_path, up.url) as rec:
        recorded = [post(rec.url).json()["id"] for _ in range(2)]
    assert len(load(tmp_path / "recorded.msgpack").interactions) == 2
    with replayer(tmp_path, repeat="none") as rp:
        refused = post(rp.url, {"x-llmreplay-fault": "429"})
        first, second = post(rp.url), post(rp.url)
    assert refused.status_code == 429
    # Before, the refused call took the first recording: 429, 200, then 400 "recordings are used up".
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert [first.json()["id"], second.json()["id"]] == recorded


def test_a_scenario_step_is_not_lost_to_a_forwarded_miss(tmp_path: Path, up: BackgroundServer) -> None:
    scenario = {"x-llmreplay-scenario": "429,ok", "x-llmreplay-scenario-key": "forwarded-miss"}
    cassettes = {"dir": str(tmp_path), "upstream": up.url, "record_mode": "new_episodes"}
    with BackgroundServer(settings(cassettes=cassettes)) as rec:
        before = upstream_requests(up)
        statuses = [post(rec.url, scenario).status_code for _ in range(2)]
        forwarded = upstream_requests(up) - before
        again = post(rec.url)
        assert upstream_requests(up) - before == forwarded  # the repeat is replayed
    # The first step is the 429 and nothing goes upstream for it; the second is forwarded and recorded.
    assert statuses == [429, 200]
    assert forwarded == 1
    assert again.status_code == 200
    (it,) = load(tmp_path / "recorded.msgpack").interactions
    assert it.response.status == 200
    assert all(not k.startswith("x-llmreplay-scenario") for k, _ in it.request.headers)


def test_a_recorded_request_is_counted_and_told(tmp_path: Path, up: BackgroundServer) -> None:
    with recorder(tmp_path, up.url) as rec:
        ws_url = rec.url.replace("http", "ws") + "/ws"

        async def run() -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = []
            async with aiohttp.ClientSession() as s, s.ws_connect(ws_url) as ws:
                hello = json.loads((await ws.receive(timeout=HEARD_WITHIN_S)).data)
                assert hello["type"] == "hello"
                stream = {**CHAT, "stream": True}
                async with s.post(rec.url + "/v1/chat/completions", json=stream) as r:
                    assert r.status == 200
                    await r.read()
                deadline = time.monotonic() + HEARD_WITHIN_S
                while time.monotonic() < deadline and not any(e["kind"] == "request.end" for e in events):
                    msg = json.loads((await ws.receive(timeout=deadline - time.monotonic())).data)
                    if msg["type"] == "events":
                        events.extend(msg["events"])
            return events

        events = asyncio.run(run())
        metrics = httpx2.get(rec.url + "/api/metrics", timeout=5).json()
        prom = httpx2.get(rec.url + "/metrics", timeout=5).text
    kinds = [e["kind"] for e in events]
    assert "request.start" in kinds and "request.end" in kinds
    end = next(e for e in events if e["kind"] == "request.end")
    assert end["endpoint"] == "chat-completions" and end["status"] == 200 and end["stream"] is True
    assert end["chunks"] >= 1 and end["ttfb_ms"] is not None
    assert metrics["totals"]["requests"] == 1
    assert metrics["endpoints"]["chat-completions"]["requests"] == 1
    assert 'llmreplay_requests_total{endpoint="chat-completions",status="200"} 1.0' in prom


def test_a_rate_limit_applies_to_forwarded_requests(tmp_path: Path, up: BackgroundServer) -> None:
    limit = {"enabled": True, "strategy": "fixed-window", "requests": 1, "window_ms": 600_000}
    cfg = settings(rate_limit=limit, cassettes={"dir": str(tmp_path), "upstream": up.url, "record_mode": "all"})
    with BackgroundServer(cfg) as rec:
        before = upstream_requests(up)
        first, second = post(rec.url), post(rec.url)
        sent = upstream_requests(up) - before
        metrics = httpx2.get(rec.url + "/api/metrics", timeout=5).json()
    assert (first.status_code, second.status_code) == (200, 429)
    assert first.headers["x-ratelimit-limit-requests"] == "1"
    assert second.json()["error"]["code"] == "rate_limit_exceeded"
    assert sent == 1  # the refused call never went upstream
    assert metrics["totals"]["rate_limited"] == 1
    assert len(load(tmp_path / "recorded.msgpack").interactions) == 1
