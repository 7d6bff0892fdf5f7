"""Deterministic embedding vectors that behave like embeddings: a stand-in, not a language model.

A text's vector is the feature hashing of what it is made of: its content words (lower-cased, a few common
endings taken off, the commonest function words left out), the pairs of content words that follow each other,
and each word's character trigrams. Every feature adds its weight, with a sign, at one component chosen by a
CRC-32 of the feature; the vector is then L2-normalised. So:

- the same text always gives the same vector, in any process (no random seed, no ``hash()``);
- texts that share words and phrases have a high cosine similarity (a paraphrase that keeps the content words
  scores ~0.5-0.9), texts on one topic a lower one (shared topic words), unrelated texts ~0;
- it knows no synonyms: "car" and "automobile" are as unrelated as any two words. Vectors are sparse (a few
  dozen non-zero components), which no retrieval metric minds.

Cost: a feature's CRC is kept (bounded), so a batch of 2,048 short texts of 3,072 dimensions takes ~0.1 s of
which most is building the dense lists the JSON needs.
"""

from __future__ import annotations

import base64
import functools
import itertools
import math
import re
import struct
import zlib

_WORD = re.compile(r"\w+", re.UNICODE)
STOP_WORDS = frozenset(
    "a an the is are was were be been being am of to in on at for and or but if it its this that these those "
    "with as by from into about i you he she we they me him her us them my your his our their do does did "
    "has have had not no so than then there here what which who whom will would can could should shall may "
    "might must just very too also".split()
)
"""Words so common that sharing them says nothing of two texts' meaning."""
_SUFFIXES = ("ing", "ed", "es", "ly", "s")
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 0.5
TRIGRAM_WEIGHT = 0.2
_SIGN = 0x80000000


@functools.lru_cache(maxsize=1 << 16)
def _crc(feature: str) -> int:
    """The feature's CRC-32 (kept: a batch repeats its words)."""
    return zlib.crc32(feature.encode("utf-8", "surrogatepass"))


def _stem(word: str) -> str:
    """``word`` without one common ending, when what remains is still a word (``sitting`` → ``sitt``)."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@functools.lru_cache(maxsize=1 << 16)
def _word(word: str) -> tuple[tuple[int, float], ...]:
    """(CRC, weight) of a content word's features: the word and its character trigrams (kept: words repeat)."""
    padded = f"<{word}>"
    grams = (_crc("c " + padded[i : i + 3]) for i in range(len(padded) - 2))
    return ((_crc("w " + word), WORD_WEIGHT), *((g, TRIGRAM_WEIGHT) for g in grams))


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def features(text: str) -> list[tuple[int, float]]:
    """(CRC, weight) of every feature of ``text``, repeats included: content words, their character trigrams,
    and adjacent content-word pairs."""
    words = _words(text)
    out = [f for w in words for f in _word(w)]
    out.extend((_crc(f"p {a} {b}"), PAIR_WEIGHT) for a, b in itertools.pairwise(words))
    return out


def vector(text: str, dimensions: int) -> list[float]:
    """A unit-length vector of ``dimensions`` floats derived from ``text`` alone.

    Values are rounded to float32 so that a float and a base64 encoding of the same vector agree exactly.
    """
    acc: dict[int, float] = {}
    for h, weight in features(text):
        i = h % dimensions
        acc[i] = acc.get(i, 0.0) + (-weight if h & _SIGN else weight)
    norm = math.sqrt(sum(x * x for x in acc.values()))
    if norm < 1e-9:
        # Nothing but punctuation or stop words (or features that cancelled out): the text itself is the feature.
        acc, norm = {_crc("t " + text) % dimensions: 1.0}, 1.0
    idx = list(acc)
    n = len(idx)
    rounded = struct.unpack(f"<{n}f", struct.pack(f"<{n}f", *(acc[i] / norm for i in idx)))
    out = [0.0] * dimensions
    for i, x in zip(idx, rounded, strict=True):
        out[i] = x
    return out


def to_base64(values: list[float]) -> str:
    """Little-endian float32 bytes, base64-encoded, as OpenAI's ``encoding_format: base64``."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
