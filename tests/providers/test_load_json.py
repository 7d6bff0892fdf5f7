"""Request bodies are read by orjson where it gives what the standard library would, and by the standard
library otherwise; either way the client sees the same values and the same errors."""

from __future__ import annotations

import json

import pytest

from llmreplay.errors import ApiError
from llmreplay.model import Call
from llmreplay.providers.base import load_json


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
