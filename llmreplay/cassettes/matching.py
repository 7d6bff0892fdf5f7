"""Which recorded interaction answers a call: the replay index and the closest miss.

Keys come from :mod:`llmreplay.cassettes.keys`; this module files interactions under
them, hands them out in recorded order and finds the nearest recording on a miss.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import NamedTuple

from llmreplay.cassettes.differences import differences
from llmreplay.cassettes.fallback import Fallback
from llmreplay.cassettes.keys import MAX_DIFFS, Keyer, MatchConfig, RequestLike
from llmreplay.cassettes.model import Interaction
from llmreplay.providers.registry import stream_neutral_path

CLOSEST_SCAN = 200
"""Recordings a miss is compared with to name the closest (those with its method and path, else any)."""

# ---- the index -----------------------------------------------------------------


class Closest(NamedTuple):
    """The recorded request nearest to a missed call, and how it differs (unpacks as a triple)."""

    cassette: str
    interaction: Interaction
    differences: list[str]
    """At most five readable lines (``model: recorded 'gpt-4o', got 'gpt-4o-mini'``)."""


class Index:
    """Recorded interactions by match key, handed out in recorded order.

    The n-th identical call gets the n-th recording of its key; after the last,
    :attr:`MatchConfig.repeat` decides. A lock keeps the cursor right when calls
    come from several threads; under asyncio no await happens inside.
    """

    def __init__(self, items: Iterable[tuple[str, Interaction]] = (), cfg: MatchConfig | None = None) -> None:
        self.cfg = cfg or MatchConfig()
        self.keys = Keyer(self.cfg)
        self.loose = Fallback(self.cfg) if self.cfg.fallback else None
        """Recordings by conversation content, when the looser match is on."""
        self._by_key: dict[str, list[tuple[str, Interaction]]] = {}
        self._used: dict[str, int] = {}
        self._all: list[tuple[str, Interaction]] = []
        self._positions: dict[int, int] = {}
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        for name, it in items:
            self.add(name, it)

    def __len__(self) -> int:
        return len(self._all)

    def _key(self, it: Interaction) -> str:
        return self.keys.recording(it.request, verbatim=it.api is None)

    def add(self, cassette: str, interaction: Interaction) -> None:
        """Add an interaction (one loaded, or one recorded during this run)."""
        with self._lock:
            self._by_key.setdefault(self._key(interaction), []).append((cassette, interaction))
            self._all.append((cassette, interaction))
            self._positions[id(interaction)] = n = self._counts.get(cassette, 0)
            self._counts[cassette] = n + 1
        if self.loose is not None:
            self.loose.add(cassette, interaction)

    def fallback(self, call: RequestLike) -> tuple[str, Interaction] | None:
        """The latest recording of ``call``'s conversation content, when the looser match is on (nothing is
        used up: it is asked only after :meth:`find` found nothing)."""
        return None if self.loose is None else self.loose.find(call)

    def extend(self, other: Index) -> None:
        """Take in every recording of ``other`` under the keys it already computed, with its positions: a
        cassette loaded at run time joins the index of all without its keys being computed twice."""
        with other._lock:
            keyed = [(key, entry) for key, entries in other._by_key.items() for entry in entries]
            ordered = list(other._all)
            positions, counts = dict(other._positions), dict(other._counts)
        with self._lock:
            self.keys.absorb(other.keys)
            if self.loose is not None and other.loose is not None:
                self.loose.absorb(other.loose)
            for key, entry in keyed:
                self._by_key.setdefault(key, []).append(entry)
            self._all.extend(ordered)
            self._positions.update(positions)
            self._counts.update(counts)

    def discard(self, cassette: str) -> None:
        """Let go of every recording of ``cassette`` (unloaded, or about to be reloaded); the keys it shared with
        other cassettes start again from their first recording."""
        with self._lock:
            for key in [k for k, entries in self._by_key.items() if any(n == cassette for n, _ in entries)]:
                kept = [e for e in self._by_key[key] if e[0] != cassette]
                if kept:
                    self._by_key[key] = kept
                else:
                    del self._by_key[key]
                self._used.pop(key, None)
            for name, it in self._all:
                if name == cassette:
                    self._positions.pop(id(it), None)
            self._all = [e for e in self._all if e[0] != cassette]
            self._counts.pop(cassette, None)
            if self.loose is not None:
                self.loose.forget(cassette)

    def recordings(self) -> list[Interaction]:
        """Every recording, in the order added."""
        with self._lock:
            return [it for _, it in self._all]

    def position(self, interaction: Interaction) -> int:
        """Where ``interaction`` is in its cassette (0 for the first recording), for the journal."""
        return self._positions.get(id(interaction), -1)

    def reset(self) -> None:
        """Rewind: the next call of every key gets its first recording again."""
        with self._lock:
            self._used.clear()

    def _take(self, key: str) -> tuple[str, Interaction] | None:
        found = self._next(key)
        if found is None:
            return None
        self._used[key], entry = found
        return entry

    def lookup_named(self, call: RequestLike, verbatim: bool | None = None) -> tuple[str, Interaction] | None:
        """The next recording for ``call`` with its cassette's name, used up, or None (:meth:`find` then
        :meth:`play`).

        ``verbatim`` None tries the codec key first and then the exact one, for
        callers that do not know whether a codec owns the path.
        """
        key = self.find(call, verbatim)
        return None if key is None else self.play(key)

    def lookup(self, call: RequestLike, verbatim: bool | None = None) -> Interaction | None:
        found = self.lookup_named(call, verbatim)
        return None if found is None else found[1]

    def find(self, call: RequestLike, verbatim: bool | None = None) -> str | None:
        """The key of the recording ``call`` would get, without using it up (vcrpy's ``can_play_response_for``):
        a request that is then refused (a rate limit, an injected fault) leaves every cursor where it was."""
        keys = self.keys.candidates(call, verbatim)
        with self._lock:
            return next((key for key in keys if self._next(key) is not None), None)

    def play(self, key: str) -> tuple[str, Interaction] | None:
        """Use up the recording :meth:`find` named (vcrpy's ``play_response``); None if another call took the
        last one in between."""
        with self._lock:
            return self._take(key)

    def _next(self, key: str) -> tuple[int, tuple[str, Interaction]] | None:
        """What :meth:`_take` hands out for ``key``, and the cursor after it; None when there is nothing."""
        entries = self._by_key.get(key)
        if not entries:
            return None
        n = self._used.get(key, 0)
        if n < len(entries):
            return n + 1, entries[n]
        if self.cfg.repeat == "last":
            return n, entries[-1]
        if self.cfg.repeat == "cycle":
            return n + 1, entries[n % len(entries)]
        return None

    def closest(self, call: RequestLike) -> Closest | None:
        """The recorded request with the fewest differences, preferring the call's method and path."""
        with self._lock:
            items = list(self._all)
        if not items:
            return None
        path = stream_neutral_path(call.path)
        same = [
            (n, it)
            for n, it in items
            if it.request.method.upper() == call.method.upper() and stream_neutral_path(it.request.path) == path
        ]
        best: tuple[int, str, Interaction, list[str]] | None = None
        # The latest recordings first, and only so many: each comparison builds the recording's view, and a miss
        # among 10,000 recordings held the loop 0.2-0.5 s for an error message.
        for name, it in (same or items)[-CLOSEST_SCAN:]:
            diffs = differences(it.request, call, self.cfg, verbatim=it.api is None)
            if best is None or len(diffs) < best[0]:
                best = (len(diffs), name, it, diffs)
        assert best is not None
        return Closest(best[1], best[2], best[3][:MAX_DIFFS])
