"""Soak: a million mixed requests at one server process; is its memory flat?

    python -m benchmarks.soak                      # 1,000,000 requests, RSS every 100,000
    python -m benchmarks.soak --requests 20000     # quick (RSS every 2,000)

The mix, in turn: chat, chat stream, chat with tools and ``tool_choice: required``, an injected 503,
a stream cut by ``disconnect@2``, Anthropic messages under an after-n rate limit (reset every
1,000 requests, so some are 429s), Gemini generateContent and streamGenerateContent, an Anthropic
stream, and a Responses call. 64 concurrent clients on keep-alive connections, zero latency.

RSS is the server's VmRSS from /proc; "start" is taken after a warm-up of 1,000 requests (imports,
caches and the connection pool are filled by then). Flat means every later sample is within 10 %
of it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

from benchmarks.harness import Server, free_port, llmreplay_cmd, llmreplay_env, serve

CONCURRENCY = 64
WARMUP = 1000
TOLERANCE = 0.10

_CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
_MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
_GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
_G = "/v1beta/models/gemini-2.0-flash"

# (name, path, body, headers)
MIX: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("chat", "/v1/chat/completions", json.dumps(_CHAT).encode(), {}),
    ("chat-stream", "/v1/chat/completions", json.dumps({**_CHAT, "stream": True}).encode(), {}),
    (
        "tools",
        "/v1/chat/completions",
        json.dumps({**_CHAT, "tools": _TOOLS, "tool_choice": "required"}).encode(),
        {},
    ),
    ("fault-503", "/v1/chat/completions", json.dumps(_CHAT).encode(), {"x-llmreplay-fault": "503"}),
    (
        "fault-disconnect",
        "/v1/chat/completions",
        json.dumps({**_CHAT, "stream": True}).encode(),
        {"x-llmreplay-fault": "disconnect@2"},
    ),
    ("messages-limited", "/v1/messages", json.dumps(_MESSAGES).encode(), {"anthropic-version": "2023-06-01"}),
    ("gemini", _G + ":generateContent", json.dumps(_GEMINI).encode(), {}),
    ("gemini-stream", _G + ":streamGenerateContent?alt=sse", json.dumps(_GEMINI).encode(), {}),
    (
        "messages-stream",
        "/v1/messages",
        json.dumps({**_MESSAGES, "stream": True}).encode(),
        {"anthropic-version": "2023-06-01"},
    ),
    # store: false, as the Responses store keeps what it is sent up to its bounds (llmreplay/state/responses.py):
    # memory growing while it fills is the store working, not a leak (docs/reliability.md gives its cost).
    (
        "responses",
        "/v1/responses",
        json.dumps({"model": "gpt-4o-mini", "input": "hi", "store": False}).encode(),
        {},
    ),
]


@dataclass
class Soak:
    server: Server
    total: int
    every: int
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    samples: list[tuple[int, int, float]] = field(default_factory=list)
    """(requests done, RSS KiB, seconds since start)."""
    t0: float = 0.0

    def sample(self) -> None:
        self.samples.append((self.sent, self.server.rss_kib(), time.monotonic() - self.t0))


async def _one(session: aiohttp.ClientSession, url: str, i: int, soak: Soak) -> None:
    name, path, body, headers = MIX[i % len(MIX)]
    try:
        async with session.post(url + path, data=body, headers={"content-type": "application/json", **headers}) as r:
            await r.read()
            soak.outcomes[f"{name} {r.status}"] += 1
    except aiohttp.ClientPayloadError:
        soak.outcomes[f"{name} cut"] += 1
    except aiohttp.ServerDisconnectedError:
        soak.outcomes[f"{name} disconnected"] += 1


async def _run(soak: Soak) -> None:
    url = soak.server.url
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        patch = {"rate_limit": {"enabled": True, "strategy": "after-n", "after_n": 100}}
        async with session.patch(url + "/api/config/endpoints/messages", json=patch) as r:
            assert r.status == 200, await r.text()
        counter = itertools.count()
        lock = asyncio.Lock()
        start_at = WARMUP
        next_sample = start_at

        async def worker() -> None:
            nonlocal next_sample
            while True:
                i = next(counter)
                if i >= soak.total:
                    return
                await _one(session, url, i, soak)
                soak.sent += 1
                if soak.sent % 1000 == 0:
                    async with session.post(url + "/api/rate-limit/reset/messages") as r:
                        await r.read()
                if soak.sent >= next_sample:
                    async with lock:
                        if soak.sent >= next_sample:
                            next_sample = soak.sent - soak.sent % soak.every + soak.every
                            soak.sample()
                            done = soak.samples[-1]
                            print(
                                f"  {done[0]:>9,} requests  RSS {done[1] / 1024:7.1f} MiB  {done[2]:7.1f} s", flush=True
                            )

        soak.t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        if soak.samples[-1][0] != soak.sent:
            soak.sample()


def report(soak: Soak) -> tuple[str, bool]:
    base = soak.samples[0][1]
    lines = ["| requests | RSS (MiB) | vs start | elapsed (s) |", "|---:|---:|---:|---:|"]
    flat = True
    for n, rss, t in soak.samples:
        change = (rss - base) / base
        flat = flat and abs(change) <= TOLERANCE
        lines.append(f"| {n:,} | {rss / 1024:.1f} | {change:+.1%} | {t:.0f} |")
    return "\n".join(lines), flat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=None, help="RSS sample interval [requests/10, at most 100,000]")
    args = parser.parse_args(argv)
    every = args.every or min(100_000, max(1000, args.requests // 10))
    port = free_port()
    env = llmreplay_env(0, 0)
    with serve(llmreplay_cmd(port), port, env) as server:
        soak = Soak(server, args.requests, every)
        asyncio.run(_run(soak))
        alive = server.proc.poll() is None
    table, flat = report(soak)
    elapsed = soak.samples[-1][2]
    print()
    print(f"{soak.sent:,} requests in {elapsed:.0f} s ({soak.sent / elapsed:,.0f}/s), {CONCURRENCY} concurrent")
    print(table)
    print()
    print("| outcome | count |\n|---|---:|")
    for k, v in sorted(soak.outcomes.items()):
        print(f"| {k} | {v:,} |")
    print()
    print(f"server still running: {alive}; RSS flat within {TOLERANCE:.0%} of the start: {flat}")
    return 0 if flat and alive else 1


if __name__ == "__main__":
    raise SystemExit(main())
