"""A recorder killed mid-stream keeps every finished exchange; concurrent recording loses none."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from llmreplay.cassettes.store import load
from llmreplay.cassettes.summary import problems
from llmreplay.server import BackgroundServer

from .common import RAW_CASES, Got, Raw, fetch, recorder, upstream_server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(proc: subprocess.Popen[bytes], url: str, within_s: float = 15) -> None:
    """Until the subprocess answers /health (it has to import and bind first)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "recorder exited"
        try:
            if httpx2.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            time.sleep(0.02)  # a port not yet bound refuses at once; do not spin
    raise AssertionError("the recorder did not start listening")


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    with upstream_server({"initial_delay_ms": 0, "delay_ms": 40, "jitter_ms": 0}) as s:
        yield s


def numbered(raw: Raw, i: int) -> Raw:
    """The same call with a prompt of its own, so every request is a distinct recording."""
    body = json.loads(json.dumps(raw.body))
    if "messages" in body:
        body["messages"][0]["content"] += f" #{i}"
    elif "input" in body:
        body["input"] += f" #{i}"
    else:
        body["contents"][0]["parts"][0]["text"] += f" #{i}"
    return dataclasses.replace(raw, body=body)


def test_sigkill_mid_stream_keeps_the_finished_exchanges(tmp_path: Path, upstream: BackgroundServer) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "llmreplay", "record", "--upstream", upstream.url]
    cmd += ["--cassettes", str(tmp_path), "--port", str(port), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(proc, url)
        plain = [r for r in RAW_CASES if not r.stream]
        done = [fetch(url, numbered(plain[i % len(plain)], i)) for i in range(10)]
        assert [g.status for g in done] == [200] * 10
        stream = numbered(next(r for r in RAW_CASES if r.stream and r.api == "openai-chat"), 99)
        with httpx2.Client(timeout=10) as c, c.stream("POST", url + stream.path, json=stream.body) as resp:
            chunks = resp.iter_raw()
            first = next(chunks)
            assert first.startswith(b"data: ")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            with pytest.raises(httpx2.HTTPError):
                for _ in chunks:
                    pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
    cassette = load(tmp_path / "recorded.msgpack")
    assert len(cassette.interactions) == 10
    for i, (it, got) in enumerate(zip(cassette.interactions, done, strict=True)):
        assert it.response.status == 200 and it.response.body == got.body
        assert f"#{i}".encode() in it.request.body
        assert problems(i, it) == []


def test_concurrent_recording_keeps_every_exchange(tmp_path: Path, upstream: BackgroundServer) -> None:
    calls = [numbered(RAW_CASES[i % len(RAW_CASES)], i) for i in range(30)]
    with recorder(tmp_path, upstream.url) as rec, ThreadPoolExecutor(30) as pool:
        got: list[Got] = list(pool.map(lambda r: fetch(rec.url, r), calls))
    assert [g.status for g in got] == [200] * 30
    cassette = load(tmp_path / "recorded.msgpack")
    assert cassette.damaged_tail == 0
    assert len(cassette.interactions) == 30
    by_body = {it.request.body: it for it in cassette.interactions}
    assert len(by_body) == 30
    for i, (raw, g) in enumerate(zip(calls, got, strict=True)):
        it = by_body[json.dumps(raw.body).encode()]
        assert it.api == raw.api and it.response.stream == raw.stream
        assert it.response.raw == g.body
        assert problems(i, it) == [], "every stream re-encodes with its codec, every body parses"
