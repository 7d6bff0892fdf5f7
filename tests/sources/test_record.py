"""The upstream source and its recording against real upstreams on 127.0.0.1, written by the writer alone (the
road's admission and shaping are left out here: the faults below are the upstream's own)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import msgpack
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.providers.anthropic_messages import CODEC as ANTHROPIC
from llmreplay.road import call_of
from llmreplay.server import BackgroundServer
from llmreplay.shaping.writer import Writer, clock
from llmreplay.sources.upstream import Upstream
from llmreplay.sources.upstreams import UPSTREAMS, resolve_upstream
from tests.conftest import settings
from tests.schedule_spy import spy_on_streams

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20}
# Fake keys in the providers' shapes, split so that no literal in the repository looks like a real key.
SECRET = "sk-" + "llmreplay-SECRET-1234567890abcdef"
ANT_SECRET = "sk-" + "ant-api03-llmreplaySECRETabcdef0123456789"
GOOGLE_SECRET = "AIza" + "SyLLMREPLAYsecret0123456789abcdefgh"


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings()) as s:
        yield s


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[BackgroundServer]:
    with BackgroundServer(settings(latency={"initial_delay_ms": 50, "delay_ms": 40, "jitter_ms": 0})) as s:
        yield s


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


class Records(list[Interaction]):
    """The sink's list, with a way to wait for the next record."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    async def wait(self, n: int = 1) -> None:
        async with asyncio.timeout(5):
            while len(self) < n:
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def recording(base: str, scrub: Scrubber | None = None, **kw: Any) -> AsyncIterator[tuple[str, Records]]:
    records = Records()

    async def sink(it: Interaction) -> None:
        records.append(it)
        records.changed.set()

    codec = kw.pop("codec", None)
    proxy = Upstream(base, sink, scrub or Scrubber(), **kw)
    writer = Writer()

    async def handle(request: web.Request) -> web.StreamResponse:
        t0 = clock()
        call = call_of(request, await request.read(), wire=True)
        return await writer.send(request, await proxy.forward(call, t0, codec, None), t0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    try:
        async with serve(app) as server:
            yield str(server.make_url("")).rstrip("/"), records
    finally:
        await proxy.close()


async def _stream(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[bytes, float, float]:
    """Body, and when (on the writer's clock, as the upstream's own account) the first and last chunks came."""
    async with aiohttp.ClientSession() as s, s.post(url, json=body, headers=headers or {}) as resp:
        assert resp.status == 200
        data = b""
        first = 0.0
        async for chunk in resp.content.iter_any():
            if not data:
                first = clock()
            data += chunk
        return data, first, clock()


def test_resolve_upstream() -> None:
    assert resolve_upstream("openai") == UPSTREAMS["openai"] == "https://api.openai.com"
    assert resolve_upstream("Anthropic") == "https://api.anthropic.com"
    assert resolve_upstream("gemini") == "https://generativelanguage.googleapis.com"
    assert resolve_upstream("http://localhost:8000/v1/") == "http://localhost:8000/v1"
    for bad in ("mistral", "ftp://x", "localhost:8000", ""):
        with pytest.raises(ValueError, match="unknown upstream") as err:
            resolve_upstream(bad)
        assert "\n" not in str(err.value)


async def test_plain_exchange_recorded(upstream: BackgroundServer) -> None:
    async with (
        recording(upstream.url) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/chat/completions?x=1", json=CHAT) as resp,
    ):
        assert resp.status == 200
        got = await resp.read()
        ctype = resp.headers["Content-Type"]
    assert json.loads(got)["object"] == "chat.completion"
    [it] = records
    assert (it.api, it.endpoint) == (None, "other")
    assert it.recorded_at.endswith("Z")
    assert (it.request.method, it.request.path, it.request.query) == ("POST", "/v1/chat/completions", (("x", "1"),))
    assert json.loads(it.request.body) == CHAT
    r = it.response
    assert (r.status, r.body, r.events, r.error) == (200, got, None, None)
    assert dict(r.headers)["content-type"] == ctype
    assert 0 < r.headers_us <= r.end_us


async def test_stream_recorded_event_by_event(upstream: BackgroundServer) -> None:
    async with recording(upstream.url) as (url, records):
        body, _, _ = await _stream(url + "/v1/chat/completions", {**CHAT, "stream": True})
    [it] = records
    r = it.response
    assert r.body is None and r.events is not None and r.error is None
    assert r.raw == body
    assert len(r.events) > 3
    assert all(e.data.endswith(b"\n\n") for e in r.events)
    assert r.events[-1].data == b"data: [DONE]\n\n"
    times = [e.at_us for e in r.events]
    assert times == sorted(times) and r.headers_us <= times[0] <= r.end_us


async def test_gemini_json_array_stream(upstream: BackgroundServer) -> None:
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    req = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    async with (
        recording(upstream.url) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + path, json=req) as resp,
    ):
        assert resp.status == 200
        got = await resp.read()
    [it] = records
    assert it.response.events is not None and it.response.raw == got
    elements = [e.data for e in it.response.events if e.data.strip() not in (b"]", b"")]
    assert len(elements) >= 2
    assert all(json.loads(e.lstrip(b"[,\r\n ")) for e in elements)


async def test_streams_without_buffering(slow_upstream: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Orderings against the upstream's own schedule, not stopwatch figures (which a busy machine skews). The
    # proxy's added time to first byte is figure 4 of benchmarks/ (``python -m benchmarks.proxy``).
    spy = spy_on_streams(monkeypatch)
    req = {**CHAT, "stream": True}
    async with recording(slow_upstream.url) as (url, records):
        body, first, _ = await _stream(url + "/v1/chat/completions", req)
    up = spy.only(slow_upstream)
    events = records[0].response.events
    assert events is not None and len(events) > 4
    assert b"".join(e.data for e in events) == body
    # The recorded times keep the upstream's pacing: the last event is stamped no sooner than the upstream's
    # last write was due (the recording starts before the upstream's exchange does), and not with the first.
    assert events[-1].at_us / 1e6 >= up.due[-1] - up.t0 - 1e-5  # at_us: whole microseconds
    assert events[0].at_us < events[-1].at_us
    # ... and nothing was held back until the end: the client had the first chunk before the upstream had even
    # written its last (a buffering proxy cannot; a streaming one is ahead by the upstream's whole pace).
    assert len(up.sent) >= 3 and first < up.sent[-1]


async def test_headers_pass_at_once_when_the_first_event_is_late(
    upstream: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers that come with a body chunk leave with it; headers that come alone must not wait for one.
    spy = spy_on_streams(monkeypatch)
    req = {**CHAT, "stream": True, "max_tokens": 2}
    async with recording(upstream.url) as (url, records), aiohttp.ClientSession() as s:
        sent_at = clock()
        async with s.post(url + "/v1/chat/completions", json=req, headers={"x-llmreplay-ttft-ms": "400"}) as resp:
            headers_at = clock()
            first = await resp.content.readany()
            first_at = clock()
            await resp.read()
        await records.wait()
    assert resp.status == 200 and first.startswith(b"data: ")
    up = spy.only(upstream)
    # The client had the headers before the upstream wrote its first event (an ordering: a proxy that waited
    # for a body chunk cannot pass it), and the first event no sooner than its 400 ms deadline (a lower bound).
    assert headers_at < up.sent[0]
    assert first_at - sent_at >= up.due[0] - up.t0 >= 0.4 - 1e-6


async def test_no_secret_reaches_the_record(upstream: BackgroundServer) -> None:
    headers = {
        "Authorization": f"Bearer {SECRET}",
        "x-api-key": ANT_SECRET,
        "x-goog-api-key": GOOGLE_SECRET,
        "Cookie": f"session={SECRET}",
        "OpenAI-Organization": "org-llmreplaysecretorg",
    }
    body = {**CHAT, "stream": True, "user": "alice@example.com", "metadata": {"token": SECRET}}
    scrub = Scrubber(ScrubConfig(body_paths=("user",), patterns=(r"org-[A-Za-z0-9]+",)))
    async with recording(upstream.url, scrub) as (url, records):
        await _stream(url + f"/v1/chat/completions?key={GOOGLE_SECRET}", body, headers)
    packed = msgpack.packb(records[0].to_obj(), use_bin_type=True)
    for secret in (SECRET, ANT_SECRET, GOOGLE_SECRET, "SECRET-1234567890abcdef", "alice@example.com", "secretorg"):
        assert secret.encode() not in packed, secret
    recorded = dict(records[0].request.headers)
    assert recorded["authorization"] == "REDACTED" and recorded["x-api-key"] == "REDACTED"


async def test_credentials_forwarded_untouched() -> None:
    seen: list[dict[str, Any]] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(
            {"path": request.raw_path, "headers": dict(request.headers), "body": (await request.read()).decode()}
        )
        return web.json_response({"ok": True}, headers={"Set-Cookie": "sid=abc123", "anthropic-organization-id": "org"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    async with serve(app) as up:
        base = str(up.make_url("/prefix"))
        host = f"127.0.0.1:{up.make_url('').port}"
        async with recording(base) as (url, records), aiohttp.ClientSession() as s:
            headers = {
                "Authorization": f"Bearer {SECRET}",
                "x-api-key": ANT_SECRET,
                "Accept-Encoding": "gzip, br",
                "Content-Type": "application/json",
                "User-Agent": "OpenAI/Python 1.0",
            }
            async with s.post(
                URL(url + f"/v1beta/models/m:generateContent?key={GOOGLE_SECRET}&a=%2F%26", encoded=True),
                data=b'{"x": 1}',
                headers=headers,
            ) as resp:
                assert resp.status == 200
                assert resp.headers["Set-Cookie"] == "sid=abc123"
                await resp.read()
            # Another client through the same proxy gets none of the first one's credentials or cookies
            # (on 127.0.0.1 aiohttp's default jar would ignore the cookie anyway; real hosts need the dummy jar).
            async with aiohttp.ClientSession() as s2, s2.get(url + "/v1/models") as resp:
                await resp.read()
    got, other = seen
    assert "Cookie" not in other["headers"] and "Authorization" not in other["headers"]
    assert got["path"] == f"/prefix/v1beta/models/m:generateContent?key={GOOGLE_SECRET}&a=%2F%26"
    h = {k.lower(): v for k, v in got["headers"].items()}
    assert h["authorization"] == f"Bearer {SECRET}"
    assert h["x-api-key"] == ANT_SECRET
    assert h["accept-encoding"] == "identity"
    assert h["user-agent"] == "OpenAI/Python 1.0"
    assert h["host"] == host
    assert got["body"] == '{"x": 1}'
    rec = records[0]
    assert dict(rec.response.headers)["set-cookie"] == "REDACTED"
    assert dict(rec.response.headers)["anthropic-organization-id"] == "REDACTED"
    assert ("key", "REDACTED") in rec.request.query


async def test_upstream_basic_auth_is_used_but_never_shown(tmp_path: Any) -> None:
    """A gateway's user:password in --upstream reaches the upstream as basic auth; the banner, the dashboard,
    the cassette's header, a 502's message and the record show it as ***."""
    from llmreplay.cassettes import store
    from llmreplay.config import CassetteSettings
    from llmreplay.sources.deck import Deck

    seen: list[str] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    async with serve(app) as up:
        base = f"http://gate:pw-s3cret@127.0.0.1:{up.make_url('').port}"
        async with (
            recording(base) as (url, records),
            aiohttp.ClientSession() as s,
            s.post(url + "/v1/chat/completions", json=CHAT) as resp,
        ):
            assert resp.status == 200
    assert seen == ["Basic " + base64.b64encode(b"gate:pw-s3cret").decode()]
    assert "pw-s3cret" not in repr(records[0])

    down = f"http://gate:pw-s3cret@127.0.0.1:{_closed_port()}"
    async with (
        recording(down) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/chat/completions", json=CHAT) as resp,
    ):
        text = await resp.text()
    assert resp.status == 502 and "pw-s3cret" not in text and "gate:***@" in text
    assert "pw-s3cret" not in repr(records[0])

    deck = Deck(CassetteSettings(dir=str(tmp_path), upstream=down, record_mode="all"))
    assert deck.proxy is not None and deck.proxy.shown == f"http://gate:***@127.0.0.1:{down.rsplit(':', 1)[1]}"
    await deck._recorded(records[0])
    await deck.close()
    [cassette] = tmp_path.iterdir()
    assert b"pw-s3cret" not in cassette.read_bytes()
    assert store.load(cassette).header.upstream == deck.proxy.shown
    with pytest.raises(ValueError) as err:
        resolve_upstream("http://gate:pw-s3cret@h/?x=1")
    assert "pw-s3cret" not in str(err.value)


async def test_upstream_error_status_passed_through(upstream: BackgroundServer) -> None:
    async with (
        recording(upstream.url) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/chat/completions", json=CHAT, headers={"x-llmreplay-status": "500"}) as resp,
    ):
        assert resp.status == 500
        got = await resp.read()
    r = records[0].response
    assert (r.status, r.body, r.error) == (500, got, None)
    assert "error" in json.loads(got)


async def test_upstream_disconnect_mid_stream(upstream: BackgroundServer) -> None:
    req = {**CHAT, "stream": True}
    async with recording(upstream.url) as (url, records), aiohttp.ClientSession() as s:
        got = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async with s.post(
                url + "/v1/chat/completions", json=req, headers={"x-llmreplay-fault": "disconnect@3"}
            ) as r:
                assert r.status == 200
                async for chunk in r.content.iter_any():
                    got += chunk
    r = records[0].response
    assert r.error == "disconnect"
    assert r.events is not None and 1 <= len(r.events) <= 4
    assert r.raw.startswith(got) and got


async def test_upstream_stall_is_a_timeout(upstream: BackgroundServer) -> None:
    req = {**CHAT, "stream": True}
    async with recording(upstream.url, timeout=0.3) as (url, records), aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with s.post(
                url + "/v1/chat/completions", json=req, headers={"x-llmreplay-fault": "stall@2:5000"}
            ) as r:
                await r.read()
    r = records[0].response
    assert r.error == "timeout" and r.events


async def test_upstream_never_answers_is_504(upstream: BackgroundServer) -> None:
    async with (
        recording(upstream.url, timeout=0.3) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/chat/completions", json=CHAT, headers={"x-llmreplay-fault": "timeout"}) as resp,
    ):
        assert resp.status == 504
        doc = await resp.json()
    assert "timed out" in doc["error"]["message"]
    r = records[0].response
    assert (r.status, r.error) == (504, "timeout")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connect_failure_is_502() -> None:
    async with (
        recording(f"http://127.0.0.1:{_closed_port()}") as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/chat/completions", json=CHAT) as resp,
    ):
        assert resp.status == 502
        doc = await resp.json()
    assert "unreachable" in doc["error"]["message"]
    [it] = records
    assert (it.response.status, it.response.error) == (502, "connect")
    assert json.loads(it.request.body) == CHAT


async def test_connect_failure_in_the_routes_envelope() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    async with (
        recording(base, codec=ANTHROPIC) as (url, records),
        aiohttp.ClientSession() as s,
        s.post(url + "/v1/messages", json={}) as resp,
    ):
        assert resp.status == 502
        doc = await resp.json()
    assert doc["type"] == "error" and doc["error"]["message"]
    assert records[0].response.error == "connect"


async def test_client_going_away_is_recorded(slow_upstream: BackgroundServer) -> None:
    async with recording(slow_upstream.url) as (url, records), aiohttp.ClientSession() as s:
        resp = await s.post(url + "/v1/chat/completions", json={**CHAT, "stream": True})
        first = await resp.content.readany()
        resp.close()  # drops the connection mid-stream
        await records.wait()
    r = records[0].response
    assert r.error == "client-disconnect"
    assert r.raw.startswith(first) and r.events
