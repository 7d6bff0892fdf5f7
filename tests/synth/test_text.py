"""Reply text (llmreplay/synth/text.py): a seeded generator draws the text it always drew; the unseeded one draws
lorem ipsum in bulk, with the same odds for every sentence length and word, and the same token counts."""

from __future__ import annotations

import collections
import random

import pytest

from llmreplay.ids import hex_id
from llmreplay.synth import text
from llmreplay.synth.text import Unseeded

SEEDED_LOREM = (
    "Anim ullamco sit non adipiscing in officia labore consectetur laboris dolore. "
    "Nisi proident sed et voluptate anim dolor ullamco est sit in ut do sed.",
    30,
)
"""What ``_lorem(random.Random(7), 2)`` drew before the unseeded generator drew in bulk (d58cef3)."""


def _words(lorem: str) -> list[str]:
    return lorem.replace(".", "").lower().split()


def test_a_seeded_generator_draws_the_text_it_always_drew() -> None:
    assert text._lorem(random.Random(7), 2) == SEEDED_LOREM
    assert text.counted_reply(random.Random(3)) == ("Hello! How can I help you today?", 9)


def test_ids_are_the_digits_they_always_were() -> None:
    rng = random.Random(5)
    assert [hex_id(rng), hex_id(rng, 24), hex_id(rng, 10), hex_id(rng, 7)] == [
        "5bc8fbbcbde5c0994164d8399f767c45",
        "f1446beab0c11fdecb91ce37",
        "bdd76d4330",
        "a6eb8c9",
    ]


@pytest.mark.parametrize("sentences", [1, 2, 5])
def test_unseeded_lorem_is_sentences_of_six_to_sixteen_words_and_counts_as_the_seeded_does(sentences: int) -> None:
    rng = Unseeded(11)
    for _ in range(500):
        lorem, tokens = text._lorem(rng, sentences)
        parts = lorem[:-1].split(". ")
        assert lorem.endswith(".") and len(parts) == sentences
        for sentence in parts:
            assert sentence == sentence.capitalize()
            assert 6 <= len(sentence.split(" ")) <= 16
        # The seeded way of counting: each word's tokens, and one for each full stop.
        assert tokens == sum(text._WORD_TOKENS[w] for w in _words(lorem)) + sentences


def test_unseeded_lorem_draws_every_length_and_word_with_the_seeded_odds() -> None:
    rng = Unseeded(12)
    lengths: collections.Counter[int] = collections.Counter()
    words: collections.Counter[str] = collections.Counter()
    for _ in range(6000):
        lorem, _ = text._lorem(rng, 3)
        for sentence in lorem[:-1].split(". "):
            lengths[len(sentence.split(" "))] += 1
        words.update(_words(lorem))
    # 18,000 sentences over 11 lengths: ~1,636 each, a standard deviation of ~39.
    assert set(lengths) == set(range(6, 17))
    assert all(abs(n - 18_000 / 11) < 200 for n in lengths.values()), lengths
    # Each of the 69 places in the word list is as likely: a word listed k times comes k times as often.
    listed = collections.Counter(text._LOREM)
    total = sum(words.values())
    for word, k in listed.items():
        expected = total * k / len(text._LOREM)
        assert abs(words[word] - expected) < 6 * expected**0.5, (word, words[word], expected)


def test_the_longest_reply_bounds_every_draw() -> None:
    rng = Unseeded(13)
    seeded = random.Random(13)
    most = text.most_tokens()
    assert all(text.counted_reply(rng)[1] <= most and text.counted_reply(seeded)[1] <= most for _ in range(3000))
    assert text.most_tokens("Configured.") == text.counted_reply(rng, "Configured.")[1]
