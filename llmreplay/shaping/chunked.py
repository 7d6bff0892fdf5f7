"""HTTP/1.1 chunked transfer coding of one write, shared by the scheduler's streams and the proxy's relay."""

from __future__ import annotations

_SIZE_LINES = tuple(b"%x\r\n" % n for n in range(4096))
"""Chunk size lines for the frame sizes of nearly every stream, shared rather than formatted per frame."""


def chunk(data: bytes) -> tuple[bytes, bytes, bytes]:
    """The size line and the end of the chunk around ``data``'s own bytes, not a copy of them (a held stream
    keeps its frames until sent)."""
    n = len(data)
    return (_SIZE_LINES[n] if n < 4096 else b"%x\r\n" % n, data, b"\r\n")
