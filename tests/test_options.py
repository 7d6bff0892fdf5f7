"""options: one declaration per field, and the words a refused value gets everywhere."""

from __future__ import annotations

from typing import Literal

import pydantic
import pytest

from llmreplay.options import describe, explain, option, option_of


class Inner(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    gap_ms: float = option(5, "A gap.", "GAP_MS", ge=0, ceiling=100)
    share: float = option(0.5, "A share.", ge=0, le=1)
    count: int | None = option(None, "A count.", gt=0)
    mode: Literal["a-b", "c"] = option("a-b", "A mode.", "MODE", key="kind", spellings={"a_b": "a-b"})


class Outer(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    inner: Inner = Inner()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("gap_ms", "a number ≥ 0, at most 100"),
        ("share", "a number from 0 to 1"),
        ("count", "an integer > 0"),
        ("mode", "one of a_b, a-b, c"),
    ],
)
def test_describe(name: str, words: str) -> None:
    assert describe(Inner.model_fields[name]) == words


def test_option_rides_in_the_metadata_not_the_schema() -> None:
    info = Inner.model_fields["mode"]
    assert (option_of(info).env, option_of(info).key) == ("MODE", "kind")
    assert "MODE" not in str(Inner.model_json_schema())
    assert Inner.model_json_schema()["properties"]["gap_ms"]["maximum"] == 100


def test_spellings_are_accepted_and_stored_as_the_value() -> None:
    assert Inner(mode="a_b").mode == "a-b"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"inner": {"gap_ms": 101}}, "expected a number ≥ 0, at most 100"),
        ({"inner": {"nope": 1}}, "unknown key (allowed: gap_ms, share, count, mode)"),
        ({"inner": {"count": 0}}, "expected an integer > 0"),
        ({"nope": 1}, "unknown key (allowed: inner)"),
    ],
)
def test_explain(data: dict, words: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Outer.model_validate(data)
    assert explain(Outer, info.value.errors()[0]) == words
