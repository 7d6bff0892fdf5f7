"""Recording under faults: kill -9 mid-recording, a full disk, an upstream that dies mid-stream."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx2
import pytest

from llmreplay.cassettes import store
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.serverproc import Server, free_port, spawn

STREAM = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "tell me a story"}]}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


_LLMREPLAY = (sys.executable, "-m", "llmreplay")


def _recorder(upstream: str, folder: Path) -> Server:
    """``python -m llmreplay record`` in a subprocess, returned once listening."""
    port = free_port()
    env = {**os.environ}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    argv = [*_LLMREPLAY, "record", "--quiet", "--upstream", upstream, "--cassettes", str(folder), "--port", str(port)]
    return spawn(argv, env, port)


async def _stream(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], started: asyncio.Event | None
) -> bytes:
    async with session.post(url + "/v1/chat/completions", json=STREAM, headers=headers) as r:
        assert r.status == 200
        got = b""
        async for chunk in r.content.iter_any():
            got += chunk
            if started is not None:
                started.set()
        return got


def test_kill_9_during_50_streams_keeps_every_completed_exchange(
    make_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    upstream = make_server()
    rec = _recorder(upstream.url, tmp_path)
    url = f"http://127.0.0.1:{rec.port}"
    done_first = 20

    async def run() -> list[bytes]:
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            # 20 streams that finish, each with a marker so its recording can be found.
            completed = await asyncio.gather(
                *(_stream(session, url, {"x-llmreplay-seed": f"done-{i}"}, None) for i in range(done_first))
            )
            # 30 slow ones (a chunk every 200 ms), cut by kill -9 once every one has its first bytes.
            events = [asyncio.Event() for _ in range(50 - done_first)]
            slow = [
                asyncio.ensure_future(
                    _stream(session, url, {"x-llmreplay-gap-ms": "200", "x-llmreplay-seed": f"cut-{i}"}, ev)
                )
                for i, ev in enumerate(events)
            ]
            await asyncio.wait_for(asyncio.gather(*(ev.wait() for ev in events)), 30)
            rec.proc.send_signal(signal.SIGKILL)
            results = await asyncio.gather(*slow, return_exceptions=True)
            # The slow streams must not have finished: they were in flight.
            assert all(isinstance(r, BaseException) for r in results), [type(r) for r in results]
            return list(completed)

    try:
        completed = asyncio.run(run())
    finally:
        if rec.proc.poll() is None:
            rec.proc.kill()
        rec.proc.wait(10)
    assert rec.proc.returncode == -signal.SIGKILL
    cassette = store.load(store.cassette_path(tmp_path, "recorded"))
    recorded = [it.response.raw for it in cassette.interactions]
    assert len(cassette.interactions) >= done_first
    for body in completed:
        assert body.endswith(b"data: [DONE]\n\n")
        assert recorded.count(body) >= 1, "a completed stream is missing from the cassette or differs"
    for it in cassette.interactions:
        assert it.response.error is None, it.response.error
        assert it.response.raw.endswith(b"data: [DONE]\n\n")


def test_disk_full_gives_a_clear_error_and_no_corrupt_cassette(
    make_server: Callable[..., BackgroundServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    upstream = make_server()
    rec = make_server(cassettes={"dir": str(tmp_path), "upstream": upstream.url, "record_mode": "all"})
    real_write = os.write
    calls = {"n": 0}
    full_from = 5  # the header, three interactions, then the disk is full for two recordings, then freed

    def write(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == full_from:
            return real_write(fd, bytes(data)[:10])  # a partial write, as a filling disk gives
        if full_from < calls["n"] <= full_from + 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(store.os, "write", write)
    caplog.set_level(logging.INFO)

    async def run() -> list[tuple[int, bytes]]:
        out = []
        async with aiohttp.ClientSession() as s:
            for _ in range(6):
                async with s.post(rec.url + "/v1/chat/completions", json={**CHAT, "n": 1}) as r:
                    out.append((r.status, await r.read()))
        return out

    answers = asyncio.run(run())
    path = store.cassette_path(tmp_path, "recorded")
    monkeypatch.setattr(store.os, "write", real_write)
    # The clients: every proxied exchange answered, before and after the failure.
    for status, body in answers:
        assert status == 200, body[:300]
        assert "choices" in json.loads(body)
    # The log names the problem.
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "No space left on device" in text or "ENOSPC" in text, text[-2000:]
    # The file loads: four whole exchanges (three before the disk filled, one after it was freed), none of
    # the half-written one (taken back). Recording runs after the answer, so their order may differ.
    cassette = store.load(path)
    assert cassette.damaged_tail == 0
    bodies = [body for _, body in answers]
    assert len(cassette.interactions) == 4
    assert all(it.response.raw in bodies for it in cassette.interactions)


def test_upstream_dying_mid_stream_is_a_disconnect_and_recorded_so(
    make_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    upstream = make_server()
    # The upstream itself drops every stream after its third event (a fault header would be the recorder's own).
    dying = {"failures": {"error_rate": 1.0, "kinds": {"disconnect@3": 1.0}}}
    assert httpx2.patch(upstream.url + "/api/config/global", json=dying, timeout=5).status_code == 200
    cfg = settings(cassettes={"dir": str(tmp_path), "upstream": upstream.url, "record_mode": "all"})
    rec = BackgroundServer(cfg).start()

    async def run() -> BaseException | None:
        async with aiohttp.ClientSession() as s:
            try:
                await _stream(s, rec.url, {}, None)
            except aiohttp.ClientError as exc:
                return exc
        return None

    try:
        failure = asyncio.run(run())
    finally:
        rec.stop()  # the deck closes, waiting for recordings in progress: the recording is on disk
    assert isinstance(failure, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError), failure
    cassette = store.load(store.cassette_path(tmp_path, "recorded"))
    assert [it.response.error for it in cassette.interactions] == ["disconnect"]
    assert cassette.interactions[0].response.events


def test_a_fault_on_a_recorded_request_cuts_the_client_and_the_cassette_keeps_the_whole_answer(
    make_server: Callable[..., BackgroundServer], tmp_path: Path
) -> None:
    """The recorder's shaper cuts the client's stream after three events; the upstream is read to its end."""
    upstream = make_server()
    cfg = settings(cassettes={"dir": str(tmp_path), "upstream": upstream.url, "record_mode": "all"})
    rec = BackgroundServer(cfg).start()

    async def run() -> tuple[bytes, BaseException | None]:
        got = b""
        async with aiohttp.ClientSession() as s:
            try:
                async with s.post(
                    rec.url + "/v1/chat/completions", json=STREAM, headers={"x-llmreplay-fault": "disconnect@3"}
                ) as r:
                    assert r.status == 200
                    async for chunk in r.content.iter_any():
                        got += chunk
            except aiohttp.ClientError as exc:
                return got, exc
        return got, None

    try:
        got, failure = asyncio.run(run())
    finally:
        rec.stop()
    assert isinstance(failure, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError), failure
    assert b"[DONE]" not in got
    (it,) = store.load(store.cassette_path(tmp_path, "recorded")).interactions
    assert it.response.error is None
    assert it.response.raw.startswith(got) and it.response.raw.endswith(b"data: [DONE]\n\n")
    assert all(k != "x-llmreplay-fault" for k, _ in it.request.headers)
