"""Replay timing error: how far each replayed event lands from its recorded offset.

Builds a cassette of chat-completion streams whose events were "recorded" at
irregular offsets (gaps drawn from 5 to 80 ms), serves it with
``llmreplay serve --cassettes`` in its own process, and replays it with a lean
asyncio client in this process: 1 stream alone, then N concurrent streams.
Each event's arrival (at the client, from the moment the request was sent) is
compared with its recorded offset; the table gives |error| percentiles, and the
client's own timer lateness so that a late client is not blamed on the server.

    python -m benchmarks.replay_timing [--streams 100] [--events 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.store import new_header, save

SSE_HEADERS = (("content-type", "text/event-stream; charset=utf-8"),)


def _chunk(i: int, k: int, text: str) -> bytes:
    data = {
        "id": f"chatcmpl-{i}",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def build(path: Path, streams: int, events: int, rng: random.Random) -> list[list[int]]:
    """A cassette of ``streams`` distinct prompts; returns each stream's recorded offsets (µs)."""
    interactions, offsets = [], []
    for i in range(streams):
        body = json.dumps(
            {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": f"prompt {i}"}]}
        ).encode()
        at, evs, ats = rng.randint(100_000, 300_000), [], []
        for k in range(events):
            evs.append(RecordedEvent(at, _chunk(i, k, f"word{k} ")))
            ats.append(at)
            at += rng.randint(5_000, 80_000)
        evs.append(RecordedEvent(at, b"data: [DONE]\n\n"))
        ats.append(at)
        req = RecordedRequest("POST", "/v1/chat/completions", (), (("content-type", "application/json"),), body)
        resp = RecordedResponse(200, SSE_HEADERS, None, tuple(evs), 2_000, at)
        interactions.append(Interaction(req, resp, "openai-chat", "chat-completions"))
        offsets.append(ats)
    save(path, new_header("benchmark"), interactions)
    return offsets


def build_plain(path: Path, body: dict[str, object], ms: int = 800) -> None:
    """A cassette of one plain chat completion answering ``body``, recorded ``ms`` after it was sent."""
    reply = {
        "id": "chatcmpl-plain",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
    }
    req = RecordedRequest(
        "POST", "/v1/chat/completions", (), (("content-type", "application/json"),), json.dumps(body).encode()
    )
    headers = (("content-type", "application/json"),)
    resp = RecordedResponse(200, headers, json.dumps(reply).encode(), None, ms * 1000, ms * 1000)
    save(path, new_header("benchmark"), [Interaction(req, resp, "openai-chat", "chat-completions")])


async def _one(session: aiohttp.ClientSession, url: str, i: int, lateness: list[float]) -> list[float]:
    body = {"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": f"prompt {i}"}]}
    arrivals: list[float] = []
    t0 = time.perf_counter()
    async with session.post(url, json=body) as r:
        buf = b""
        async for chunk in r.content.iter_any():
            now = time.perf_counter()
            buf += chunk
            n = buf.count(b"\n\n")
            arrivals.extend([(now - t0) * 1e6] * n)
            buf = buf[buf.rfind(b"\n\n") + 2 :] if n else buf
    return arrivals


async def _lateness(stop: asyncio.Event, out: list[float]) -> None:
    """How late this client's own timers fire: the floor under every figure it measures."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.005
        await asyncio.sleep(0.005)
        out.append((loop.time() - due) * 1000)


async def run(url: str, ids: list[int]) -> tuple[list[list[float]], list[float]]:
    lateness: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_lateness(stop, lateness))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        results = await asyncio.gather(*(_one(s, url, i, lateness) for i in ids))
    stop.set()
    await probe
    return list(results), lateness


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def _fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} / {_pct(xs, 0.99):.2f} / {max(xs):.2f}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--events", type=int, default=40)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        offsets = build(Path(tmp) / "bench.msgpack", args.streams, args.events, rng)
        port = _free_port()
        env = {**os.environ, "LLMREPLAY_QUIET": "1"}
        cmd = [sys.executable, "-m", "llmreplay", "serve", "--cassettes", tmp, "--port", str(port), "--quiet"]
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/v1/chat/completions"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            print(f"# Replay timing, {args.events} events per stream, recorded gaps 5-80 ms\n")
            print(
                "| streams | events | offset error p50 / p99 / max (ms) | gap error p50 / p99 / max (ms) "
                "| client lateness p99 (ms) |"
            )
            print("|---:|---:|---:|---:|---:|")
            for ids in ([0], list(range(args.streams))):
                arrivals, late = asyncio.run(run(url, ids))
                errors = [
                    abs(a - r) / 1000
                    for i, arr in zip(ids, arrivals, strict=True)
                    for a, r in zip(arr, offsets[i], strict=False)
                ]
                gaps = [
                    abs((a2 - a1) - (r2 - r1)) / 1000
                    for i, arr in zip(ids, arrivals, strict=True)
                    for (a1, r1), (a2, r2) in zip(
                        zip(arr, offsets[i], strict=False), list(zip(arr, offsets[i], strict=False))[1:], strict=False
                    )
                ]
                print(f"| {len(ids)} | {len(errors)} | {_fmt(errors)} | {_fmt(gaps)} | {_pct(late, 0.99):.2f} |")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
