"""Server-sent events and Gemini's JSON-array stream: encoding and incremental parsing.

The parsers have ``feed()``/``flush()`` and do no I/O, so they serve the codecs,
the recorder (which sees bytes as they arrive) and tests alike. Each parsed event
keeps its raw bytes so a replay can write exactly what was recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event."""

    event: str | None
    """The ``event:`` field, if any."""
    data: str
    """The ``data:`` lines joined with newlines."""
    raw: bytes
    """The event's bytes exactly as they were, separator included."""

    def json(self) -> Any:
        return json.loads(self.data)

    def json_or_none(self) -> Any:
        """The data as JSON; None when it is empty or not JSON (recorded streams hold both)."""
        if not self.data.strip():
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def encode_sse(data: str | bytes, event: str | None = None, sep: bytes = b"\n\n") -> bytes:
    """One event: optional ``event:`` line, one ``data:`` line, then ``sep``."""
    payload = data.encode() if isinstance(data, str) else data
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"data: " + payload + sep


class SSEParser:
    """Incremental SSE parser (WHATWG rules: LF, CR or CRLF line ends; a blank line ends an event)."""

    def __init__(self) -> None:
        self._buf = b""
        self._raw = bytearray()
        self._event: str | None = None
        self._data: list[str] = []
        self._has_field = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buf = self._buf + chunk if self._buf else bytes(chunk)
        out: list[SSEEvent] = []
        pos = 0
        while True:
            line, end = _next_line(buf, pos)
            if line is None:
                break
            self._raw += buf[pos:end]
            pos = end
            ev = self._line(line)
            if ev is not None:
                out.append(ev)
        self._buf = buf[pos:] if pos else buf
        return out

    def flush(self) -> list[SSEEvent]:
        """End of stream: a trailing event with no blank line after it still counts."""
        out: list[SSEEvent] = []
        if self._buf:
            self._raw += self._buf
            ev = self._line(self._buf.decode("utf-8", "replace"))
            self._buf = b""
            if ev is not None:
                out.append(ev)
        if self._has_field:
            out.append(self._emit())
        return out

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._emit() if self._has_field else self._drop_blank()
        if line.startswith(":"):
            self._has_field = True
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        self._has_field = True
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _drop_blank(self) -> None:
        # Extra blank lines between events belong to the previous event's raw bytes
        # in spirit, but keeping them with the next one is harmless and simpler.
        return None

    def _emit(self) -> SSEEvent:
        ev = SSEEvent(self._event, "\n".join(self._data), bytes(self._raw))
        self._raw.clear()
        self._event = None
        self._data = []
        self._has_field = False
        return ev


def _next_line(buf: bytes, pos: int) -> tuple[str | None, int]:
    """The line starting at ``pos`` and where the next one starts; (None, 0) until its end has arrived."""
    lf = buf.find(b"\n", pos)
    # A CR only matters before the first LF; searching up to it keeps this linear in the buffer.
    cr = buf.find(b"\r", pos, lf if lf >= 0 else len(buf))
    if cr < 0:
        if lf < 0:
            return None, 0
        return buf[pos:lf].decode("utf-8", "replace"), lf + 1
    if cr + 1 == len(buf):
        return None, 0  # wait: this CR may be half of a CRLF
    end = cr + 2 if buf[cr + 1] == 0x0A else cr + 1
    return buf[pos:cr].decode("utf-8", "replace"), end


def parse_sse(body: bytes) -> list[SSEEvent]:
    """All events of a complete SSE body."""
    p = SSEParser()
    return p.feed(body) + p.flush()


class JSONArrayParser:
    """Incremental parser of a streamed JSON array (``[{…}\\n,\\r\\n{…}]``): yields each element's bytes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._depth = 0
        self._in_str = False
        self._esc = False
        self._start = -1
        self._pos = 0
        self._opened = False

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buf += chunk
        out: list[bytes] = []
        buf = self._buf
        i = self._pos
        while i < len(buf):
            c = buf[i]
            if self._in_str:
                if self._esc:
                    self._esc = False
                elif c == 0x5C:
                    self._esc = True
                elif c == 0x22:
                    self._in_str = False
            elif c == 0x22:
                self._in_str = True
            elif c in (0x7B, 0x5B):  # { [
                if not self._opened and c == 0x5B:
                    self._opened = True
                else:
                    if self._depth == 0:
                        self._start = i
                    self._depth += 1
            elif c in (0x7D, 0x5D) and self._depth > 0:  # } ]
                self._depth -= 1
                if self._depth == 0:
                    out.append(bytes(buf[self._start : i + 1]))
                    self._start = -1
            i += 1
        # Drop what has been consumed so memory stays bounded on long streams.
        keep = self._start if self._start >= 0 else i
        del buf[:keep]
        self._pos = i - keep
        if self._start >= 0:
            self._start = 0
        return out

    def flush(self) -> list[bytes]:
        return []


def parse_json_array_stream(body: bytes) -> list[bytes]:
    p = JSONArrayParser()
    return p.feed(body) + p.flush()
