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

import json
from collections.abc import Callable
from typing import Any

import orjson

from llmreplay.cassettes.model import RecordedEvent

Find = Callable[[str], list[tuple[int, int]]]
"""The scrubber's search: the spans of keys in a text."""
Place = tuple[str | int, ...]
"""Where a string sits in an event's JSON document."""


def scrub_joined(events: tuple[RecordedEvent, ...], find: Find, placeholder: str) -> tuple[RecordedEvent, ...]:
    """``events`` with every key that spans several of them replaced."""
    docs: dict[int, tuple[Any, int, int]] = {}
    pieces: dict[Place, list[tuple[int, str]]] = {}
    for i, e in enumerate(events):
        a, b = e.data.find(b"{"), e.data.rfind(b"}")
        if a < 0 or b < a:
            continue
        try:
            doc = orjson.loads(e.data[a : b + 1])
        except orjson.JSONDecodeError:
            continue
        docs[i] = (doc, a, b + 1)
        for place, text in _strings(doc):
            pieces.setdefault(place, []).append((i, text))
    changed: dict[int, list[tuple[Place, str]]] = {}
    for place, run in pieces.items():
        if len(run) < 2:
            continue  # one event's own string: the per-event scrub has seen it whole
        spans = find("".join(text for _, text in run))
        if not spans:
            continue
        offset = 0
        for i, text in run:
            new = _cut(text, offset, spans, placeholder)
            if new != text:
                changed.setdefault(i, []).append((place, new))
            offset += len(text)
    if not changed:
        return events
    out = list(events)
    for i, edits in changed.items():
        doc, a, b = docs[i]
        for place, new in edits:
            _set(doc, place, new)
        old = events[i].data[a:b]
        spaced = b'": ' in old
        body = json.dumps(doc, ensure_ascii=b"\\u" in old, separators=(", ", ": ") if spaced else (",", ":")).encode()
        out[i] = RecordedEvent(events[i].at_us, events[i].data[:a] + body + events[i].data[b:])
    return tuple(out)


def _strings(doc: Any) -> list[tuple[Place, str]]:
    """Every string in ``doc`` with its place (a loop, not a recursive generator: this runs for every event
    of every recorded stream, and the generator's frames cost three quarters of the scrub)."""
    out: list[tuple[Place, str]] = []
    stack: list[tuple[Place, Any]] = [((), doc)]
    while stack:
        place, node = stack.pop()
        if type(node) is str:
            out.append((place, node))
        elif type(node) is dict:
            stack.extend(((*place, k), v) for k, v in node.items() if type(v) in _NESTED)
        elif type(node) is list:
            stack.extend(((*place, k), v) for k, v in enumerate(node) if type(v) in _NESTED)
    return out


_NESTED = (str, dict, list)


def _cut(text: str, offset: int, spans: list[tuple[int, int]], placeholder: str) -> str:
    """``text`` (at ``offset`` in the joined text) without the parts of ``spans`` it holds; the placeholder
    where a span starts."""
    end = offset + len(text)
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        if e <= offset or s >= end:
            continue
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
