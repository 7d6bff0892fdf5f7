"""The reading of a big request body runs on a worker thread, so that it does not hold the event loop.

Parsing, validating and counting the tokens of a 30 MB body took seconds of CPU; on the loop, no other client
(``/health`` included) was answered meanwhile. A body of :data:`BIG_BODY` bytes or more is read on one worker
thread instead; smaller ones, nearly all, stay on the loop, where the hop would cost more than the work. The
worker shares the GIL with the loop, which gets it back every few milliseconds while Python code runs there;
the long single calls into C a body could cost (orjson, pydantic, the regex engine) are bounded by
:mod:`llmreplay.providers.json_caps` and by :func:`llmreplay.synth.tokens.count`'s slices.

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
from llmreplay.model import Call, Request
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


def answered_off_loop(call: Call, request: Request | None) -> bool:
    """Whether the synthetic answer to ``call`` is made off the loop: a big body, or schemas in a body of some size."""
    if len(call.body) >= BIG_BODY:
        return True
    has_schemas = request is not None and (bool(request.tools) or request.output.schema is not None)
    return has_schemas and len(call.body) >= SCHEMA_BODY


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
