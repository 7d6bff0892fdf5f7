"""Tests on texts and JSON values, compiled once when the rules are loaded: each is a plain predicate.

A text test (:class:`~llmreplay.rules.spec.TextMatch`) becomes one function ``str -> bool`` with its regular
expression and shell pattern compiled; a JSON test (``{path: value}``) one function ``Any -> bool`` that walks
dotted paths. Requests run them; nothing here is compiled per request.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from llmreplay.rules.paths import MISSING, at_path, found
from llmreplay.rules.spec import TextMatch, is_test

TextTest = Callable[[str], bool]
ValueTest = Callable[[Any], bool]

_JSON_TEXT_LIMIT = 1_000_000
"""Longest text parsed as JSON for a ``json`` test; a longer one does not match (bounded work per request)."""


def text_test(m: TextMatch) -> TextTest:
    """One predicate for every test ``m`` gives (all must hold)."""
    flags = re.IGNORECASE if m.ignore_case else 0
    fold: Callable[[str], str] = str.casefold if m.ignore_case else _same
    tests: list[TextTest] = []
    if m.contains is not None:
        needle = fold(m.contains)
        tests.append(lambda s: needle in fold(s))
    if m.equals is not None:
        whole = fold(m.equals)
        tests.append(lambda s: fold(s) == whole)
    if m.glob is not None:
        pattern = re.compile(fnmatch.translate(m.glob), flags | re.DOTALL)
        tests.append(lambda s: pattern.match(s) is not None)
    if m.regex is not None:
        found_re = re.compile(m.regex, flags)
        tests.append(lambda s: found_re.search(s) is not None)
    if m.json_ is not None:
        doc = json_test(m.json_)
        tests.append(lambda s: doc(_parse(s)))
    if len(tests) == 1:
        return tests[0]
    return lambda s: all(t(s) for t in tests)


def value_test(expected: Any) -> ValueTest:
    """Equal to ``expected``, or, where ``expected`` is a text test, a string (numbers and booleans as JSON
    text) that passes it."""
    if is_test(expected):
        test = text_test(TextMatch.model_validate(expected))
        return lambda v: found(v) and test(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    return lambda v: found(v) and _equal(v, expected)


def json_test(paths: Mapping[str, Any]) -> ValueTest:
    """Every dotted path in ``paths`` holds a value that passes its test."""
    tests = [(path, value_test(expected)) for path, expected in paths.items()]
    return lambda doc: found(doc) and all(test(at_path(doc, path)) for path, test in tests)


def _equal(got: Any, expected: Any) -> bool:
    # JSON has no separate booleans and integers in Python's sense: true must not equal 1.
    if isinstance(got, bool) or isinstance(expected, bool):
        return isinstance(got, bool) and isinstance(expected, bool) and got is expected
    return bool(got == expected)


def _parse(text: str) -> Any:
    if len(text) > _JSON_TEXT_LIMIT:
        return MISSING
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


def _same(s: str) -> str:
    return s
