"""The incremental event splitter: boundaries independent of network chunking, bytes kept exactly."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmreplay.cassettes.splitter import EventSplitter, split_body, split_chunks, split_mode
from llmreplay.sources.capture import is_stream
from llmreplay.sse import parse_sse
from tests.real_fixtures import REAL


def _streams() -> list[tuple[str, bytes, str]]:
    out: list[tuple[str, bytes, str]] = []
    for f in sorted(REAL.glob("*/*.json")):
        d = json.loads(f.read_text())
        if not d.get("stream"):
            continue
        headers = d["response"]["headers"]
        items = headers.items() if isinstance(headers, dict) else headers
        ct = next((v for k, v in items if k.lower() == "content-type"), "text/event-stream")
        ct = ct[0] if isinstance(ct, list) else ct
        out.append((f.name, d["response"]["body_text"].encode(), ct))
    return out


STREAMS = _streams()
GEMINI_ARRAY = b'[{"candidates": [{"text": "a]}\\"["}]}\n,\r\n{"candidates": []}\n,\r\n{"usage": {"n": [1, 2]}}\n]'


def _chunked(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    edges = [0, *points, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(edges) if b > a]


def _run(body: bytes, ct: str, chunks: list[bytes]) -> list[tuple[int, bytes]]:
    s = EventSplitter(ct)
    out = []
    for i, chunk in enumerate(chunks):
        out += s.feed(chunk, i + 1)
    out += s.finish(len(chunks) + 1)
    return [(e.at_us, e.data) for e in out]


def test_real_streams_found() -> None:
    assert len(STREAMS) >= 30


@pytest.mark.parametrize(("name", "body", "ct"), STREAMS, ids=[s[0] for s in STREAMS])
def test_real_sse_events_match_the_parser(name: str, body: bytes, ct: str) -> None:
    events = split_body(body, ct)
    assert b"".join(e.data for e in events) == body
    if split_mode(ct) == "sse":
        parsed = [e.raw for e in parse_sse(body)]
        assert [e.data for e in events][: len(parsed)] == parsed
        assert len(events) >= 1


@settings(max_examples=150, deadline=None)
@given(idx=st.integers(0, 10_000), cuts=st.lists(st.integers(0, 200_000), max_size=40), data=st.data())
def test_any_chunking_gives_the_same_events(idx: int, cuts: list[int], data: st.DataObject) -> None:
    _name, body, ct = STREAMS[idx % len(STREAMS)]
    # Also cut densely near the start, where small real events are.
    cuts = cuts + data.draw(st.lists(st.integers(0, min(len(body), 2000)), max_size=30))
    whole = [d for _, d in _run(body, ct, [body])]
    events = _run(body, ct, _chunked(body, cuts))
    assert b"".join(d for _, d in events) == body
    assert [d for _, d in events] == whole
    times = [t for t, _ in events]
    assert times == sorted(times)


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, len(GEMINI_ARRAY)), max_size=20))
def test_json_array_chunking(cuts: list[int]) -> None:
    events = _run(GEMINI_ARRAY, "application/json; charset=UTF-8", _chunked(GEMINI_ARRAY, cuts))
    assert [d for _, d in events] == [
        b'[{"candidates": [{"text": "a]}\\"["}]}',
        b'\n,\r\n{"candidates": []}',
        b'\n,\r\n{"usage": {"n": [1, 2]}}',
        b"\n]",
    ]


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, 60), max_size=20))
def test_odd_separators(cuts: list[int]) -> None:
    body = b"data: a\r\n\r\n\r\ndata: b\r\rdata: c\n\n: ping\n\ndata: d  \n\ndata: tail"
    events = [d for _, d in _run(body, "text/event-stream", _chunked(body, cuts))]
    assert events == [
        b"data: a\r\n\r\n",
        b"\r\ndata: b\r\r",
        b"data: c\n\n",
        b": ping\n\n",
        b"data: d  \n\n",
        b"data: tail",
    ]


_SSE_PIECES = [b"data: a", b'data: {"x": [1, 2]}', b": ping", b"event: e", b"data:", b"id: 7", b"", b"", b"da"]


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(st.sampled_from(_SSE_PIECES), max_size=30),
    crlf=st.lists(st.booleans(), max_size=30),
    with_cr=st.booleans(),
    tail=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
def test_whole_body_split_is_the_incremental_one(
    lines: list[bytes], crlf: list[bool], with_cr: bool, tail: bool, cuts: list[int]
) -> None:
    # Blank lines in runs, before the first field and at the end, comments, a field cut short at the end;
    # half the bodies with some CRLF ends (which send them through the incremental splitter).
    ends = [b"\r\n" if with_cr and i < len(crlf) and crlf[i] else b"\n" for i in range(len(lines))]
    body = b"".join(line + end for line, end in zip(lines, ends, strict=True))
    body += b"data: unfinished" if tail else b""
    chunks = _chunked(body, cuts)
    arrivals = [10 * (i + 1) for i in range(len(chunks))]
    got = [(e.at_us, e.data) for e in split_chunks(chunks, arrivals, "text/event-stream", 999)]
    s = EventSplitter("text/event-stream")
    want = []
    for chunk, at in zip(chunks, arrivals, strict=True):
        want += [(e.at_us, e.data) for e in s.feed(chunk, at)]
    want += [(e.at_us, e.data) for e in s.finish(999)]
    assert got == want


def test_whole_body_split_of_real_streams() -> None:
    for _name, body, ct in STREAMS:
        chunks = _chunked(body, list(range(0, len(body), 97)))
        arrivals = list(range(1, len(chunks) + 1))
        s = EventSplitter(ct)
        want = [e for c, at in zip(chunks, arrivals, strict=True) for e in s.feed(c, at)] + s.finish(0)
        assert split_chunks(chunks, arrivals, ct, 0) == want


def test_event_time_is_when_its_last_byte_arrived() -> None:
    s = EventSplitter("text/event-stream")
    assert s.feed(b"data: 1\n", 10) == []
    first = s.feed(b"\ndata: 2\n\nda", 20)
    assert [(e.at_us, e.data) for e in first] == [(20, b"data: 1\n\n"), (20, b"data: 2\n\n")]
    assert [(e.at_us, e.data) for e in s.finish(30)] == [(30, b"da")]


def test_trailing_blank_lines_are_kept() -> None:
    assert b"".join(e.data for e in split_body(b"data: 1\n\n\n\n")) == b"data: 1\n\n\n\n"


def test_other_bodies_one_event_per_chunk() -> None:
    s = EventSplitter("text/plain")
    assert [(e.at_us, e.data) for e in s.feed(b"ab", 1) + s.feed(b"", 2) + s.feed(b"c", 3) + s.finish(4)] == [
        (1, b"ab"),
        (3, b"c"),
    ]


def test_ndjson_lines() -> None:
    s = EventSplitter("application/x-ndjson")
    out = s.feed(b'{"a":1}\n{"b"', 1) + s.feed(b":2}\n", 2) + s.finish(3)
    assert [(e.at_us, e.data) for e in out] == [(1, b'{"a":1}\n'), (2, b'{"b":2}\n')]


def test_is_stream() -> None:
    assert is_stream("text/event-stream; charset=utf-8", "/v1/chat/completions")
    assert is_stream("application/json; charset=UTF-8", "/v1beta/models/gemini-2.5-flash:streamGenerateContent")
    assert not is_stream("application/json", "/v1/chat/completions")
    assert not is_stream("application/json", "/v1beta/models/gemini-2.5-flash:generateContent")
