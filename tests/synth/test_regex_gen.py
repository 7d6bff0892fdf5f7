import random
import re

import pytest

from llmreplay.synth import regex_gen
from llmreplay.synth.pattern_match import search
from llmreplay.synth.regex_gen import generate

PATTERNS = [
    "abc",
    "^abc$",
    "^[a-z0-9]{3,8}$",
    r"^\d+$",
    r"^\w+\s\w+$",
    r"^\S+@\S+\.\S+$",
    "^(cat|dog|bird)s?$",
    "^a*b+c?$",
    r"^\+?[1-9]\d{1,14}$",
    "^#[0-9a-fA-F]{6}$",
    r"^(\d{3})-\1$",
    "[^abc]+",
    "^.{2}$",
    r"^[A-Z]{2}\d{2} ?\d{4}$",
    "(?i)^hello$",
    r"^(?!admin)[a-z]+$",
    r"^[\w.-]+$",
    r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$",
    "^[a-z]+(-[a-z]+)*$",
    "x{0}y",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_generated_strings_match(pattern):
    for seed in range(20):
        value = generate(pattern, random.Random(seed))
        assert value is not None and re.search(pattern, value), (pattern, value)


@pytest.mark.parametrize(("pattern", "low", "high"), [("^[a-z]+$", 10, 12), ("[0-9]", 5, 5), ("^a+$", 0, 2)])
def test_lengths_are_honoured(pattern, low, high):
    for seed in range(20):
        value = generate(pattern, random.Random(seed), min_length=low, max_length=high)
        assert value is not None and low <= len(value) <= high and re.search(pattern, value)


@pytest.mark.parametrize(("pattern", "low", "high"), [("^abc$", 5, None), ("^(?!x)x$", 0, None), ("[", 0, None)])
def test_impossible_patterns_give_none(pattern, low, high):
    assert generate(pattern, random.Random(0), min_length=low, max_length=high) is None


def test_same_seed_same_string():
    assert generate("^[a-z]{5,9}$", random.Random(7)) == generate("^[a-z]{5,9}$", random.Random(7))


def test_search_tolerates_bad_patterns():
    assert search("^a", "abc") and not search("[", "abc")


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-f0-9]{40}$",
        "^[a-f0-9]{64}$",
        "^[0-9A-HJKMNP-TV-Z]{26}$",
        "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
    ],
)
def test_case24_long_fixed_length_patterns_get_a_value_first_time(pattern, monkeypatch):
    # Issue 19 case 24: anything over 24 characters without maxLength was called unsatisfiable (a git SHA: a 400
    # after 0.73 s). A fixed-length pattern is built right by its structure: one draw, no retry.
    checks = []
    real = regex_gen.search
    monkeypatch.setattr(regex_gen, "search", lambda *a: checks.append(1) or real(*a))
    value = generate(pattern, random.Random(3))
    assert value is not None and re.fullmatch(pattern.strip("^$"), value)
    assert len(checks) == 1
