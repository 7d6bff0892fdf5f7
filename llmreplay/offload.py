"""The reading of a big request body, and the making of a long stream, run on a worker thread, so that they do not
hold the event loop.

Parsing, validating and counting the tokens of a 30 MB body took seconds of CPU; on the loop, no other client
(``/health`` included) was answered meanwhile. A body of :data:`BIG_BODY` bytes or more is read on one worker
thread instead; smaller ones, nearly all, stay on the loop, where the hop would cost more than the work. The
worker shares the GIL with the loop, which gets it back every few milliseconds while Python code runs there;
the long single calls into C a body could cost (orjson, pydantic, the regex engine) are bounded by
:mod:`llmreplay.providers.json_caps` and by :func:`llmreplay.synth.tokens.count`'s slices.

A small request can ask for a long stream: a 60,000-character tool argument at one character a frame is 60,000
frames to render, time and join, ~90 ms of CPU in one loop callback (issue 19, case 7). Once the reply is known, and
before any frame is made, :func:`streams_many` says whether its frames are made on the worker too; an answer of
:data:`MANY_FRAMES` frames or more is then timed (:func:`few_frames`) and laid out for the writer there as well.

While the worker builds a big body's objects the cyclic collector is paused: its passes, triggered by those
allocations, walk every object in the process in one call, which held the loop as long as the parse did.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from llmreplay.codec import Codec
from llmreplay.model import Answer, Call, Reply, Request, Text, Thinking, ToolCall
from llmreplay.synth.tokens import prompt_tokens

T = TypeVar("T")

BIG_BODY = 64 * 1024
"""Bytes of request body from which it is read off the loop. Reading one of 64 KiB takes ~1-5 ms."""

_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmreplay-body")
"""One thread: big bodies are read one after the other (more threads would only share the one GIL), which also
bounds the memory their parsing takes at once."""


SCHEMA_BODY = 8 * 1024
"""Bytes of body from which a request that carries schemas (tools, an output schema) is answered off the loop:
checking a client's schema against the meta-schema, before any value is faked, is work no budget counts, ~4 ms of
CPU a KB of schema (a 44 KB one: 167 ms)."""


def is_big(call: Call) -> bool:
    """Whether ``call``'s body is read off the loop."""
    return len(call.body) >= BIG_BODY


MANY_CHOICES = 128
"""Choices (``n``, times the prompts of ``/v1/completions``) from which a reply is made off the loop: each is
~15-50 µs of CPU to write and render, so 2,048 (the cap) held ``/health`` 31 ms on a quiet machine and 115 ms on a
busy one (issue 19, case 6); nearly every request asks for one."""

MANY_ITEMS = 64
"""Commas in the body of a request a route answers itself (no neutral request: embeddings) from which it is
answered off the loop. An embeddings input is at least one comma and up to 3,072-8,192 numbers to make and encode,
~10 ns each: 64 inputs are a few ms; the cap, 2,048 × 3,072, was 50-120 ms (issue 19, case 9). A comma inside a
string counts too, which only sends a request off the loop that did not need it."""


def answered_off_loop(call: Call, request: Request | None) -> bool:
    """Whether the synthetic answer to ``call`` is made off the loop: a big body, schemas in a body of some size,
    many choices, or (a route that answers itself) a body listing many items."""
    if len(call.body) >= BIG_BODY:
        return True
    if request is None:
        return call.body.count(b",") >= MANY_ITEMS
    if request.n >= MANY_CHOICES:
        return True
    return (bool(request.tools) or request.output.schema is not None) and len(call.body) >= SCHEMA_BODY


MANY_FRAMES = 4096
"""Frames of a stream from which it is rendered, timed and joined off the loop: each costs ~1-1.5 µs of CPU there
(render, timing, join, and the collector's passes over the new frames), so 4,096 are ~5 ms, and the streams of
nearly every request, tens to hundreds of frames, pay nothing for the hop."""


def streams_many(reply: Reply, request: Request | None, chunk_size: int) -> bool:
    """Whether ``reply``, streamed ``chunk_size`` characters a frame, makes :data:`MANY_FRAMES` frames or more: its
    text, reasoning and tool arguments counted, a pass over its parts (not over their characters)."""
    if request is None or not request.stream:
        return False
    chars = 0
    for cand in reply.candidates:
        for part in cand.parts:
            if isinstance(part, Text | Thinking):
                chars += len(part.text)
            elif isinstance(part, ToolCall):
                chars += len(part.arguments)
    return chars >= MANY_FRAMES * max(1, chunk_size)


def few_frames(answer: Answer) -> bool:
    """Whether ``answer`` is timed and laid out on the loop (fewer than :data:`MANY_FRAMES` frames)."""
    return len(answer.frames) < MANY_FRAMES


async def run(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` on the worker thread, with the cyclic collector paused while it runs."""
    return await asyncio.get_running_loop().run_in_executor(_worker, _uncollected, fn, *args)


def _uncollected(fn: Callable[..., T], *args: object) -> T:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args)
    finally:
        if enabled:
            gc.enable()


def read(codec: Codec, call: Call) -> tuple[Request, int]:
    """The call's request and its prompt tokens (both a pass over the whole body), for :func:`run`."""
    request = codec.parse_request(call)
    return request, prompt_tokens(request)
