"""Metrics memory under sustained traffic: 100,000 requests through one server process.

Runs a zero-latency llmreplay app and an aiohttp client in this process, sends
non-stream chat completions with 64 in flight, and reports the memory that the
metrics store and the whole process hold after 10,000 and after 100,000 requests.
The store must stay flat: fixed histograms and a ring of per-second slots.

    python -m benchmarks.metrics_memory [--requests 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import time
import tracemalloc

import aiohttp
from aiohttp import web

from llmreplay.app import RUNTIME, create_app
from llmreplay.config import Settings

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _drive(url: str, n: int, concurrency: int = 64) -> None:
    async with aiohttp.ClientSession() as session:
        sent = 0

        async def worker() -> None:
            nonlocal sent
            while sent < n:
                sent += 1
                async with session.post(url, json=BODY) as r:
                    await r.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def main(total: int) -> None:
    settings = Settings.model_validate(
        {"latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}, "server": {"quiet": True}}
    )
    app = create_app(settings)
    metrics = app[RUNTIME].metrics
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    tracemalloc.start()
    rows = []
    done = 0
    start = time.perf_counter()
    for target in (10_000, total):
        await _drive(url, target - done)
        done = target
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0]
        rows.append((done, traced, _rss_kib(), sum(sys.getsizeof(v) for v in vars(metrics).values())))
    elapsed = time.perf_counter() - start
    await runner.cleanup()
    served = metrics.snapshot()["totals"]["requests"]
    print(f"# Metrics memory, {served} requests in {elapsed:.1f} s\n")
    print("| requests | traced Python memory (KiB) | process RSS (KiB) |")
    print("|---:|---:|---:|")
    for n, traced, rss, _ in rows:
        print(f"| {n:,} | {traced / 1024:,.0f} | {rss:,} |")
    growth = (rows[-1][1] - rows[0][1]) / 1024
    print(f"\nGrowth from {rows[0][0]:,} to {rows[-1][0]:,} requests: {growth:,.0f} KiB of traced memory.")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=100_000)
    asyncio.run(main(ap.parse_args().requests))
