"""The responses this process has kept, as the OpenAI Responses API keeps them (``store``, true by default).

Bounded twice, by count and by bytes, the oldest let go first; each process keeps its own (under
``--workers`` a chain of ``previous_response_id`` holds on the worker that made its responses, so tests that
chain responses run with one worker). The wire side (what a record holds, how a chain becomes the earlier turns
of a conversation, the operations' answers) is :mod:`llmreplay.providers.openai_responses_store`; this holds
the records and is what the road asks.
"""

from __future__ import annotations

from collections import OrderedDict

from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.providers import openai_responses_store as wire
from llmreplay.providers.openai_responses_store import Stored

MAX_COUNT = 10_000
"""Responses kept at most."""
MAX_BYTES = 64 * 1024 * 1024
"""Bytes kept at most (response objects and input items as sent)."""
MAX_CHAIN = 1_000
"""Responses a ``previous_response_id`` chain is followed back through at most."""


class ResponseStore:
    """Responses by id, the least recently kept first out."""

    def __init__(self, max_count: int = MAX_COUNT, max_bytes: int = MAX_BYTES) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self._kept: OrderedDict[str, Stored] = OrderedDict()
        self.bytes = 0
        self.forwarding = False
        """Whether cassettes or an upstream may know the responses this store does not (a recorded retrieve, a
        response made in a live stream): then an unknown id is theirs to answer, not a 404 or 400 here."""

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, response_id: str) -> Stored | None:
        return self._kept.get(response_id)

    def put(self, rec: Stored) -> None:
        old = self._kept.pop(rec.id, None)
        if old is not None:
            self.bytes -= old.size
        if rec.size > self.max_bytes:
            return
        self._kept[rec.id] = rec
        self.bytes += rec.size
        while len(self._kept) > self.max_count or self.bytes > self.max_bytes:
            _, gone = self._kept.popitem(last=False)
            self.bytes -= gone.size

    def drop(self, response_id: str) -> Stored | None:
        rec = self._kept.pop(response_id, None)
        if rec is not None:
            self.bytes -= rec.size
        return rec

    def clear(self) -> None:
        self._kept.clear()
        self.bytes = 0

    def chain(self, response_id: str) -> list[Stored] | None:
        """The responses ``response_id`` continues and itself, oldest first; None when it is not kept. A link
        let go (the bounds) ends the chain there, as the turns before it are gone."""
        rec = self._kept.get(response_id)
        if rec is None:
            return None
        out = [rec]
        while rec.previous is not None and len(out) < MAX_CHAIN:
            earlier = self._kept.get(rec.previous)
            if earlier is None:
                break
            out.append(earlier)
            rec = earlier
        out.reverse()
        return out

    # ---- what the road asks ----------------------------------------------------------------------

    def serve(self, ex: Exchange) -> Answer | None:
        """The answer of a route served from the store (retrieve, delete, input items); None for any other
        route, or for an id this store does not hold while an upstream may."""
        op = ex.route.op
        if op is wire.count_input_tokens:
            return self._count(ex)
        if op not in wire.STORED_OPS:
            return None
        response_id = ex.call.params.get("response_id", "")
        rec = self.drop(response_id) if op is wire.delete else self.get(response_id)
        if rec is None and self.forwarding:
            return None
        return op(ex.call, ex.opts, rec)  # type: ignore[call-arg]

    def _count(self, ex: Exchange) -> Answer | None:
        """A count that names a ``previous_response_id`` counts the earlier turns too (None: one that names none
        is the plain operation's)."""
        prev = wire.previous_in_body(ex.call)
        if prev is None:
            return None
        chain = self.chain(prev)
        if chain is None:
            if self.forwarding:
                return None
            raise wire.previous_not_found(prev)
        return wire.count_input_tokens(ex.call, ex.opts, wire.history(chain))

    def continue_from(self, ex: Exchange) -> None:
        """Give a request that names a ``previous_response_id`` the earlier turns, so that rules, synthesis and
        token counts see the whole conversation; raises the API's 400 for an id not kept."""
        req = ex.request
        prev = wire.previous_id(req) if req is not None else None
        if req is None or prev is None:
            return
        chain = self.chain(prev)
        if chain is None:
            if self.forwarding:
                return
            raise wire.previous_not_found(prev)
        ex.request = wire.continued(req, wire.history(chain))
        ex.input_tokens = None

    def keep(self, ex: Exchange, answer: Answer) -> None:
        """Keep the response ``answer`` holds, unless the request said ``store: false``."""
        req = ex.request
        if req is None or not wire.wants_stored(req):
            return
        rec = wire.stored_of(answer, req)
        if rec is not None:
            self.put(rec)
