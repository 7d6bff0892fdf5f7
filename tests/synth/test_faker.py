import json
import random

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from llmreplay.synth import realistic
from llmreplay.synth.faker import UnsatisfiableSchema, fake
from llmreplay.synth.openapi_schema import to_json_schema
from tests.synth.schema_corpus import DRAFT4, GEMINI, STANDARD, UNSATISFIABLE

SEEDS = range(20)


def assert_valid(schema, value):
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [e.message for e in validator.iter_errors(value)]
    assert not errors, (json.dumps(value), errors)


@pytest.mark.parametrize("schema", STANDARD, ids=lambda s: json.dumps(s)[:60])
def test_every_corpus_value_validates(schema):
    for seed in SEEDS:
        assert_valid(schema, fake(schema, random.Random(seed)))


@pytest.mark.parametrize("schema", GEMINI, ids=lambda s: json.dumps(s)[:60])
def test_gemini_schemas_are_accepted_directly(schema):
    standard = to_json_schema(schema)
    for seed in SEEDS:
        assert_valid(standard, fake(schema, random.Random(seed)))


@pytest.mark.parametrize("schema", DRAFT4, ids=lambda s: json.dumps(s)[:60])
def test_draft4_boolean_exclusive_bounds(schema):
    for seed in SEEDS:
        value = fake(schema, random.Random(seed))
        assert Draft4Validator(schema).is_valid(value), value
        assert_valid(to_json_schema(schema), value)


@pytest.mark.parametrize("schema", UNSATISFIABLE, ids=lambda s: json.dumps(s)[:60])
def test_impossible_schemas_raise(schema):
    with pytest.raises(UnsatisfiableSchema):
        fake(schema, random.Random(0))


def test_unsatisfiable_is_a_value_error():
    assert issubclass(UnsatisfiableSchema, ValueError)


@pytest.mark.parametrize("schema", STANDARD[:25], ids=lambda s: json.dumps(s)[:60])
def test_same_seed_same_value(schema):
    assert fake(schema, random.Random(42)) == fake(schema, random.Random(42))


def test_different_seeds_differ():
    schema = STANDARD[3]  # the nested order
    values = {json.dumps(fake(schema, random.Random(seed))) for seed in range(10)}
    assert len(values) > 5


def _weather(seed):
    return fake(
        {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "kelvin"]}},
            "required": ["location", "unit"],
        },
        random.Random(seed),
    )


def test_location_is_a_city_and_unit_comes_from_its_enum():
    for seed in SEEDS:
        value = _weather(seed)
        assert value["location"] in realistic.CITIES
        assert value["unit"] in ("celsius", "kelvin")


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("email", lambda v: "@" in v),
        ("contact_email", lambda v: "@" in v),
        ("city", lambda v: v in realistic.CITIES),
        ("country", lambda v: v in realistic.COUNTRIES),
        ("first_name", lambda v: v in realistic.FIRST),
        ("lastName", lambda v: v in realistic.LAST),
        ("name", lambda v: " " in v and v.split()[0] in realistic.FIRST),
        ("website", lambda v: v.startswith("https://")),
        ("currency", lambda v: v in realistic.CURRENCIES),
        ("query", lambda v: v in realistic.SENTENCES),
        ("phone", lambda v: v.startswith("+")),
        ("uuid", lambda v: len(v) == 36),
    ],
)
def test_named_strings_look_real(name, check):
    for seed in range(5):
        value = fake(
            {"type": "object", "properties": {name: {"type": "string"}}, "required": [name]}, random.Random(seed)
        )
        assert check(value[name]), value


def test_named_numbers_look_real():
    schema = {
        "type": "object",
        "properties": {
            "latitude": {"type": "number"},
            "lng": {"type": "number"},
            "price": {"type": "number"},
            "age": {"type": "integer", "minimum": 0},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 3},
        },
        "required": ["latitude", "lng", "price", "age", "quantity"],
    }
    for seed in SEEDS:
        value = fake(schema, random.Random(seed))
        assert -90 <= value["latitude"] <= 90 and -180 <= value["lng"] <= 180
        assert round(value["price"], 2) == value["price"]
        assert 0 <= value["age"] <= 120
        assert 1 <= value["quantity"] <= 3


def test_constraints_beat_realism():
    schema = {"type": "object", "properties": {"city": {"type": "string", "pattern": "^[0-9]+$"}}, "required": ["city"]}
    for seed in SEEDS:
        assert fake(schema, random.Random(seed))["city"].isdigit()


def test_optional_properties_are_sometimes_present_sometimes_not():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    present = sum("a" in fake(schema, random.Random(seed)) for seed in range(200))
    assert 100 < present < 180


def test_recursion_stops_at_max_depth():
    tree = STANDARD[4]
    for seed in SEEDS:
        value = fake(tree, random.Random(seed), max_depth=2)
        assert_valid(tree, value)
        assert all(not child["children"] for node in value["children"] for child in node["children"])


def test_min_length_counts_code_points():
    schema = {"type": "string", "minLength": 3, "maxLength": 3}
    assert len(fake(schema, random.Random(1))) == 3


def test_name_argument_steers_the_value():
    assert fake({"type": "string"}, random.Random(0), name="city") in realistic.CITIES
