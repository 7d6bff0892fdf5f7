"""A WebSocket client written for the original Mock LLM Server's ``/ws``: ``{"type", "data"}`` messages, its
event types and endpoint ids, beside the dashboard's own messages (which it ignores, as they ignore its)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp

from llmreplay.server import BackgroundServer

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


async def _collect(srv: BackgroundServer, query: str = "", configs: int = 2) -> list[dict[str, Any]]:
    """Every message until ``configs`` original config messages and a metrics message came (or 10 s)."""
    got: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as s, s.ws_connect(srv.url.replace("http", "ws") + "/ws" + query) as ws:

        async def read() -> None:
            async for msg in ws:
                got.append(json.loads(msg.data))

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.2)
        async with s.post(srv.url + "/v1/chat/completions", json=CHAT) as r:
            assert r.status == 200
        url = srv.url + "/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        async with s.post(url, json=GEMINI, headers={"x-goog-api-key": "k"}) as r:
            assert r.status == 200
            await r.read()
        async with s.patch(srv.url + "/api/config/global", json={"streamDelayMs": 1}) as r:
            assert r.status == 200
        for _ in range(100):
            if sum(m.get("type") == "config" for m in got) >= configs and any(m.get("type") == "metrics" for m in got):
                break
            await asyncio.sleep(0.1)
        reader.cancel()
    return got


def test_original_messages_beside_the_dashboards(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server()
    got = asyncio.run(_collect(srv))
    assert got[0]["type"] == "hello"  # the dashboard's own, first
    ours = [m for m in got if "data" in m]
    assert {m["type"] for m in ours} >= {"config", "metrics", "event"}
    assert all(set(m) == {"type", "data"} for m in ours if m["type"] != "metrics")
    configs = [m["data"] for m in ours if m["type"] == "config"]
    assert configs[0]["global"]["streamDelayMs"] == 0 and configs[-1]["global"]["streamDelayMs"] == 1
    events = [m["data"] for m in ours if m["type"] == "event"]
    chat = [e for e in events if e["endpoint"] == "openai-chat"]
    assert [e["type"] for e in chat] == ["request_start", "request_end"]
    end = chat[1]
    assert end["streaming"] is False and end["latencyMs"] >= 0 and end["requestId"] and end["timestamp"] > 0
    gemini = [e["type"] for e in events if e["endpoint"] == "gemini-stream-v1"]
    assert gemini == ["request_start", "request_end"]
    metrics = next(m for m in got if m["type"] == "metrics")
    assert "snapshot" in metrics and metrics["data"]["endpoints"]["openai-chat"]["totalRequests"] >= 1


def test_the_dashboard_may_ask_for_its_own_messages_alone(make_server: Callable[..., BackgroundServer]) -> None:
    got = asyncio.run(_collect(make_server(), "?feed=dashboard", configs=0))
    assert {m["type"] for m in got} <= {"hello", "events", "metrics"}
    assert any(m["type"] == "events" for m in got)
