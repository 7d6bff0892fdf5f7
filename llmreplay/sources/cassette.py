"""The cassette source: answers a call from the recordings in play, each used up only when it is played."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmreplay.cassettes.matching import Index
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call
from llmreplay.sources.base import Play
from llmreplay.sources.replay import ReplaySource, Timing, count_tokens, render

Notify = Callable[..., Any]
"""Where hits and misses are told (the event hub's ``publish``: ``notify(kind, **fields)``)."""


class CassetteSource:
    name = "cassette"

    def __init__(
        self, index: Index, names: list[str], speed: float, timing: Timing, notify: Notify | None = None
    ) -> None:
        self.index = index
        self.replay = ReplaySource(index)
        self.names = names
        """The cassettes loaded, for the miss error."""
        self.speed = speed
        self.timing: Timing = timing
        self.notify = notify

    def find(self, ex: Exchange) -> Play | None:
        call, route = ex.call, ex.route
        key = self.index.find(call)
        if key is None:
            if self.notify is not None:
                self.notify("cassette.miss", endpoint=route.endpoint, path=call.path)
            return None

        async def play() -> Answer:
            found = self.index.play(key)
            if found is None:  # another call took the last recording between find and play
                raise self.miss_error(call, verbatim=ex.verbatim)
            if self.notify is not None:
                self.notify("cassette.hit", endpoint=route.endpoint)
            ex.answered_by = {"cassette": found[0], "index": self.index.position(found[1])}
            count_tokens(ex, found[1])
            shaped_by = None if ex.verbatim else route
            return render(found[1], shaped_by, ex.request, ex.opts, self.speed, self.timing)

        return play

    def miss_error(self, call: Call, verbatim: bool = False) -> ApiError:
        """What a call no recording matches gets: the closest recording and how it differs. A path no codec
        knows is a 404, as the provider would have answered an unknown path."""
        err = self.replay.miss_error(call, self.names)
        if verbatim:
            err.kind = ErrorKind.NOT_FOUND
        return err
