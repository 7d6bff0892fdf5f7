"""Strings and numbers for a flattened schema node: formats, patterns, lengths, bounds, multipleOf.

A realistic value guessed from the property name is tried first; ``fits`` (the faker's
``jsonschema`` check) decides whether it stays, else the value is built from the constraints.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from llmreplay.synth import realistic, regex_gen
from llmreplay.synth.budget import MAX_STRING, check_size
from llmreplay.synth.schema_merge import Unsatisfiable

Fits = Callable[[Any], bool]
_DEFAULT_SPAN = 100
_TRIES = 24
NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _ipv6(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(0x10000):x}" for _ in range(8))


FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date-time": realistic.date_time,
    "date": realistic.date,
    "time": realistic.time,
    "email": realistic.email,
    "idn-email": realistic.email,
    "uri": realistic.url,
    "iri": realistic.url,
    "uri-reference": realistic.url,
    "iri-reference": realistic.url,
    "uri-template": lambda rng: f"https://example.com/{rng.choice(realistic.WORDS)}/{{id}}",
    "uuid": realistic.uuid4,
    "ipv4": lambda rng: ".".join(str(rng.randrange(1, 255)) for _ in range(4)),
    "ipv6": _ipv6,
    "hostname": lambda rng: f"{rng.choice(realistic.WORDS)}.example.com",
    "idn-hostname": lambda rng: f"{rng.choice(realistic.WORDS)}.example.com",
    "duration": realistic.duration,
    "regex": lambda rng: rng.choice(("^[a-z]+$", r"\d{3}-\d{4}", "^(foo|bar)$")),
    "json-pointer": lambda rng: f"/{rng.choice(realistic.WORDS)}/{rng.randrange(5)}",
    "relative-json-pointer": lambda rng: f"{rng.randrange(3)}/{rng.choice(realistic.WORDS)}",
}


def string_value(s: dict[str, Any], name: str | None, rng: random.Random, fits: Fits) -> str:
    low = check_size("minLength", s.get("minLength", 0), MAX_STRING)
    high = s.get("maxLength")
    high = None if high is None else int(high)
    if high is not None and low > high:
        raise Unsatisfiable("minLength is above maxLength")
    fmt = s.get("format")
    if fmt in FORMATS:
        for _ in range(4):
            value = FORMATS[fmt](rng)
            if fits(value):
                return value
        if fmt in ("email", "idn-email"):
            domain = "@example.com"
            value = "a" * max(1, low - len(domain)) + domain
            if fits(value):
                return value
    guess = realistic.text_for(name, rng)
    if guess is not None and fits(guess):
        return guess
    pattern = s.get("pattern")
    if isinstance(pattern, str):
        value = regex_gen.generate(pattern, rng, min_length=low, max_length=high)
        if value is None:
            raise Unsatisfiable(f"no string of length {low}..{high} matching {pattern!r} was found", "retry")
        return value
    return _fit_length(realistic.words(rng), low, high, rng)


def _fit_length(text: str, low: int, high: int | None, rng: random.Random) -> str:
    # Pieces are gathered and joined once: adding to a string in a loop copies it each time (quadratic).
    pieces, size = [text], len(text)
    while size < low:
        word = rng.choice(realistic.WORDS)
        pieces.append(word)
        size += len(word) + 1
    text = " ".join(pieces)
    if high is not None and len(text) > high:
        text = text[:high].rstrip()
    if len(text) < low:
        text += "".join(rng.choice("abcdefghij") for _ in range(low - len(text)))
    return text


def _bounds(s: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is strict, high, high is strict) from the inclusive and exclusive keywords."""
    low, low_strict, high, high_strict = s.get("minimum"), False, s.get("maximum"), False
    ex_low, ex_high = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if isinstance(ex_low, int | float) and not isinstance(ex_low, bool) and (low is None or ex_low >= low):
        low, low_strict = ex_low, True
    if isinstance(ex_high, int | float) and not isinstance(ex_high, bool) and (high is None or ex_high <= high):
        high, high_strict = ex_high, True
    return low, low_strict, high, high_strict


def _window(low: float | None, high: float | None) -> tuple[float, float]:
    """The range to draw from: the bounds given, widened to a modest span where one is missing."""
    if low is None and high is None:
        return 0, _DEFAULT_SPAN
    if low is None:
        assert high is not None
        return (0 if high >= 0 else high - _DEFAULT_SPAN), high
    if high is None:
        return low, low + _DEFAULT_SPAN
    return low, high


def number_value(s: dict[str, Any], name: str | None, rng: random.Random, *, integer: bool, fits: Fits) -> float | int:
    for key in NUMBER_KEYWORDS:
        bound = s.get(key)
        if isinstance(bound, float) and not math.isfinite(bound):
            raise Unsatisfiable(f"{key} {bound} is not a finite number")
    low, low_strict, high, high_strict = _bounds(s)
    if integer:
        low = None if low is None else (math.floor(low) + 1 if low_strict else math.ceil(low))
        high = None if high is None else (math.ceil(high) - 1 if high_strict else math.floor(high))
        low_strict = high_strict = False
    if low is not None and high is not None and (low > high or (low == high and (low_strict or high_strict))):
        raise Unsatisfiable(f"no number between {low} and {high}")
    guess = realistic.number_for(name, rng, integer)
    if guess is not None and fits(guess):
        return guess
    a, b = _window(low, high)
    step = s.get("multipleOf")
    if step is not None:
        return _multiple(step, a, b, rng, integer, fits)
    if integer:
        return rng.randint(int(a), int(b))
    for _ in range(_TRIES):
        value = round(rng.uniform(a, b), 2)
        if fits(value):
            return value
    for value in (rng.uniform(a, b), (a + b) / 2, a, b):
        if fits(value):
            return value
    raise Unsatisfiable(f"no number between {low} and {high} was found", "retry")


def _multiple(step: float, a: float, b: float, rng: random.Random, integer: bool, fits: Fits) -> float | int:
    exact = Fraction(str(step)) if isinstance(step, float) else Fraction(step)
    if integer:
        # Multiples of the step's numerator are whole numbers and whole multiples of the step.
        exact = Fraction(exact.numerator)
    k_low, k_high = math.ceil(Fraction(a) / exact), math.floor(Fraction(b) / exact)
    if k_low > k_high:
        raise Unsatisfiable(f"no multiple of {step} between {a} and {b}")
    places = len(str(step).split(".")[1]) if isinstance(step, float) and "." in str(step) else 0
    for attempt in range(_TRIES):
        k = rng.randint(k_low, min(k_high, k_low + 20)) if attempt < _TRIES - 2 else (k_low, k_high)[attempt % 2]
        value: float | int = (
            int(k * exact) if integer or (k * exact).denominator == 1 else round(float(k * exact), places)
        )
        if fits(value):
            return value
    if k_low <= 0 <= k_high and fits(0):
        return 0
    raise Unsatisfiable(f"no multiple of {step} between {a} and {b} was found", "retry")
