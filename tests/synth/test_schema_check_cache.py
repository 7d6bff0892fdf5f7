"""A schema sent again (an agent's tools, with every request) is checked against the meta-schema once."""

from __future__ import annotations

import random

import jsonschema
import pytest

from llmreplay.errors import ApiError
from llmreplay.synth import requested

TOOL = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}


def test_a_repeated_schema_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    requested._CHECKED.clear()
    checks: list[object] = []
    real = jsonschema.Draft202012Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft202012Validator, "check_schema", classmethod(lambda cls, s: (checks.append(s), real(s))[1])
    )
    rng = random.Random(7)
    for _ in range(5):
        value = requested.value_for(dict(TOOL), rng, "tool", "tools")
        jsonschema.Draft202012Validator(TOOL).validate(value)
    assert len(checks) == 1


@pytest.mark.parametrize(
    "schema",
    [{"type": "object", "properties": {"a": {"type": 5}}}, {"type": "number", "maximum": float("nan")}],
    ids=["invalid", "non-finite"],
)
def test_a_bad_schema_is_refused_every_time(schema: dict) -> None:
    requested._CHECKED.clear()
    for _ in range(3):
        with pytest.raises(ApiError):
            requested.value_for(schema, random.Random(1), "tool", "tools")
    assert requested._CHECKED == {}


def test_nan_does_not_meet_a_checked_null() -> None:
    """orjson writes NaN as null: a NaN schema must not pass as the cached null one."""
    requested._CHECKED.clear()
    requested.value_for({"const": None}, random.Random(1), "tool", "tools")
    with pytest.raises(ApiError):
        requested.value_for({"const": float("nan")}, random.Random(1), "tool", "tools")
