"""The recorder's memory is bounded by ``cassettes.max_recording_mb`` (issue 19, case 11): an answer over the cap
is relayed whole, as it arrives, and not recorded, with one warning line; ``cassettes verify`` reads a cassette one
interaction at a time.

Before: a 500 MiB SSE answer took the recorder's peak RSS from 59 MiB to 5.5 GiB, held ``/health`` for 60 s while
it was cut and scrubbed on the loop, and kept 656 MiB after.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import openai
import pytest
from aiohttp import web
from click.testing import CliRunner

from llmreplay.cassettes import store
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cli_cassettes import cassettes
from llmreplay.server import BackgroundServer
from llmreplay.sources.capture import Capture
from tests.serverproc import Server, free_port, spawn, stop

CAP_MB = 8
BIG_MB = 160
"""Twenty times the cap: the old recorder held it (and copies of it) whole."""
MIB = 1 << 20


def _chunk(content: str, finish: str | None = None) -> bytes:
    delta = {"content": content} if finish is None else {}
    doc = {
        "id": "chatcmpl-size",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n"


_EVENT = _chunk("lorem ipsu")
_BLOCK = _EVENT * (MIB // len(_EVENT))
_END = _chunk("", "stop") + b"data: [DONE]\n\n"
SMALL = b"".join(_chunk(w) for w in ("Hello", " from", " a", " small", " answer")) + _END


class Upstream:
    """A tiny aiohttp upstream on its own thread: model ``big`` streams BIG_MB of chat chunks as fast as the
    proxy reads them (built on the fly from one 1 MiB block); any other model gets a five-word stream."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        if body.get("model") == "big":
            for _ in range(BIG_MB * MIB // len(_BLOCK)):
                await resp.write(_BLOCK)
            await resp.write(_END)
        else:
            await resp.write(SMALL)
        await resp.write_eof()
        return resp

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._stopped = asyncio.Event()
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()

    def __enter__(self) -> Upstream:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stopped is not None
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)


