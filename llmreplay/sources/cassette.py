"""The cassette source: answers a call from the recordings in play, each used up only when it is played.

A call replays from the cassette it names (``x-llmreplay-cassette``, or its test id when a cassette of that
name is loaded) or, naming none, from every cassette loaded: one dict lookup (:meth:`Catalog.select`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from llmreplay.cassettes.catalog import CASSETTE_HEADER, Catalog
from llmreplay.cassettes.matching import Index
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call
from llmreplay.shaping.directives import TEST_ID
from llmreplay.sources.base import Play
from llmreplay.sources.replay import ReplaySource, Timing, count_tokens, render, replayed_tokens

Notify = Callable[..., Any]
"""Where hits and misses are told (the event hub's ``publish``: ``notify(kind, **fields)``)."""

ALL = "*"
"""How a miss names the cassettes searched when the call named none: every one loaded."""


class CassetteSource:
    name = "cassette"

    def __init__(self, catalog: Catalog, speed: float, timing: Timing, notify: Notify | None = None) -> None:
        self.catalog = catalog
        self.speed = speed
        self.timing: Timing = timing
        self.notify = notify

    @property
    def index(self) -> Index:
        """Every recording loaded."""
        return self.catalog.all

    def find(self, ex: Exchange) -> Play | None:
        call, route = ex.call, ex.route
        named, index = self.catalog.select(call.headers.get(CASSETTE_HEADER), ex.test_id)
        key = index.find(call) if index is not None else None
        # The looser match (off unless configured) answers only what nothing matched exactly.
        loose = index.fallback(call) if key is None and index is not None else None
        if (key is None and loose is None) or index is None:
            # Said on the exchange (the access log and the journal show it) until another source answers.
            ex.answered_by = {"missed": named or ALL}
            if self.notify is not None:
                self.notify("cassette.miss", endpoint=route.endpoint, path=call.path, cassette=named)
            return None

        async def play() -> Answer:
            found = index.play(key) if key is not None else loose
            if found is None:  # another call took the last recording between find and play
                raise self.miss_error(call, verbatim=ex.verbatim)
            if self.notify is not None:
                self.notify("cassette.hit", endpoint=route.endpoint, cassette=found[0])
            ex.answered_by = {"cassette": found[0], "index": index.position(found[1])}
            if key is None:
                ex.answered_by["match"] = "fallback"
            if ex.config.rate_limit.tokens_per_minute and ex.config.rate_limit.enabled:
                count_tokens(ex, found[1])  # the quota charges them before the answer is written
            else:
                ex.tokens_later = functools.partial(replayed_tokens, found[1])
            shaped_by = None if ex.verbatim else route
            return render(found[1], shaped_by, ex.request, ex.opts, self.speed, self.timing)

        return play

    def miss_error(self, call: Call, verbatim: bool = False) -> ApiError:
        """What a call no recording matches gets: the closest recording (in the cassette it named, or in any)
        and how it differs. A path no codec knows is a 404, as the provider would have answered an unknown
        path."""
        named, index = self.catalog.select(call.headers.get(CASSETTE_HEADER), call.headers.get(TEST_ID))
        if index is None:
            loaded = ", ".join(self.catalog.names()) or "none"
            msg = (
                f"llmreplay: no cassette named {named!r} is loaded ({CASSETTE_HEADER}); loaded: {loaded}. "
                "Load it with POST /api/cassettes."
            )
            return ApiError(ErrorKind.INVALID_REQUEST, msg, code="cassette_miss")
        err = ReplaySource(index).miss_error(call, [named] if named else self.catalog.names())
        if verbatim:
            err.kind = ErrorKind.NOT_FOUND
        return err


def match_of(by: Mapping[str, object] | None) -> str | None:
    """``hit``, ``fallback``, ``recorded`` or ``miss``: what the access log says of a call's cassette, from what
    answered it (:attr:`Exchange.answered_by`); None where no cassette took part."""
    if by is None:
        return None
    if "cassette" in by:
        return str(by.get("match", "hit"))
    if "recorded_into" in by:
        return "recorded"
    return "miss" if "missed" in by else None


def cassette_label(by: Mapping[str, object] | None) -> str | None:
    """``x-llmreplay-cassette`` of an answer: ``NAME#INDEX`` of the recording that answered, the cassette a
    recording went into, or the cassette a miss searched (``*``: every one loaded); None where none took part."""
    if by is None:
        return None
    if "cassette" in by:
        return f"{by['cassette']}#{by['index']}" + (" fallback" if by.get("match") == "fallback" else "")
    found = by.get("recorded_into", by.get("missed"))
    return None if found is None else str(found)
