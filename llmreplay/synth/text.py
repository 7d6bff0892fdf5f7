"""Plausible reply text: a pool of assistant answers and lorem ipsum, as the original server did."""

from __future__ import annotations

import functools
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


def lorem(rng: random.Random, sentences: int) -> str:
    """``sentences`` sentences of lorem ipsum."""
    return _lorem(rng, sentences)[0]


def _lorem(rng: random.Random, sentences: int) -> tuple[str, int]:
    """:func:`lorem` and its tokens, summed from its words' (a space or a full stop ends a token)."""
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
    if rng.random() < 0.5:
        answer = rng.choice(ANSWERS)
        return answer, _ANSWER_TOKENS[answer]
    return _lorem(rng, rng.randint(1, 5))


@functools.lru_cache(maxsize=16)
def _tokens(text: str) -> int:
    """Tokens of a configured reply, which a server sends again and again."""
    return count(text)


def thinking_text(rng: random.Random) -> str:
    """A short chain of reasoning shown before the answer."""
    return rng.choice(
        (
            "The user is asking a direct question. I should answer clearly and briefly.",
            "Let me consider what is being asked, recall the relevant facts, and give a concise answer.",
            "I need to work out the key point first, then explain it in plain words.",
        )
    )
