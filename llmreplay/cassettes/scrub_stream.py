"""Keys that only show once a stream's text is joined: a streamed answer cuts its text into deltas (ten
characters each by default), so a key in it is split across events that each look clean.

Each event's JSON (an SSE ``data:`` line, an NDJSON line, a JSON-array stream's element) is read, and the
strings found at the same place in successive events (``choices.0.delta.content``, ``delta.text``,
``candidates.0.content.parts.0.text`` …) are joined, as a client joins them, and searched whole. A match is
cut back onto the events it spans: the placeholder goes where it starts, and the rest of it is taken out of
the events it runs on into, so every event keeps its place and its time. Only events that held part of a key
are written again.
"""

from __future__ import annotations

import itertools
import json
from array import array
from collections.abc import Callable
from typing import Any

import orjson

from llmreplay.cassettes.model import RecordedEvent

Find = Callable[[str], list[tuple[int, int]]]
"""The scrubber's search: the spans of keys in a text."""
Place = tuple[str | int, ...]
"""Where a string sits in an event's JSON document."""


class _Node:
    """One place of the events' documents: the strings found there, in the order of their events, those events'
    indexes, and the places under it by key. The events of a stream share their shape, so walking each document
    beside this tree finds a string's place with one lookup by its key, where a tuple of the whole path would be
    built and hashed again for every string."""

    __slots__ = ("at", "kids", "texts", "where")

    def __init__(self, at: Place) -> None:
        self.at = at
        self.kids: dict[str | int, _Node] = {}
        self.texts: list[str] = []
        self.where: array[int] = array("q")


def scrub_joined(events: tuple[RecordedEvent, ...], find: Find, placeholder: str) -> tuple[RecordedEvent, ...]:
    """``events`` with every key that spans several of them replaced.

    Only the strings are kept while the events are read, each place's texts in one list and their events'
    indexes in a machine-word array; the few events a key ran through are read again to be rewritten. Keeping
    every event's parsed document took some 12 times the stream's size (a 60 MiB stream: ~700 MiB)."""
    root = _Node(())
    places: list[_Node] = []
    for i, e in enumerate(events):
        doc = _doc(e.data)
        if doc is not None:
            _collect(doc[0], i, root, places)
    changed: dict[int, list[tuple[Place, str]]] = {}
    for node in places:
        place, texts, where = node.at, node.texts, node.where
        if len(texts) < 2:
            continue  # one event's own string: the per-event scrub has seen it whole
        spans = _merged(find("".join(texts)))
        if not spans:
            continue
        # The texts and the spans both run in order: one pass over each, however many of either (a long stream
        # of digits can hold a number's span every few events).
        offset, first = 0, 0
        for i, text in zip(where, texts, strict=True):
            end = offset + len(text)
            while first < len(spans) and spans[first][1] <= offset:
                first += 1
            if first < len(spans) and spans[first][0] < end:
                new = _cut(text, offset, spans, first, placeholder)
                if new != text:
                    changed.setdefault(i, []).append((place, new))
            offset = end
    if not changed:
        return events
    out = list(events)
    for i, edits in changed.items():
        data = events[i].data
        found = _doc(data)
        assert found is not None  # it was read the first time
        doc, a, b = found
        for place, new in edits:
            _set(doc, place, new)
        old = data[a:b]
        spaced = b'": ' in old
        body = json.dumps(doc, ensure_ascii=b"\\u" in old, separators=(", ", ": ") if spaced else (",", ":")).encode()
        out[i] = RecordedEvent(events[i].at_us, data[:a] + body + data[b:])
    return tuple(out)


def _doc(data: bytes) -> tuple[Any, int, int] | None:
    """The JSON document in an event (an SSE ``data:`` line, an NDJSON line, an array element) and where it
    starts and ends; None when it holds none."""
    a, b = data.find(b"{"), data.rfind(b"}")
    if a < 0 or b < a:
        return None
    try:
        return orjson.loads(data[a : b + 1]), a, b + 1
    except orjson.JSONDecodeError:
        return None


def _collect(doc: dict[str, Any], i: int, root: _Node, places: list[_Node]) -> None:
    """Add every string in event ``i``'s document to its place's run (``places`` gains each place as it is first
    seen). A loop, not recursion (a document may nest as deep as orjson reads, past Python's recursion limit),
    adding straight into the runs: this runs for every event of every recorded stream."""
    stack: list[tuple[_Node, Any]] = [(root, doc)]
    while stack:
        node, value = stack.pop()
        kids = node.kids
        for k, v in value.items() if type(value) is dict else enumerate(value):
            kind = type(v)
            if kind is not str and kind is not dict and kind is not list:
                continue  # a number, a boolean or null: nothing to join
            kid = kids.get(k)
            if kid is None:
                kid = kids[k] = _Node((*node.at, k))
            if kind is str:
                if not kid.texts:
                    places.append(kid)
                kid.texts.append(v)
                kid.where.append(i)
            else:
                stack.append((kid, v))


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` in order, those that overlap made one."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def _cut(text: str, offset: int, spans: list[tuple[int, int]], first: int, placeholder: str) -> str:
    """``text`` (at ``offset`` in the joined text) without the parts of ``spans`` (in order, apart, from index
    ``first`` on) it holds; the placeholder where a span starts."""
    end = offset + len(text)
    parts: list[str] = []
    pos = 0
    for s, e in itertools.islice(spans, first, None):
        if s >= end:
            break
        ls, le = max(s - offset, 0), min(e - offset, len(text))
        parts.append(text[pos:ls])
        if s >= offset:
            parts.append(placeholder)
        pos = le
    parts.append(text[pos:])
    return "".join(parts)


def _set(doc: Any, place: Place, value: str) -> None:
    node = doc
    for k in place[:-1]:
        node = node[k]
    node[place[-1]] = value
