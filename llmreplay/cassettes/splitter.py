"""Cut a response body into recorded events as its bytes arrive.

The recorder feeds every network chunk with its arrival offset; events come out
as soon as their last byte is in, so each one's ``at_us`` is when a client could
first have acted on it. Boundaries depend only on the bytes, never on how the
network chunked them, and the events' bytes joined are the input exactly
(separators, padding and stray blank lines included).

- SSE (``text/event-stream``): cut after the blank line that ends an event, by
  the rules of :class:`llmreplay.sse.SSEParser` (LF, CR or CRLF line ends).
- JSON-array stream (Gemini without ``alt=sse``): cut right after each top-level
  element's closing brace, so the element's time is when it became complete; the
  separator (``\\n,\\r\\n``) that follows arrives with the next element and goes
  with it, the opening ``[`` with the first, the closing ``]`` is its own event.
- NDJSON (Ollama's native API): cut after each newline.
- AWS event stream (``application/vnd.amazon.eventstream``, Bedrock): cut after each binary message, whose
  length its first four bytes give.
- Anything else: one event per network chunk.

Bytes still held at :meth:`EventSplitter.finish` become a final event.

The recording proxy keeps chunks with their arrival times and cuts them once the body is over
(:func:`split_chunks`), which gives the same events as feeding them one by one.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Literal

from llmreplay.cassettes.model import RecordedEvent
from llmreplay.eventstream import message_ends
from llmreplay.sse import SSEParser

Mode = Literal["sse", "json", "ndjson", "eventstream", "chunk"]

_event: Callable[[tuple[int, bytes]], RecordedEvent] = functools.partial(tuple.__new__, RecordedEvent)
"""A :class:`RecordedEvent` from ``(at_us, data)`` without the named tuple's generated ``__new__`` (a Python
call), for the loop that cuts every recorded stream (as ``model.frame_of`` does for frames)."""


def split_mode(content_type: str) -> Mode:
    """How a body of this content type is cut into events."""
    ct = content_type.split(";", 1)[0].strip().lower()
    if ct == "text/event-stream":
        return "sse"
    if ct in ("application/x-ndjson", "application/jsonl", "application/jsonlines"):
        return "ndjson"
    if ct == "application/vnd.amazon.eventstream":
        return "eventstream"
    if ct == "application/json" or ct.endswith("+json"):
        return "json"
    return "chunk"


class _JSONCutter:
    """Byte scanner for a streamed JSON array: offsets just after each complete top-level value."""

    def __init__(self) -> None:
        self._depth = 0
        self._base = -1  # 1 inside an outer array, 0 for bare top-level values; -1 before the first byte
        self._in_str = False
        self._esc = False

    def scan(self, data: bytes | bytearray, start: int) -> list[int]:
        cuts: list[int] = []
        depth, base, in_str, esc = self._depth, self._base, self._in_str, self._esc
        for i in range(start, len(data)):
            c = data[i]
            if in_str:
                if esc:
                    esc = False
                elif c == 0x5C:  # backslash
                    esc = True
                elif c == 0x22:
                    in_str = False
                continue
            if c == 0x22:
                in_str = True
            elif c == 0x7B or c == 0x5B:  # { [
                if base < 0:
                    base = 1 if c == 0x5B else 0
                depth += 1
            elif (c == 0x7D or c == 0x5D) and depth > 0:  # } ]
                depth -= 1
                if depth == base or depth == 0:
                    cuts.append(i + 1)
            elif base < 0 and c not in b" \t\r\n":
                base = 0
        self._depth, self._base, self._in_str, self._esc = depth, base, in_str, esc
        return cuts


class EventSplitter:
    """Incremental splitter of a streamed body into :class:`RecordedEvent`."""

    def __init__(self, content_type: str = "text/event-stream", mode: Mode | None = None) -> None:
        self.mode: Mode = mode or split_mode(content_type)
        self._pending = bytearray()
        self._sse = SSEParser() if self.mode == "sse" else None
        self._json = _JSONCutter() if self.mode == "json" else None

    def feed(self, chunk: bytes, at_us: int) -> list[RecordedEvent]:
        if not chunk:
            return []
        if self.mode == "chunk":
            return [RecordedEvent(at_us, bytes(chunk))]
        scanned = len(self._pending)
        self._pending += chunk
        if self._sse is not None:
            return self._take([len(ev.raw) for ev in self._sse.feed(chunk)], at_us)
        if self._json is not None:
            return self._cut_at(self._json.scan(self._pending, scanned), at_us)
        if self.mode == "eventstream":
            return self._cut_at(message_ends(self._pending), at_us)
        cuts: list[int] = []
        i = self._pending.find(b"\n", scanned)
        while i >= 0:
            cuts.append(i + 1)
            i = self._pending.find(b"\n", i + 1)
        return self._cut_at(cuts, at_us)

    def finish(self, at_us: int) -> list[RecordedEvent]:
        """End of body: events the separator never came for, then any leftover bytes."""
        out: list[RecordedEvent] = []
        if self._sse is not None:
            out = self._take([len(ev.raw) for ev in self._sse.flush()], at_us)
        if self._pending:
            out.append(RecordedEvent(at_us, bytes(self._pending)))
            self._pending.clear()
        return out

    def _take(self, sizes: list[int], at_us: int) -> list[RecordedEvent]:
        out: list[RecordedEvent] = []
        pos = 0
        for size in sizes:
            # The parser's raw spans tile its input, which is exactly what is pending here.
            out.append(RecordedEvent(at_us, bytes(self._pending[pos : pos + size])))
            pos += size
        del self._pending[:pos]
        return out

    def _cut_at(self, cuts: list[int], at_us: int) -> list[RecordedEvent]:
        out: list[RecordedEvent] = []
        prev = 0
        for cut in cuts:
            out.append(RecordedEvent(at_us, bytes(self._pending[prev:cut])))
            prev = cut
        del self._pending[:prev]
        return out


def split_body(body: bytes, content_type: str = "text/event-stream", at_us: int = 0) -> list[RecordedEvent]:
    """A complete body's events, all at ``at_us`` (imports and tests)."""
    return split_chunks([body], [at_us], content_type, at_us)


def split_chunks(
    chunks: Sequence[bytes], arrivals: Sequence[int], content_type: str, end_us: int
) -> list[RecordedEvent]:
    """The events of a finished body that came in as ``chunks`` at ``arrivals`` (µs): what feeding them one by
    one to an :class:`EventSplitter` and finishing it at ``end_us`` gives, each event at the arrival of the
    chunk that held its last byte.

    An SSE body with no CR in it, nearly every one, is cut with ``bytes.find`` over the whole body: an event
    ends at the first blank line after a line that is not blank. Anything else goes through the splitter.
    """
    body = b"".join(chunks)
    if split_mode(content_type) != "sse" or b"\r" in body:
        splitter = EventSplitter(content_type)
        out: list[RecordedEvent] = []
        for chunk, at_us in zip(chunks, arrivals, strict=True):
            out += splitter.feed(chunk, at_us)
        return out + splitter.finish(end_us)
    ends = list(accumulate(len(c) for c in chunks))
    out = []
    start = 0
    size = len(body)
    while True:
        text = start
        while text < size and body[text] == 0x0A:
            text += 1  # blank lines before an event's first field go with that event
        blank = body.find(b"\n\n", text)
        if blank < 0:
            break
        cut = blank + 2
        out.append(_event((arrivals[bisect_left(ends, cut)], body[start:cut])))
        start = cut
    if start < size:
        out.append(RecordedEvent(end_us, body[start:]))  # an unfinished event, or blank lines after the last
    return out
