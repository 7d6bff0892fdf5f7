"""The caps on a request body's JSON structure (issue 19, case 8), counted on its bytes before any parse."""

from __future__ import annotations

import re

import orjson
import pytest

from llmreplay.errors import ApiError
from llmreplay.providers import json_caps
from llmreplay.providers.json_caps import MAX_CONTAINERS, MAX_VALUES


def test_a_body_of_more_messages_than_the_cap_is_refused_before_parsing() -> None:
    body = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "x"}] * (MAX_CONTAINERS + 1)})
    with pytest.raises(ApiError, match="more than 50,000 JSON objects and arrays"):
        json_caps.check(body)


def test_an_array_of_more_numbers_than_the_cap_is_refused() -> None:
    with pytest.raises(ApiError, match="more than 200,000 JSON values"):
        json_caps.check(orjson.dumps({"enum": [1] * (MAX_VALUES + 1)}))


def test_up_to_the_caps_is_accepted() -> None:
    messages = [{"role": "user", "content": "x"}] * (MAX_CONTAINERS - 2)
    json_caps.check(orjson.dumps({"model": "m", "messages": messages}))
    json_caps.check(orjson.dumps([1] * (MAX_VALUES - 1)))


@pytest.mark.parametrize(
    "text",
    [
        "{[,] " * 100_000,  # source code's braces, brackets and commas are the text's, not the JSON's
        'escaped "quotes", {braces} and \\ backslashes, ' * 20_000,
        '\\"{,[' * 50_000,
    ],
)
def test_what_strings_hold_is_not_counted(text: str) -> None:
    body = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": text}] * 3})
    assert body.count(b"{") + body.count(b"[") > MAX_CONTAINERS
    json_caps.check(body)


def test_a_string_that_never_ends_is_left_to_the_parser() -> None:
    json_caps.check(b'{"a": "' + b"{," * MAX_VALUES)


def test_search_in_windows_finds_a_match_across_a_window_edge() -> None:
    pattern = re.compile(rb"\d{20}")
    for at in range(80, 101):
        body = b"x" * at + b"1" * 20 + b"x" * 300
        m = json_caps.search(pattern, body, longest=20, window=100)
        assert m is not None and m.start() == at
    assert json_caps.search(pattern, b"x" * 1000 + b"1" * 19, longest=20, window=100) is None


def test_nesting_past_the_depth_cap_is_found_on_the_way() -> None:
    # More openings than the container cap, but the depth is what is wrong with it, and said first.
    with pytest.raises(ApiError, match="nested too deeply"):
        json_caps.check(b"[" * (MAX_CONTAINERS + 1) + b"]" * (MAX_CONTAINERS + 1))
    # Side by side, the same number of arrays is many, not deep.
    with pytest.raises(ApiError, match="objects and arrays"):
        json_caps.check(b"[" + b"[]," * (MAX_CONTAINERS + 1) + b"[]]")


def test_strings_read_a_window_at_a_time_end_where_they_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # A string is skipped in C a window at a time (a string of escaped quotes is not a Python loop per quote);
    # with tiny windows, every escape and quote lands on an edge somewhere.
    monkeypatch.setattr(json_caps, "_WINDOW", 7)
    text = 'a \\ backslash, "quotes", {braces}, [brackets] and \\" escaped ones \\\\' * 10_000
    body = orjson.dumps({"messages": [{"role": "user", "content": text}] * 4, "n": [1] * (MAX_VALUES // 2)})
    assert body.count(b",") > MAX_VALUES
    json_caps.check(body)
    with pytest.raises(ApiError, match="JSON values"):
        json_caps.check(body[:-1] + b"," + b",".join([b"1"] * MAX_VALUES) + b"]}")
