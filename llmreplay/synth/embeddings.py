"""Deterministic embedding vectors: the same input always gives the same unit vector."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct


def vector(text: str, dimensions: int) -> list[float]:
    """A unit-length vector of ``dimensions`` floats derived from ``text`` alone.

    Values are rounded to float32 so that a float and a base64 encoding of the
    same vector agree exactly.
    """
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")
    rng = random.Random(seed)
    raw = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return list(struct.unpack(f"<{dimensions}f", struct.pack(f"<{dimensions}f", *(x / norm for x in raw))))


def to_base64(values: list[float]) -> str:
    """Little-endian float32 bytes, base64-encoded, as OpenAI's ``encoding_format: base64``."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