def _recorder(upstream: str, folder: Path) -> Server:
    port = free_port()
    env = {**os.environ, "LLMREPLAY_MAX_RECORDING_MB": str(CAP_MB)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    argv = [sys.executable, "-m", "llmreplay", "record", "--quiet", "--upstream", upstream]
    return spawn([*argv, "--cassettes", str(folder), "--port", str(port)], env, port)


def _mib(pid: int, field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (the most ever resident) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


async def _stream(
    url: str, model: str, waits: list[float] | None = None, headers: dict[str, str] | None = None
) -> bytes:
    """The raw body of a streamed chat call, read as it arrives; with ``waits``, ``/health`` is asked every 20 ms
    meanwhile (and until the answer's record is settled, ``settle`` s after it) and each answer's wait noted."""
    body = {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as s:

        async def poll(into: list[float]) -> None:
            while True:
                t = time.monotonic()
                async with s.get(url + "/health") as r:
                    await r.read()
                into.append(time.monotonic() - t)
                await asyncio.sleep(0.02)

        poller = asyncio.ensure_future(poll(waits)) if waits is not None else None
        try:
            async with s.post(url + "/v1/chat/completions", json=body, headers=headers or {}) as r:
                assert r.status == 200
                parts = [chunk async for chunk in r.content.iter_any()]
            if poller is not None:
                await asyncio.sleep(1)  # the record is made (or skipped) once the answer is over: watch that too
            return b"".join(parts)
        finally:
            if poller is not None:
                poller.cancel()


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    with Upstream() as up:
        rec = _recorder(up.url, tmp_path)
        try:
            yield rec, tmp_path / "recorded.msgpack"
        finally:
            stop(rec)


def test_an_answer_over_the_cap_is_relayed_whole_and_not_held(
    recorder: tuple[Server, Path], make_server: Callable[..., BackgroundServer]
) -> None:
    rec, cassette = recorder
    url = f"http://127.0.0.1:{rec.port}"
    pid = rec.proc.pid
    base = _mib(pid, "VmRSS")
    waits: list[float] = []
    # Named for a cassette of its own, as a test run's requests may be: the line names that one.
    got = asyncio.run(_stream(url, "big", waits, {"x-llmreplay-cassette": "huge"}))
    # The client has every byte, in order, as the upstream sent it.
    assert len(got) == BIG_MB * MIB // len(_BLOCK) * len(_BLOCK) + len(_END)
    assert got.endswith(_END) and got.count(_EVENT) == BIG_MB * MIB // len(_BLOCK) * (MIB // len(_EVENT))
    line = rec.wait_for(r"not recording POST /v1/chat/completions")
    assert (
        f"into {cassette.with_name('huge.msgpack')}" in line
        and f"over cassettes.max_recording_mb ({CAP_MB} MiB)" in line
    )
    assert f"{len(got) / MIB:.1f} MiB relayed, none of it recorded" in line
    # Bounded by the cap and the relay's buffers, not the answer: the old recorder held it ~3-30 times over.
    peak = _mib(pid, "VmHWM")
    assert peak - base < 96, (base, peak)
    # /health kept answering (~1 s at worst on a two-core machine at load 8, the relay and other work sharing it):
    # the old recorder cut and scrubbed the answer on the loop, 36 s for 150 MiB. Bound generous for busy machines.
    assert len(waits) > 10 and max(waits) < 20, max(waits)

    # An answer under the cap is recorded byte for byte as the client got it, and replays through the SDK.
    small = asyncio.run(_stream(url, "gpt-4o-mini"))
    assert small == SMALL
    deadline = time.monotonic() + 30
    while not (cassette.exists() and store.load(cassette).interactions):
        assert time.monotonic() < deadline, "the small answer was never recorded"
        time.sleep(0.05)
    loaded = store.load(cassette)
    assert len(loaded.interactions) == 1 and not loaded.skipped and not loaded.damaged_tail
    assert loaded.interactions[0].response.raw == SMALL
    replay = make_server(cassettes={"dir": str(cassette.parent), "record_mode": "none"})
    client = openai.OpenAI(base_url=replay.url + "/v1", api_key="test-key")
    stream = client.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "hi"}]
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello from a small answer"
    result = CliRunner().invoke(cassettes, ["verify", str(cassette)])
    assert result.exit_code == 0 and "ok: 1 interactions" in result.output, result.output


def test_the_capture_lets_go_once_over_its_limit() -> None:
    capture = Capture(RecordedRequest("POST", "/v1/chat/completions"), "openai-chat", "chat", limit=10)
    capture.answered(200, (("content-type", "text/event-stream"),), "text/event-stream")
    capture.add(b"data: 1\n\n", 1.0)
    assert not capture.dropped and capture.chunks == [b"data: 1\n\n"]
    capture.add(b"data: 2\n\n", 2.0)
    capture.add(b"data: 3\n\n", 3.0)
    assert capture.dropped and capture.chunks == [] and capture.arrivals == [] and capture.size == 27


def _stream_of(i: int, events: int) -> Interaction:
    req = RecordedRequest("POST", "/v1/chat/completions", body=json.dumps({"model": "m", "n": i}).encode())
    body = [RecordedEvent(k, _EVENT) for k in range(events)] + [RecordedEvent(events, _END)]
    resp = RecordedResponse(200, (("content-type", "text/event-stream"),), None, tuple(body), 0, events)
    return Interaction(req, resp, "openai-chat", "chat-completions")


def test_verify_holds_one_interaction_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "many.msgpack"
    per = (256 << 10) // len(_EVENT)  # about 256 KiB of events each
    store.save(path, store.new_header("u"), (_stream_of(i, per) for i in range(24)))
    assert path.stat().st_size > 6 * MIB
    tracemalloc.start()
    try:
        result = CliRunner().invoke(cassettes, ["verify", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0 and "ok: 24 interactions" in result.output, result.output
    # Checking one such stream takes ~3.5 MiB (its events parsed by the codec and encoded again). The old verify
    # read the whole file and kept every stream it had decoded: ~20 MiB here, growing with the file.
    assert peak < 10 * MIB, peak / MIB
