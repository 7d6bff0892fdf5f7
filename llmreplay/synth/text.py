"""Plausible reply text: a pool of assistant answers and lorem ipsum, as the original server did."""

from __future__ import annotations

import functools
import operator
import random

from llmreplay.synth.tokens import count

ANSWERS: tuple[str, ...] = (
    "Sure! Here is a short overview. The key idea is to break the problem into smaller steps, "
    "solve each one, and then combine the results.",
    "Great question. In most cases the simplest approach works best: start with a clear goal, "
    "measure where you are, and iterate.",
    "I can help with that. First, make sure your environment is set up correctly. Then run the "
    "command again and check the output for errors.",
    "Here's what I found: the function returns early when the input is empty, so the loop never "
    "runs. Adding a guard at the top fixes it.",
    "The capital of France is Paris. It has been the country's political and cultural centre for centuries.",
    "To summarise: caching reduces latency, batching improves throughput, and retries with "
    "exponential backoff make clients resilient to transient failures.",
    "Happy to explain. A hash map stores key-value pairs and gives constant-time lookups on "
    "average by hashing each key to a bucket.",
    "Thanks for the details. Based on what you described, the timeout is too short for the "
    "upstream service; try raising it to thirty seconds.",
    "Hello! How can I help you today?",
    "Let me think about that step by step. The total is the sum of each part, so the answer is forty-two.",
    "In Python, a list comprehension builds a new list from an iterable in one readable "
    "expression, for example squares = [x * x for x in range(10)].",
    "The weather today is mild with a light breeze, a high of 21°C and a low of 12°C. No rain is "
    "expected until the weekend.",
)

_LOREM = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi ut aliquip ex ea commodo consequat duis aute irure dolor in reprehenderit in voluptate "
    "velit esse cillum dolore eu fugiat nulla pariatur excepteur sint occaecat cupidatat non proident "
    "sunt in culpa qui officia deserunt mollit anim id est laborum"
).split()
_WORD_TOKENS = {w: count(w) for w in _LOREM}
_ANSWER_TOKENS = {a: count(a) for a in ANSWERS}
_MOST = max(*_ANSWER_TOKENS.values(), 5 * (16 * max(_WORD_TOKENS.values()) + 1))
"""The pool's longest answer, or five sentences of sixteen of the longest word each (see :func:`_lorem`)."""


_TOKENS_AT = [_WORD_TOKENS[w] for w in _LOREM]


class Unseeded(random.Random):
    """The generator of every unseeded exchange. Nothing drawn from it is to be reproduced, so its lorem ipsum is
    drawn in bulk (:func:`_bulk`): the same odds for every sentence length and word as :func:`_lorem`'s, in a
    few calls into C rather than two Python calls a word. A seeded generator keeps :func:`_lorem`'s draws, so a
    seed gives the text it always gave."""


def _table(size: int) -> tuple[bytes, bytes]:
    """A ``bytes.translate`` table and the bytes it deletes, turning random bytes into positions below ``size``,
    each as likely as the others: bytes past the last whole multiple of ``size`` are dropped, the rest taken
    modulo ``size``."""
    kept = 256 - 256 % size
    return bytes(b % size for b in range(256)), bytes(range(kept, 256))


_WORD_AT = _table(len(_LOREM))
_ALL = (*_LOREM, *(w.capitalize() for w in _LOREM), *(w + "." for w in _LOREM))
"""Each word as it is written within a sentence, first in it, and last (with its full stop)."""
_TOKENS_ALL = (*_TOKENS_AT, *_TOKENS_AT, *(n + 1 for n in _TOKENS_AT))
_FIRST, _LAST = len(_LOREM), 2 * len(_LOREM)


def _positions(rng: random.Random, n: int, table: tuple[bytes, bytes]) -> bytes:
    """``n`` positions drawn through ``table`` (:func:`_table`)."""
    out = b""
    while len(out) < n:
        # A quarter more than needed: at most 19 % of the bytes are dropped (69 words), so one call nearly always does.
        size = n + n // 4 + 4
        out += rng.getrandbits(8 * size).to_bytes(size, "little").translate(*table)
    return out[:n]


def _bulk(rng: random.Random, sentences: int) -> tuple[str, int]:
    """:func:`_lorem`, drawn in bulk: the words' positions in one draw, each sentence's first and last word moved
    to their capitalised and full-stopped forms, then the text and its tokens picked in one go each."""
    draw = rng.random
    lengths = [6 + int(draw() * 11) for _ in range(sentences)]  # as uniform as randint, to one part in 2**53
    at = bytearray(_positions(rng, sum(lengths), _WORD_AT))
    start = 0
    for length in lengths:
        at[start] += _FIRST
        start += length
        at[start - 1] += _LAST
    pick = operator.itemgetter(*at)
    return " ".join(pick(_ALL)), sum(pick(_TOKENS_ALL))


def _bulk_reply(rng: random.Random) -> tuple[str, int]:
    """:func:`counted_reply`'s odds for an unseeded generator, a whole draw for each choice rather than
    ``choice``'s and ``randint``'s rejection loops in Python."""
    draw = rng.random
    if draw() < 0.5:
        answer = ANSWERS[int(draw() * len(ANSWERS))]
        return answer, _ANSWER_TOKENS[answer]
    return _bulk(rng, 1 + int(draw() * 5))


def lorem(rng: random.Random, sentences: int) -> str:
    """``sentences`` sentences of lorem ipsum."""
    return _lorem(rng, sentences)[0]


def _lorem(rng: random.Random, sentences: int) -> tuple[str, int]:
    """:func:`lorem` and its tokens, summed from its words' (a space or a full stop ends a token)."""
    if type(rng) is Unseeded:
        return _bulk(rng, sentences)
    out = []
    n = 0
    for _ in range(sentences):
        words = rng.choices(_LOREM, k=rng.randint(6, 16))
        out.append(" ".join(words).capitalize() + ".")
        n += sum(map(_WORD_TOKENS.__getitem__, words)) + 1
    return " ".join(out), n


def reply_text(rng: random.Random, default: str | None = None) -> str:
    """A reply: ``default`` when set, else half the time from the pool, half lorem ipsum."""
    return counted_reply(rng, default)[0]


def counted_reply(rng: random.Random, default: str | None = None) -> tuple[str, int]:
    """:func:`reply_text` (the same draws) and its tokens, counted once per canned text rather than per reply."""
    if default is not None:
        return default, _tokens(default)
    if type(rng) is Unseeded:
        return _bulk_reply(rng)
    if rng.random() < 0.5:
        answer = rng.choice(ANSWERS)
        return answer, _ANSWER_TOKENS[answer]
    return _lorem(rng, rng.randint(1, 5))


@functools.lru_cache(maxsize=16)
def _tokens(text: str) -> int:
    """Tokens of a configured reply, which a server sends again and again."""
    return count(text)


def most_tokens(default: str | None = None) -> int:
    """The most tokens :func:`counted_reply` can give: a request allowing as many never has its reply cut."""
    return _tokens(default) if default is not None else _MOST


def thinking_text(rng: random.Random) -> str:
    """A short chain of reasoning shown before the answer."""
    return rng.choice(
        (
            "The user is asking a direct question. I should answer clearly and briefly.",
            "Let me consider what is being asked, recall the relevant facts, and give a concise answer.",
            "I need to work out the key point first, then explain it in plain words.",
        )
    )
