"""The responses this server keeps, as the OpenAI Responses API keeps them (``store``, true by default), and
what the road asks of them.

The records are on a :class:`~llmreplay.state.response_shelf.Shelf`: this process's memory by default, Redis
under ``--state redis://…`` (:mod:`llmreplay.state.redis_responses`, attached by the state), so that a response
made on one worker is retrieved, continued, cancelled or deleted on any other. The wire side (what a record
holds, how a chain becomes the earlier turns of a conversation, the operations' answers) is
:mod:`llmreplay.providers.openai_responses_store`, and a background response's forms
:mod:`llmreplay.providers.openai_responses_background`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.providers import openai_responses_background as background
from llmreplay.providers import openai_responses_store as wire
from llmreplay.providers.openai_responses_store import Stored
from llmreplay.shaping.clock import clock as loop_clock
from llmreplay.state.response_shelf import MAX_BYTES, MAX_COUNT, MemoryShelf, Shelf

_SERVED = (*wire.STORED_OPS, background.cancel)


class ResponseStore:
    """Kept responses, on this process's memory unless a shared :attr:`shelf` is attached."""

    def __init__(
        self, max_count: int = MAX_COUNT, max_bytes: int = MAX_BYTES, now: Callable[[], float] = time.time
    ) -> None:
        self.shelf: Shelf = MemoryShelf(max_count, max_bytes)
        self.now = now
        """Unix time, which every process sharing a shelf agrees on (a background response's ``done_at``)."""
        self.forwarding = False
        """Whether cassettes or an upstream may know the responses this store does not (a recorded retrieve, a
        response made in a live stream): then an unknown id is theirs to answer, not a 404 or 400 here."""

    @staticmethod
    def holds(api: str) -> bool:
        """Whether calls of ``api`` read or keep what this store holds (so their answers are not a function of the
        call alone)."""
        return api == wire.API

    async def get(self, response_id: str) -> Stored | None:
        chain = await self.shelf.chain(response_id, 1)
        return chain[-1] if chain else None

    # ---- what the road asks ----------------------------------------------------------------------

    async def serve(self, ex: Exchange) -> Answer | None:
        """The answer of a route served from the store (retrieve, delete, input items, cancel, a count that
        names a ``previous_response_id``); None for any other route, or for an id this store does not hold
        while an upstream may."""
        op = ex.route.op
        if op is wire.count_input_tokens:
            return await self._count(ex)
        if op not in _SERVED:
            return None
        response_id = ex.call.params.get("response_id", "")
        rec = await self.shelf.drop(response_id) if op is wire.delete else await self.get(response_id)
        if rec is None and self.forwarding:
            return None
        if rec is not None and op is not wire.delete:
            now = self.now()
            if op is background.cancel and background.running(rec, now):
                rec = background.cancelled(rec)
                await self.shelf.put(rec)
            if op is wire.retrieve and rec.events and ex.call.query.get("stream") == "true":
                return background.resume(ex.call, ex.opts, rec, now)
            rec = background.as_of(rec, now)
        return op(ex.call, ex.opts, rec)  # type: ignore[call-arg]

    async def _count(self, ex: Exchange) -> Answer | None:
        """A count that names a ``previous_response_id`` counts the earlier turns too (None: one that names none
        is the plain operation's)."""
        prev = wire.previous_in_body(ex.call)
        if prev is None:
            return None
        chain = await self.shelf.chain(prev)
        if chain is None:
            if self.forwarding:
                return None
            raise wire.previous_not_found(prev)
        return wire.count_input_tokens(ex.call, ex.opts, wire.history(chain))

    async def continue_from(self, ex: Exchange) -> None:
        """Give a request that names a ``previous_response_id`` the earlier turns, so that rules, synthesis and
        token counts see the whole conversation; raises the API's 400 for an id not kept, or for a background
        request that may not be kept."""
        req = ex.request
        if req is None or req.api != wire.API:
            return
        if not self.forwarding:  # else a recording or the upstream has the real answer to a bad one
            background.check(req)
        prev = wire.previous_id(req)
        if prev is None:
            return
        chain = await self.shelf.chain(prev)
        if chain is None:
            if self.forwarding:
                return
            raise wire.previous_not_found(prev)
        ex.request = wire.continued(req, wire.history(chain))
        ex.input_tokens = None

    async def keep(self, ex: Exchange, made: Answer, shaped: Answer) -> Answer:
        """Keep the response the source ``made`` (unless the request said ``store: false``); the answer to send,
        ``shaped`` for it. A background request's made response is kept running until the shaper's timing
        says it is done, and its client gets it ``queued`` at once (a stream is sent as shaped)."""
        req = ex.request
        if req is None or not wire.wants_stored(req):
            return shaped
        rec = wire.stored_of(made, req)
        if rec is None:
            return shaped
        if not background.requested(req):
            await self.shelf.put(rec)
            return shaped
        last = max((f.at or 0.0 for f in shaped.frames), default=0.0)
        arrived = self.now() - (loop_clock() - ex.t0)
        # A fault that cuts the client's stream short leaves a background stream's making alone, as the real
        # service goes on without its client; a plain answer cut short is a failed response.
        interrupted = shaped.status != 200 or (shaped.cut is not None and not req.stream)
        events = background.events_of(made, shaped) if req.stream else b""
        rec = background.made(rec, arrived + last, interrupted, events)
        await self.shelf.put(rec)
        return shaped if req.stream else background.queued(shaped, rec)
