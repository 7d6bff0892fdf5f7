"""The bare aiohttp baseline every llmreplay figure is compared with.

- ``POST /v1/chat/completions``: a fixed chat-completion body (the request body is read, as any server must);
  with ``?k=K`` it streams instead, like ``/stream``.
- ``GET|POST /stream?k=K&gap_ms=G&ttft_ms=T``: K fixed SSE events then ``data: [DONE]``, event ``i`` written
  at the absolute deadline ``start + T + i*G`` (the last event rides with ``[DONE]``).
- ``POST /replay/{i}`` with ``--offsets FILE`` (JSON list of lists of µs): stream ``i`` of a recorded
  cassette, each event at its recorded offset.

    python -m benchmarks.baseline --port 8001 [--offsets offsets.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from aiohttp import web

CHAT = json.dumps(
    {
        "id": "chatcmpl-0123456789abcdefghijklmnopqrs",
        "object": "chat.completion",
        "created": 1764136800,
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
        "system_fingerprint": "fp_0123456789",
    }
).encode()
EVENT = (
    b'data: {"id":"chatcmpl-0123456789abcdefghijklmnopqrs","object":"chat.completion.chunk","created":1764136800,'
    b'"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lorem ipsu"},"finish_reason":null}]}\n\n'
)
DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
OFFSETS = web.AppKey("offsets", list)


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _stream(request: web.Request, schedule: list[tuple[float, bytes]]) -> web.StreamResponse:
    """Write each (offset seconds, bytes) at its absolute deadline from the request's arrival."""
    t0 = time.monotonic()
    await request.read()
    resp = web.StreamResponse(headers=SSE_HEADERS)
    await resp.prepare(request)
    for at, data in schedule:
        await _sleep_until(t0 + at)
        await resp.write(data)
    await resp.write_eof()
    return resp


def _fixed_schedule(q: dict[str, str]) -> list[tuple[float, bytes]]:
    k = int(q.get("k", "20"))
    gap = float(q.get("gap_ms", "50")) / 1000
    ttft = float(q.get("ttft_ms", "0")) / 1000
    out = [(ttft + i * gap, EVENT) for i in range(k)]
    out[-1] = (out[-1][0], EVENT + DONE)
    return out


async def chat(request: web.Request) -> web.StreamResponse:
    if "k" in request.query:
        return await _stream(request, _fixed_schedule(dict(request.query)))
    await request.read()
    return web.Response(body=CHAT, content_type="application/json")


async def stream(request: web.Request) -> web.StreamResponse:
    return await _stream(request, _fixed_schedule(dict(request.query)))


async def replay(request: web.Request) -> web.StreamResponse:
    offsets: list[list[int]] = request.app[OFFSETS]
    ats = offsets[int(request.match_info["i"]) % len(offsets)]
    schedule = [(at / 1e6, EVENT) for at in ats[:-1]] + [(ats[-1] / 1e6, DONE)]
    return await _stream(request, schedule)


def create_app(offsets: list[list[int]] | None = None) -> web.Application:
    app = web.Application()
    app[OFFSETS] = offsets or [[0]]
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_route("*", "/stream", stream)
    app.router.add_post("/replay/{i}", replay)
    return app


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--offsets", type=Path, help="JSON list of per-stream event offsets in µs, for /replay/{i}")
    args = ap.parse_args(argv)
    offsets = json.loads(args.offsets.read_text()) if args.offsets else None
    web.run_app(create_app(offsets), host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
