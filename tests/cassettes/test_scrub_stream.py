"""Keys split across a stream's events: found in the joined text and cut back onto the events."""

from __future__ import annotations

import json

from llmreplay.cassettes.model import RecordedEvent, RecordedResponse
from llmreplay.cassettes.scrub import Scrubber

KEY = "sk-" + "proj-AbCdEfGhIjKlMnOpQrStUv0123456789"


def _sse(text: str, at: int) -> RecordedEvent:
    doc = {"id": "c1", "choices": [{"index": 0, "delta": {"content": text}}]}
    return RecordedEvent(at, b"data: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n")


def _content(e: RecordedEvent) -> str:
    return json.loads(e.data.removeprefix(b"data: "))["choices"][0]["delta"]["content"]


def test_a_key_in_ten_character_deltas_is_replaced_where_it_starts() -> None:
    text = f"Your key is {KEY} ok."
    parts = [text[i : i + 10] for i in range(0, len(text), 10)]
    events = (*(_sse(p, 1000 * i) for i, p in enumerate(parts)), RecordedEvent(99_000, b"data: [DONE]\n\n"))
    out = Scrubber().response(RecordedResponse(200, (), None, events, 1, 100_000)).events
    assert out is not None and len(out) == len(events)
    assert [e.at_us for e in out] == [e.at_us for e in events]
    assert "".join(_content(e) for e in out[:-1]) == "Your key is REDACTED ok."
    assert _content(out[1]) == "s REDACTED"  # the key starts in the second delta, which keeps its own text
    assert out[0] == events[0] and out[-1] == events[-1]  # no part of the key: the same bytes
    assert not any(KEY[5:15].encode() in e.data for e in out)


def test_strings_at_different_places_are_not_joined() -> None:
    # An id and a delta are never one text: "sk-" in one and the rest in another is no key.
    a = RecordedEvent(0, b'data: {"id":"sk-","delta":"x"}\n\n')
    b = RecordedEvent(1, b'data: {"id":"y","delta":"' + KEY[3:].encode() + b'"}\n\n')
    out = Scrubber().response(RecordedResponse(200, (), None, (a, b), 1, 2)).events
    assert out == (a, b)


def test_gemini_spacing_and_json_array_streams() -> None:
    key_parts = [KEY[:10], KEY[10:25], KEY[25:]]
    lead = [b"[", b",\r\n", b",\r\n"]
    parts = [
        RecordedEvent(i, lead[i] + json.dumps({"candidates": [{"text": p}]}).encode()) for i, p in enumerate(key_parts)
    ]
    events = (*parts, RecordedEvent(9, b"]"))
    out = Scrubber().response(RecordedResponse(200, (), None, events, 1, 10)).events
    assert out is not None
    assert out[0].data == b'[{"candidates": [{"text": "REDACTED"}]}'
    assert out[1].data == b',\r\n{"candidates": [{"text": ""}]}'
    assert out[3] == events[3]


def test_a_place_holding_text_in_one_event_and_an_object_in_another_joins_only_its_texts() -> None:
    # The events' documents are walked beside one tree of places: a key whose value changes kind keeps the
    # texts it held, in order, and the places under it are their own.
    parts = [KEY[:10], KEY[10:20], KEY[20:]]
    events = (
        RecordedEvent(0, b'data: {"delta":"' + parts[0].encode() + b'"}\n\n'),
        RecordedEvent(1, b'data: {"delta":{"text":"x"}}\n\n'),
        RecordedEvent(2, b'data: {"delta":"' + parts[1].encode() + b'"}\n\n'),
        RecordedEvent(3, b'data: {"delta":"' + parts[2].encode() + b'"}\n\n'),
    )
    out = Scrubber().response(RecordedResponse(200, (), None, events, 1, 4)).events
    assert out is not None
    assert [json.loads(e.data.removeprefix(b"data: "))["delta"] for e in out] == ["REDACTED", {"text": "x"}, "", ""]
