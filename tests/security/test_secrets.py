"""API keys never reach the access log, the metrics, the event stream or the dashboard's feed."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable

import aiohttp
import pytest

from llmreplay.limits import redact_parser_errors
from llmreplay.server import BackgroundServer

# Fake keys in the providers' shapes, split so that no literal in the repository looks like a real key.
OPENAI_KEY = "sk-" + "SECRETopenai0123456789abcdef"
ANTHROPIC_KEY = "sk-" + "ant-SECRETanthropic0123456789"
GEMINI_KEY = "AIza" + "SECRETgemini0123456789abcdefgh"
GOOG_HEADER_KEY = "AIza" + "SECRETheader0123456789abcdefgh"
SECRETS = ("SECRET", OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY, GOOG_HEADER_KEY)

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"parts": [{"text": "hi"}]}]}


def _clean(what: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {what}"


async def _traffic(url: str) -> None:
    """Keyed requests on every provider, some denied by a per-key rate limit, some failing."""
    async with aiohttp.ClientSession() as s:
        for endpoint in ("chat-completions", "messages", "gemini"):
            patch = {"rate_limit": {"enabled": True, "per_key": True, "strategy": "after-n", "after_n": 2}}
            async with s.patch(f"{url}/api/config/endpoints/{endpoint}", json=patch) as r:
                assert r.status == 200, await r.text()
        for i in range(4):
            stream = i % 2 == 1
            async with s.post(
                url + "/v1/chat/completions",
                json={**CHAT, "stream": stream},
                headers={"Authorization": f"Bearer {OPENAI_KEY}"},
            ) as r:
                await r.read()
            async with s.post(url + "/v1/messages", json=MESSAGES, headers={"x-api-key": ANTHROPIC_KEY}) as r:
                await r.read()
            async with s.post(
                f"{url}/v1beta/models/gemini-2.0-flash:generateContent?key={GEMINI_KEY}", json=GEMINI
            ) as r:
                await r.read()
            async with s.post(
                f"{url}/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
                json=GEMINI,
                headers={"x-goog-api-key": GOOG_HEADER_KEY},
            ) as r:
                await r.read()
            # A bad request and an unknown path, with the key in the query too.
            async with s.post(
                f"{url}/v1/chat/completions?api_key={OPENAI_KEY}",
                data=b"{not json",
                headers={"Authorization": f"Bearer {OPENAI_KEY}"},
            ) as r:
                await r.read()
            async with s.get(f"{url}/v1/nowhere?key={GEMINI_KEY}", headers={"x-api-key": ANTHROPIC_KEY}) as r:
                await r.read()


def test_no_secret_in_logs_metrics_or_events(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    srv = make_server(server={"quiet": False})
    caplog.set_level(logging.DEBUG)

    async def run() -> tuple[list[str], dict[str, str]]:
        frames: list[str] = []
        async with aiohttp.ClientSession() as s, s.ws_connect(srv.url + "/ws") as ws:
            await ws.receive(timeout=5)  # hello
            await _traffic(srv.url)
            # The feed sends events every tick and metrics every second: read until a metrics frame.
            while True:
                msg = await ws.receive(timeout=5)
                frames.append(msg.data)
                if '"type": "metrics"' in msg.data or '"type":"metrics"' in msg.data:
                    break
            pages = {}
            for path in (
                "/api/metrics",
                "/api/detailed-metrics",
                "/api/detailed-metrics/export/json",
                "/api/detailed-metrics/export/csv",
                "/api/config",
                "/api/config/endpoints",
                "/metrics",
            ):
                async with s.get(srv.url + path) as r:
                    pages[path] = await r.text()
        return frames, pages

    frames, pages = asyncio.run(run())
    events = "\n".join(frames)
    assert "request.end" in events, events[:500]
    _clean("the /ws event stream", events)
    for path, text in pages.items():
        _clean(path, text)
    assert any(r.name == "llmreplay.access" for r in caplog.records)
    _clean("the logs", "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records))


def test_no_secret_in_the_log_of_an_oversized_header(
    server: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp logs the first 100 bytes of a header it refuses; a long key must not be among them.

    (Its 400 answer quotes them too, but only to the client that sent them.)"""
    redact_parser_errors()
    caplog.set_level(logging.DEBUG)
    key = "sk-SECRET" + "k" * 20000
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Length: {len(json.dumps(CHAT))}\r\n\r\n{json.dumps(CHAT)}".encode()
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert b" 400 " in raw.split(b"\r\n", 1)[0]
    _clean("the logs", "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records))
