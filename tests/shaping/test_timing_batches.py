"""``timing.batches`` joins the frames due together in linear time (issue 19, case 7).

A gap-0, chunk-size-1, ``n: 128`` stream puts every frame at one due time; adding each frame to the bytes
so far copied the whole batch again per frame (2.5–30 s on the event loop). The bytes copied are counted
here, not timed, so a busy machine cannot fail the test.
"""

from __future__ import annotations

import itertools
import json

from llmreplay.model import Call, Candidate, Frame, Reply, Text, Usage
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_chat import CODEC
from llmreplay.shaping.timing import batches


class CountingBytes(bytes):
    """Bytes that count what ``+`` copies (``b"".join`` does not call ``__add__``: it copies each piece once)."""

    copied = 0

    def __add__(self, other: bytes) -> CountingBytes:  # type: ignore[override]
        CountingBytes.copied += len(self) + len(other)
        return CountingBytes(bytes.__add__(self, other))


def gap0_stream(n: int = 128, chars: int = 60) -> tuple[Frame, ...]:
    """The issue's case: an ``n: 128`` chat stream in 1-character chunks, every frame due at once."""
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True, "n": n}
    request = CODEC.parse_request(Call("POST", "/v1/chat/completions", body=json.dumps(body).encode()))
    cands = tuple(Candidate((Text(f"{i:03d}" + "y" * chars),)) for i in range(n))
    answer = CODEC.render(Reply("x", "gpt-4o", 1, cands, Usage(1, 1)), request, RenderOptions(chunk_size=1))
    return tuple(Frame(CountingBytes(f.data), at=0.0) for f in answer.frames)


def expected(frames: tuple[Frame, ...]) -> list[tuple[float, bytes]]:
    return [(at, b"".join(f.data for f in group)) for at, group in itertools.groupby(frames, lambda f: f.at or 0.0)]


def test_a_gap0_n128_stream_is_joined_in_linear_time() -> None:
    frames = gap0_stream()
    total = sum(len(f.data) for f in frames)
    assert len(frames) > 8000  # 128 choices x 63 characters, one frame each
    CountingBytes.copied = 0
    out = batches(frames)
    # Linear: each byte is copied at most once more (the join). Quadratic would be ~len(frames)/2 times.
    assert CountingBytes.copied <= total, f"{CountingBytes.copied:,} bytes copied to join {total:,}"
    assert out == [(0.0, b"".join(f.data for f in frames))]


def test_output_bytes_are_unchanged() -> None:
    frames = (
        Frame(b"a", at=0.1),
        Frame(b"b", at=0.1),
        Frame(b"c", at=0.2),
        Frame(b"", at=0.2),
        Frame(b"d", at=None),
        Frame(b"e", at=0.0),
        Frame(b"f", at=0.1),
    )
    assert batches(frames) == expected(frames) == [(0.1, b"ab"), (0.2, b"c"), (0.0, b"de"), (0.1, b"f")]
    assert batches(()) == []
    stream = gap0_stream(n=4, chars=5)
    timed = tuple(f._replace(at=0.01 * (i // 3)) for i, f in enumerate(stream))
    assert batches(timed) == expected(timed)
    assert b"".join(b for _, b in batches(timed)) == b"".join(f.data for f in stream)
