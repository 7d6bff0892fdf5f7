"""Gemini's OpenAPI-style ``Schema`` (``type: "OBJECT"``, ``nullable`` …) as standard JSON Schema.

Private to the Gemini codec until ``llmreplay.synth.openapi_schema`` takes over.
Keys may come camelCase or snake_case (the API parses proto-JSON); property names
are kept as they are.
"""

from __future__ import annotations

from typing import Any

_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"}
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_RENAMES = {
    "any_of": "anyOf",
    "one_of": "oneOf",
    "all_of": "allOf",
    "max_items": "maxItems",
    "min_items": "minItems",
    "max_length": "maxLength",
    "min_length": "minLength",
    "max_properties": "maxProperties",
    "min_properties": "minProperties",
    "property_ordering": "propertyOrdering",
    "prefix_items": "prefixItems",
    "additional_properties": "additionalProperties",
}
_DROP = {"propertyOrdering", "nullable"}
"""Gemini-only keys with no JSON Schema meaning (``nullable`` is folded into ``type``)."""


def _type(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in _TYPES:
        return value.lower()
    if isinstance(value, list):
        return [_type(v) for v in value]
    return value


def to_json_schema(schema: Any) -> dict[str, Any]:
    """The JSON Schema equivalent of a Gemini ``Schema`` object (a non-object gives ``{}``)."""
    if not isinstance(schema, dict):
        return {}
    out: dict[str, Any] = {}
    for raw_key, value in schema.items():
        key = _RENAMES.get(raw_key, raw_key)
        if key in _DROP:
            continue
        if key == "type":
            out["type"] = _type(value)
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out["items"] = to_json_schema(value)
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(v) for v in value]
        elif key in ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"):
            # Proto-JSON sends int64 fields as strings.
            out[key] = int(value) if isinstance(value, str) and value.isdigit() else value
        else:
            out[key] = value
    if schema.get("nullable") is True:
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            out["type"] = [*t, "null"]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    if "enum" in out and out.get("type") == "integer":
        # Gemini spells integer enums as strings; keep JSON Schema honest.
        out["enum"] = [int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v for v in out["enum"]]
    return out
