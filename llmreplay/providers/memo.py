"""Requests read once per distinct body: a load test, a retry loop or a test suite sends the same bytes again
and again, and reading them (JSON, validation, the neutral request) was a tenth of a plain answer's CPU.

Only what is provably the same is kept: a codec whose request depends on the body bytes alone, a body small
enough that a few hundred of them cost little memory, and a request holding nothing a later step could change
(no tool or output schemas, which the faker walks). A body that fails to read is not kept: its error is made
again, word for word, each time.
"""

from __future__ import annotations

from collections.abc import Callable

from llmreplay.bounded import keep
from llmreplay.model import Call, Request

MAX_BODY = 4096
"""Bytes of the largest body kept (a chat turn or two; long agent histories are seldom sent twice)."""
MAX_ENTRIES = 256
"""Bodies kept at once; the oldest goes first (at most ~1 MiB of keys; :func:`llmreplay.bounded.keep`)."""


def plain(request: Request) -> bool:
    """Whether ``request`` holds only immutable values besides its body (which nothing writes to)."""
    return not request.tools and request.output.schema is None


class BodyMemo:
    """``read(call)`` for one codec, kept per body bytes; ``read`` must depend on ``call.body`` alone."""

    def __init__(self, read: Callable[[Call], Request]) -> None:
        self._read = read
        self._kept: dict[bytes, Request] = {}

    def __call__(self, call: Call) -> Request:
        body = call.body
        if len(body) > MAX_BODY:
            return self._read(call)
        kept = self._kept.get(body)
        if kept is not None:
            return kept
        request = self._read(call)
        if plain(request):
            keep(self._kept, body, request, MAX_ENTRIES)
        return request
