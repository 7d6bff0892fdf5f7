from hypothesis import given
from hypothesis import strategies as st

from llmreplay.synth import tokens


@given(st.text())
def test_pieces_rebuild_the_text_and_match_the_count(text):
    pieces = list(tokens.pieces(text))
    assert "".join(pieces) == text
    assert tokens.count(text) <= len(pieces) <= tokens.count(text) + 1


@given(st.text(), st.integers(0, 50))
def test_truncate_is_a_prefix_within_the_limit(text, n):
    cut = tokens.truncate(text, n)
    assert text.startswith(cut)
    assert tokens.count(cut) <= n


def test_same_text_same_count():
    assert tokens.count("Hello, world!") == tokens.count("Hello, world!") == 4
