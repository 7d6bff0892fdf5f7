"""Random schemas built from the supported keywords, satisfiable by construction: every fake validates."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from llmreplay.synth.faker import fake

_NAMES = ("id", "name", "city", "email", "count", "price", "tags", "note", "url", "x", "data", "latitude")
_PATTERNS = ("^[a-z]+$", r"^\d{2,4}$", "^(yes|no)$", "^[A-Z][a-z]*$", r"\w+@\w+\.com", "ab+c")
_FORMATS = ("date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname", "duration")


@st.composite
def _string(draw):
    kind = draw(st.sampled_from(("plain", "length", "pattern", "format")))
    schema = {"type": "string"}
    if kind == "length":
        low = draw(st.integers(0, 8))
        schema.update(minLength=low, maxLength=low + draw(st.integers(0, 10)))
    elif kind == "pattern":
        schema["pattern"] = draw(st.sampled_from(_PATTERNS))
    elif kind == "format":
        schema["format"] = draw(st.sampled_from(_FORMATS))
    return schema


@st.composite
def _integer(draw):
    schema = {"type": "integer"}
    low = draw(st.none() | st.integers(-1000, 1000))
    span = draw(st.integers(0, 100))
    step = draw(st.none() | st.integers(1, 10))
    if step is not None:
        schema["multipleOf"] = step
        span = max(span, step)
    if low is not None:
        exclusive = draw(st.booleans())
        schema["exclusiveMinimum" if exclusive else "minimum"] = low - 1 if exclusive else low
        if draw(st.booleans()):
            schema["maximum"] = low + span
    return schema


@st.composite
def _number(draw):
    schema = {"type": "number"}
    low = draw(st.none() | st.floats(-1e6, 1e6, allow_nan=False))
    if low is not None:
        span = draw(st.floats(5, 1e3))  # wider than twice the largest multipleOf, so a multiple always fits
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = low + span
    if draw(st.booleans()):
        schema["multipleOf"] = draw(st.sampled_from((0.5, 0.25, 2, 0.01)))
    return schema


_json_scalar = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5)
_leaf = st.one_of(
    _string(),
    _integer(),
    _number(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({}),
    st.lists(_json_scalar, min_size=1, max_size=4).map(lambda values: {"enum": values}),
    _json_scalar.map(lambda value: {"const": value}),
)


def _extend(children):
    objects = st.builds(
        lambda props, required_mask, closed: {
            "type": "object",
            "properties": props,
            "required": [k for k, keep in zip(props, required_mask, strict=False) if keep],
            **({"additionalProperties": False} if closed else {}),
        },
        st.dictionaries(st.sampled_from(_NAMES), children, max_size=4),
        st.lists(st.booleans(), max_size=4),
        st.booleans(),
    )
    arrays = st.builds(
        lambda items, low, extra: {"type": "array", "items": items, "minItems": low, "maxItems": low + extra},
        children,
        st.integers(0, 2),
        st.integers(0, 3),
    )
    unique = st.just({"type": "array", "items": {"type": "integer"}, "uniqueItems": True, "minItems": 2})
    tuples = st.lists(children, min_size=1, max_size=3).map(lambda p: {"type": "array", "prefixItems": p})
    nullable = children.filter(lambda c: isinstance(c.get("type"), str) and c["type"] != "null").map(
        lambda c: {**c, "type": [c["type"], "null"]}
    )
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda b: {"anyOf": b})
    # Branches of different types cannot both match, so oneOf is satisfiable by construction.
    one_of = st.tuples(_string(), _integer(), st.just({"type": "boolean"})).map(lambda b: {"oneOf": list(b)})
    all_of = st.tuples(children, children).map(
        lambda p: {"allOf": [{"type": "object", "properties": {"a": p[0]}, "required": ["a"]},
                             {"properties": {"b": p[1]}, "required": ["b"]}]}
    )  # fmt: skip
    return st.one_of(objects, arrays, unique, tuples, nullable, any_of, one_of, all_of)


_schemas = st.recursive(_leaf, _extend, max_leaves=12)
_rooted = st.builds(
    lambda shared, body: {
        "$defs": {"shared": shared},
        "type": "object",
        "properties": {"ref": {"$ref": "#/$defs/shared"}, "body": body},
        "required": ["ref"],
    },
    _schemas,
    _schemas,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_schemas, _rooted), st.integers(0, 2**32))
def test_random_schemas_always_validate(schema, seed):
    value = fake(schema, random.Random(seed))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert validator.is_valid(value), (schema, value, [e.message for e in validator.iter_errors(value)])


@settings(max_examples=50, deadline=None)
@given(_schemas, st.integers(0, 2**32))
def test_random_schemas_are_deterministic(schema, seed):
    assert fake(schema, random.Random(seed)) == fake(schema, random.Random(seed))
