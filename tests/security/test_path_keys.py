"""Case 22 of issue 19: a key-shaped part of a request's path (a Gemini model name, a file id) reaches neither
the access log nor the /ws event feed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import aiohttp
import pytest

from llmreplay.server import BackgroundServer

# Built at run time, so that nothing shaped like a real key is kept in the repository.
GOOGLE_KEY = "AI" + "za" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
OPENAI_KEY = "sk" + "-proj-" + "abcdefghijklmnop1234567890"
GEMINI = {"contents": [{"parts": [{"text": "hi"}]}]}


async def _drive(url: str) -> list[str]:
    """Requests with keys in their paths while a /ws client listens; every message it got."""
    got: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url.replace("http", "ws") + "/ws") as ws:
        await ws.receive()  # hello: the client is counted from here
        await session.post(f"{url}/v1beta/models/{GOOGLE_KEY}:generateContent", json=GEMINI)
        await session.get(f"{url}/v1/files/{OPENAI_KEY}/content")
        await session.get(f"{url}/v1/models/{OPENAI_KEY}")
        ends = 0
        while ends < 2:  # the two routed calls; the unknown path has no exchange to tell of
            msg = await ws.receive(timeout=30)
            got.append(msg.data)
            ends += msg.data.count('"request.end"')
    return got


def test_key_in_path_is_redacted_in_log_and_feed(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="llmreplay.access")
    srv = make_server(server={"quiet": False})
    messages = asyncio.run(_drive(srv.url))
    lines = [r for r in caplog.records if r.name == "llmreplay.access"]
    assert len(lines) >= 3
    for record in lines:
        shown = record.getMessage() + json.dumps(getattr(record, "path", ""))
        assert GOOGLE_KEY not in shown and OPENAI_KEY not in shown and GOOGLE_KEY[:20] not in shown
    assert any("[redacted]" in r.getMessage() for r in lines)
    starts = [m for m in messages if "request.start" in m or "request_start" in m]
    assert starts
    for text in messages:
        at = text.find(GOOGLE_KEY[:20])
        assert at < 0, text[max(0, at - 200) : at + 60]
        assert OPENAI_KEY[:20] not in text
