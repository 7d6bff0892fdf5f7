"""Request bodies are read by orjson where it gives what the standard library would, and by the standard
library otherwise; either way the client sees the same values and the same errors."""

from __future__ import annotations

import json

import pytest

from llmreplay.errors import ApiError
from llmreplay.model import Call
from llmreplay.providers.base import MAX_DEPTH, load_json


def call(body: bytes) -> Call:
    return Call(method="POST", path="/v1/chat/completions", params={}, query={}, headers={}, body=body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}], "temperature": 0.7}',
        b'{"seed": 123456789012345678901234567890, "n": -98765432109876543210}',  # beyond 64 bits: exact
        b'{"max_tokens": 18446744073709551615, "x": -9223372036854775808}',
        b'{"a": NaN, "b": Infinity, "c": 1e400}',
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": "été", "b": "\\ud83d\\ude00"}'.encode(),
        '{"a": "x"}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',
    ],
)
def test_same_values_as_the_standard_library(body: bytes) -> None:
    got = load_json(call(body))
    want = json.loads(body)
    assert repr(got) == repr(want)  # repr: NaN is not equal to itself, and 1 == 1.0 would hide a float


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{bad", "not valid JSON: Expecting property name"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a":' * 1000 + b"1" + b"}" * 1000, "nested too deeply"),  # orjson would read it
        (b'{"a": "\\ud800"}', "surrogate"),
        (b"  \n", "empty"),
    ],
)
def test_same_errors(body: bytes, says: str) -> None:
    with pytest.raises(ApiError) as err:
        load_json(call(body))
    assert says in err.value.message


@pytest.mark.parametrize(("opener", "closer"), [(b"[", b"]"), (b'{"a":', b"}")])
def test_nesting_is_bounded(opener: bytes, closer: bytes) -> None:
    ok = opener * MAX_DEPTH + b"1" + closer * MAX_DEPTH
    assert repr(load_json(call(ok))) == repr(json.loads(ok))
    for depth in (MAX_DEPTH + 1, 500, 1_000, 100_000):
        with pytest.raises(ApiError) as err:
            load_json(call(opener * depth + b"1" + closer * depth))
        assert "nested too deeply" in err.value.message
    # Many openings side by side are not depth: a long conversation is read as it is.
    wide = json.dumps({"messages": [{"role": "user", "content": str(i)} for i in range(1_000)]}).encode()
    assert load_json(call(wide)) == json.loads(wide)
