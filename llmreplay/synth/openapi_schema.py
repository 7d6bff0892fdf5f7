"""Gemini's OpenAPI-flavoured schema (``"type": "OBJECT"``, ``nullable``, ``propertyOrdering``) as JSON Schema.

Gemini accepts a subset of OpenAPI 3.0 schema objects: capitalised type names, ``nullable: true``
instead of a ``"null"`` type, ``format: "enum"`` next to an ``enum``, and integer counts that may
arrive as strings (``"minItems": "1"``, the protobuf int64 JSON form). The conversion is pure and
turns draft-4 boolean ``exclusiveMinimum``/``exclusiveMaximum`` into the numeric form; it
leaves standard keywords alone, so converting an already-standard schema changes nothing but those forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_COUNTS = frozenset(
    {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minContains", "maxContains"}
)
_NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_ONE = frozenset(
    {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedProperties"}
)
_DROPPED = frozenset({"nullable", "propertyOrdering", "example"})


def is_openapi(schema: Any) -> bool:
    """Whether ``schema`` uses any Gemini/OpenAPI-only form, anywhere in its subschemas."""
    if not isinstance(schema, Mapping):
        return False
    t = schema.get("type")
    types = t if isinstance(t, list) else [t]
    if any(isinstance(x, str) and x != x.lower() for x in types):
        return True
    if "nullable" in schema or "propertyOrdering" in schema or schema.get("format") == "enum":
        return True
    if any(isinstance(schema.get(k), str | bool) for k in _COUNTS | _NUMBERS):
        return True
    return any(is_openapi(sub) for sub in _subschemas(schema))


def _subschemas(schema: Mapping[str, Any]) -> list[Any]:
    subs: list[Any] = []
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            subs.extend(value.values())
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            subs.extend(value)
        elif key in _SCHEMA_ONE:
            subs.append(value)
    return subs


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            as_float = float(value)
        except ValueError:
            return value
        return int(as_float) if as_float.is_integer() and "." not in value else as_float
    return value


def to_json_schema(schema: Any) -> Any:
    """The standard (Draft 2020-12) JSON Schema equivalent of a Gemini/OpenAPI schema object."""
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED:
            continue
        if key == "type":
            out[key] = [v.lower() for v in value] if isinstance(value, list) else value.lower()
            if out[key] == "type_unspecified":
                del out[key]
        elif key == "format" and value == "enum":
            continue
        elif key in _COUNTS:
            out[key] = int(_number(value))
        elif key in _NUMBERS:
            out[key] = _number(value)
        elif key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(v) for v in value]
        elif key in _SCHEMA_ONE:
            out[key] = to_json_schema(value)
        else:
            out[key] = value
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        # OpenAPI 3.0 / draft 4: a boolean flag making the neighbouring bound strict.
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            del out[exclusive]
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
    if schema.get("nullable") is True:
        _allow_null(out)
    return out


def _allow_null(out: dict[str, Any]) -> None:
    # An enum lists every allowed value, so null must join it as well as the type.
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    t = out.get("type")
    if isinstance(t, str) and t != "null":
        out["type"] = [t, "null"]
    elif isinstance(t, list) and "null" not in t:
        out["type"] = [*t, "null"]
    elif t is None and any(k in out for k in ("anyOf", "oneOf")):
        key = "anyOf" if "anyOf" in out else "oneOf"
        out[key] = [*out[key], {"type": "null"}]
