"""Identifiers in each provider's style, drawn from a seeded generator."""

from __future__ import annotations

import functools
import random
import string

_ALNUM = string.ascii_letters + string.digits
_B64URL = _ALNUM + "-_"


def hex_id(rng: random.Random, n: int = 32) -> str:
    if n % 2:
        return f"{rng.getrandbits(4 * n):0{n}x}"
    # The same digits, in half the time of the format (every answer draws two or more).
    return rng.getrandbits(4 * n).to_bytes(n // 2, "big").hex()


def alnum_id(rng: random.Random, n: int = 24) -> str:
    return "".join(rng.choices(_ALNUM, k=n))


def b64url_id(rng: random.Random, n: int = 22) -> str:
    return "".join(rng.choices(_B64URL, k=n))


def with_prefix(prefix: str, stem: str) -> str:
    """``stem`` with ``prefix`` in front unless it already has it (recorded ids keep theirs)."""
    return stem if stem.startswith(prefix) else prefix + stem


@functools.lru_cache(maxsize=256)
def fingerprint(model: str) -> str:
    """A ``system_fingerprint`` that is stable for a model name."""
    return "fp_" + hex_id(random.Random(model), 10)
