from llmreplay.synth.openapi_schema import is_openapi, to_json_schema


def test_gemini_schema_becomes_standard():
    gemini = {
        "type": "OBJECT",
        "properties": {
            "unit": {"type": "STRING", "format": "enum", "enum": ["c", "f"], "nullable": True},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": "1", "maxItems": "3"},
            "n": {"type": "INTEGER", "minimum": "0", "maximum": 2.5},
        },
        "required": ["unit"],
        "propertyOrdering": ["unit", "tags", "n"],
    }
    assert to_json_schema(gemini) == {
        "type": "object",
        "properties": {
            "unit": {"type": ["string", "null"], "enum": ["c", "f", None]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
            "n": {"type": "integer", "minimum": 0, "maximum": 2.5},
        },
        "required": ["unit"],
    }


def test_nullable_any_of_gets_a_null_branch():
    converted = to_json_schema({"anyOf": [{"type": "STRING"}], "nullable": True})
    assert converted == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_boolean_exclusive_bounds_become_numeric():
    assert to_json_schema({"minimum": 1, "exclusiveMinimum": True, "maximum": 2, "exclusiveMaximum": False}) == {
        "exclusiveMinimum": 1,
        "maximum": 2,
    }


def test_standard_schema_is_left_alone():
    schema = {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]}
    assert not is_openapi(schema)
    assert to_json_schema(schema) == schema


def test_detection_looks_into_nested_schemas():
    assert is_openapi({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "STRING"}}}})
    assert is_openapi({"type": "array", "minItems": "2"})
    assert not is_openapi({"type": "object", "properties": {"nullable": {"type": "boolean"}}})
