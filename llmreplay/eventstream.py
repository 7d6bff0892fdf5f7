"""AWS's binary event-stream framing (``application/vnd.amazon.eventstream``), as Bedrock streams in it.

A message is a 12-byte prelude (total length, headers length, both big-endian uint32, and the CRC32 of those
eight bytes), the headers, the payload and the CRC32 of everything before it. A header is its name's length
(one byte), the name, a type byte and the value; we write only strings (type 7: a uint16 length, then the bytes),
which is all Bedrock sends. botocore's ``EventStreamBuffer`` reads what :func:`message` writes
(``tests/test_eventstream.py`` checks it, in-stream exceptions included).

A stream writes one message per chunk, so the headers of each event type are encoded once
(:func:`event_prefix`), and a message costs two ``struct.pack`` calls and two CRCs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from functools import cache

CONTENT_TYPE = "application/vnd.amazon.eventstream"

_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_STRING = 7
_PRELUDE_LEN = 12
_OVERHEAD = _PRELUDE_LEN + 4
_MAX_MESSAGE = 16 * 1024 * 1024
"""The framing's own bound on a message; botocore refuses longer ones."""


def encode_headers(headers: tuple[tuple[str, str], ...]) -> bytes:
    """String headers (type 7) in order."""
    out = bytearray()
    for name, value in headers:
        n, v = name.encode(), value.encode()
        if len(n) > 255 or len(v) > 0xFFFF:
            raise ValueError(f"event-stream header {name!r} is too long")
        out += bytes((len(n),)) + n + bytes((_STRING,)) + len(v).to_bytes(2, "big") + v
    return bytes(out)


def message(headers: bytes, payload: bytes) -> bytes:
    """One message around already-encoded ``headers`` and ``payload``, both CRCs computed here."""
    total = _OVERHEAD + len(headers) + len(payload)
    if total > _MAX_MESSAGE:
        raise ValueError(f"event-stream message of {total} bytes is over the 16 MiB limit")
    prelude = _PRELUDE.pack(total, len(headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude)) + headers
    return b"".join((head, payload, _CRC.pack(zlib.crc32(payload, zlib.crc32(head)))))


@cache
def event_prefix(event_type: str) -> bytes:
    """The encoded headers of a JSON ``event`` message of ``event_type`` (cached: a stream repeats a handful)."""
    return encode_headers(
        ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event"))
    )


@cache
def exception_prefix(exception_type: str) -> bytes:
    """The encoded headers of an ``exception`` message (``modelStreamErrorException``, ``throttlingException`` …)."""
    return encode_headers(
        ((":exception-type", exception_type), (":content-type", "application/json"), (":message-type", "exception"))
    )


def event(event_type: str, payload: bytes) -> bytes:
    """A JSON event message."""
    return message(event_prefix(event_type), payload)


def exception(exception_type: str, payload: bytes) -> bytes:
    """An exception message: botocore raises it as an ``EventStreamError`` named ``exception_type``."""
    return message(exception_prefix(exception_type), payload)


def garble(data: bytes) -> bytes | None:
    """The first message of ``data`` with its payload cut in half (no longer JSON) and both CRCs right: a client
    sees a bad event, never a bad frame. None when ``data`` does not start with a whole message."""
    try:
        _, payload, raw = next(split(data[: _PRELUDE.unpack_from(data)[0]]))
    except (ValueError, StopIteration, struct.error):
        return None
    headers = raw[_PRELUDE_LEN : len(raw) - 4 - len(payload)]
    return message(headers, payload[: max(1, len(payload) // 2)]) + data[len(raw) :]


# ---- reading (recorded streams) -----------------------------------------------------------------


def message_ends(data: bytes | bytearray) -> list[int]:
    """Offsets just after each whole message at the start of ``data`` (the recorder cuts events there). A
    length too short to be a message stops the cutting: the rest is recorded as it came, damage included."""
    cuts: list[int] = []
    pos = 0
    while len(data) - pos >= 4:
        total = int.from_bytes(data[pos : pos + 4], "big")
        if total < _OVERHEAD or len(data) - pos < total:
            break
        pos += total
        cuts.append(pos)
    return cuts


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(raw):
        n = raw[pos]
        name = raw[pos + 1 : pos + 1 + n].decode()
        pos += 1 + n
        if raw[pos] != _STRING:
            raise ValueError(f"event-stream header {name!r} is not a string")
        size = int.from_bytes(raw[pos + 1 : pos + 3], "big")
        out[name] = raw[pos + 3 : pos + 3 + size].decode()
        pos += 3 + size
    return out


def split(body: bytes) -> Iterator[tuple[dict[str, str], bytes, bytes]]:
    """Every message of a complete stream body: (headers, payload, the message's exact bytes).

    Raises ValueError on a torn message or a wrong CRC: a recording is never read past damage."""
    pos = 0
    while pos < len(body):
        if len(body) - pos < _OVERHEAD:
            raise ValueError("event-stream body ends inside a prelude")
        total, hlen = _PRELUDE.unpack_from(body, pos)
        raw = body[pos : pos + total]
        if total < _OVERHEAD or len(raw) < total:
            raise ValueError("event-stream message is torn")
        if _CRC.unpack_from(raw, 8)[0] != zlib.crc32(raw[:8]) or _CRC.unpack_from(raw, total - 4)[0] != zlib.crc32(
            raw[:-4]
        ):
            raise ValueError("event-stream message fails its CRC")
        headers = _headers(raw[_PRELUDE_LEN : _PRELUDE_LEN + hlen])
        yield headers, raw[_PRELUDE_LEN + hlen : -4], raw
        pos += total


__all__ = [
    "CONTENT_TYPE",
    "encode_headers",
    "event",
    "event_prefix",
    "exception",
    "exception_prefix",
    "garble",
    "message",
    "message_ends",
    "split",
]
