"""CPU time per request in-process: figure 1's request, without wrk and without a second core.

An in-process server (``BackgroundServer``, its start-up heap frozen as ``serve`` freezes it) is driven by 64
keep-alive connections from its own event loop, so one thread does all the work and its CPU time, divided by the
requests, is the cost of one (the client's few microseconds included). On a machine shared with other work, CPU
time moves much less than requests per second; still compare the code before and after in turn, several times.

    python -m benchmarks.inprocess [--requests 20000] [--stream] [--seed N] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import time

from llmreplay import collector
from llmreplay.config import Settings
from llmreplay.server import BackgroundServer

CONNECTIONS = 64
WARM_UP = 2_000


def _request(stream: bool) -> bytes:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}], "stream": stream})
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer sk-test\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return (head + body).encode()


async def _client(port: int, n: int, request: bytes, stream: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(n):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if stream:
            await reader.readuntil(b"\r\n0\r\n\r\n")
            continue
        at = head.lower().index(b"content-length:")
        await reader.readexactly(int(head[at + 15 : head.index(b"\r\n", at)]))
    writer.close()


async def _drive(port: int, n: int, stream: bool) -> None:
    request = _request(stream)
    await asyncio.gather(*(_client(port, n // CONNECTIONS, request, stream) for _ in range(CONNECTIONS)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--stream", action="store_true", help="streamed answers (chunk size 10, zero delay)")
    ap.add_argument("--seed", type=int, help="a seeded server, whose same request again is a kept answer")
    ap.add_argument("--profile", help="write a cProfile of the measured requests here")
    args = ap.parse_args()
    settings = Settings.model_validate(
        {
            "latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0},
            "synthetic": {"tool_call_probability": 0, "seed": args.seed},
            "server": {"quiet": True},
        }
    )
    with BackgroundServer(settings) as server:
        loop = server._loop
        assert loop is not None
        server.call(collector.collect_all)
        asyncio.run_coroutine_threadsafe(_drive(server.port, WARM_UP, args.stream), loop).result()
        profile = cProfile.Profile() if args.profile else None

        async def measured() -> float:
            if profile is not None:
                profile.enable()
            started = time.thread_time()
            await _drive(server.port, args.requests, args.stream)
            spent = time.thread_time() - started
            if profile is not None:
                profile.disable()
            return spent

        spent = asyncio.run_coroutine_threadsafe(measured(), loop).result()
        done = args.requests // CONNECTIONS * CONNECTIONS
        print(f"{done:,} requests: {spent / done * 1e6:.1f} µs of CPU a request (the server's thread, client included)")
        if profile is not None:
            profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
