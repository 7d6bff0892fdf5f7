"""Cassette load time: a 10,000-interaction cassette must load in ≤ 0.5 s.

Builds a cassette of realistic size in a temporary folder — half plain chat
completions (~1 KB bodies), half SSE streams of ~100 chunk events — and
reports, as a Markdown table, the best of 5 load times, the file size, and the
memory one loaded interaction holds (tracemalloc).

    python -m benchmarks.cassette_load [--interactions 10000] [--events 100]
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
import tracemalloc
from pathlib import Path

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.store import load, new_header, save

TARGET_S = 0.5

REQUEST_HEADERS = (
    ("accept", "application/json"),
    ("content-type", "application/json"),
    ("user-agent", "OpenAI/Python 1.99.0"),
    ("x-stainless-lang", "python"),
    ("x-stainless-package-version", "1.99.0"),
    ("x-stainless-os", "Linux"),
    ("x-stainless-arch", "x64"),
    ("x-stainless-runtime", "CPython"),
    ("x-stainless-runtime-version", "3.12.3"),
    ("x-stainless-retry-count", "0"),
)
RESPONSE_HEADERS = (
    ("date", "Wed, 26 Nov 2025 06:00:00 GMT"),
    ("content-type", "application/json"),
    ("openai-organization", "user-abc123"),
    ("openai-processing-ms", "412"),
    ("openai-version", "2020-10-01"),
    ("x-ratelimit-limit-requests", "10000"),
    ("x-ratelimit-remaining-requests", "9999"),
    ("x-ratelimit-reset-requests", "6ms"),
    ("x-request-id", "req_0123456789abcdef0123456789abcdef"),
)
WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches".split()


def _request(i: int, stream: bool) -> RecordedRequest:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant that answers briefly and precisely."},
            {"role": "user", "content": f"Question {i}: " + " ".join(WORDS[(i + k) % len(WORDS)] for k in range(40))},
        ],
        "temperature": 0.2,
        "stream": stream,
    }
    return RecordedRequest("POST", "/v1/chat/completions", (), REQUEST_HEADERS, json.dumps(body).encode())


def _plain(i: int) -> Interaction:
    text = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(110))
    body = {
        "id": f"chatcmpl-{i:029d}",
        "object": "chat.completion",
        "created": 1764136800 + i,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 61, "completion_tokens": 110, "total_tokens": 171},
        "system_fingerprint": "fp_0123456789",
    }
    response = RecordedResponse(200, RESPONSE_HEADERS, json.dumps(body).encode(), None, 180_000, 412_000)
    return Interaction(_request(i, False), response, "openai-chat", "chat", "2025-11-26T06:00:00Z")


def _streamed(i: int, n_events: int) -> Interaction:
    events = []
    at = 200_000
    for k in range(n_events - 1):
        chunk = {
            "id": f"chatcmpl-{i:029d}",
            "object": "chat.completion.chunk",
            "created": 1764136800 + i,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "delta": {"content": " " + WORDS[(i + k) % len(WORDS)]}, "finish_reason": None}],
        }
        at += 9_000 + (k * 37) % 5_000
        events.append(RecordedEvent(at, b"data: " + json.dumps(chunk).encode() + b"\n\n"))
    events.append(RecordedEvent(at + 1_000, b"data: [DONE]\n\n"))
    headers = tuple(h if h[0] != "content-type" else ("content-type", "text/event-stream") for h in RESPONSE_HEADERS)
    response = RecordedResponse(200, headers, None, tuple(events), 180_000, at + 1_000)
    return Interaction(_request(i, True), response, "openai-chat", "chat", "2025-11-26T06:00:00Z")


def sample_interactions(n: int, n_events: int = 100) -> list[Interaction]:
    """``n`` interactions alternating plain and streamed; streams are built once and shared to save build time."""
    plain = [_plain(i) for i in range(min(n, 50))]
    streamed = [_streamed(i, n_events) for i in range(min(n, 50))]
    return [(plain if i % 2 == 0 else streamed)[(i // 2) % len(plain)] for i in range(n)]


def measure(path: Path, repeats: int = 5) -> tuple[float, int]:
    """Best load time in seconds over ``repeats`` runs, and the number of interactions loaded."""
    best = float("inf")
    count = 0
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        cassette = load(path)
        best = min(best, time.perf_counter() - start)
        count = len(cassette.interactions)
        del cassette
    return best, count


def memory_per_interaction(path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cassette = load(path)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) // max(len(cassette.interactions), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100, help="events per streamed interaction")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.msgpack"
        save(path, new_header("https://api.openai.com"), sample_interactions(args.interactions, args.events))
        size = path.stat().st_size
        best, count = measure(path)
        per = memory_per_interaction(path)
    verdict = "ok" if best <= TARGET_S else "SLOW"
    print("| interactions | events/stream | file size | load (best of 5) | target | memory/interaction |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {count:,} | {args.events} | {size / 1e6:.1f} MB | {best * 1000:.0f} ms ({verdict}) "
        f"| {TARGET_S * 1000:.0f} ms | {per / 1024:.1f} KiB |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
