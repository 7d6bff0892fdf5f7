"""Schemas the faker must satisfy: real-world tool and output schemas plus one per keyword corner.

``STANDARD`` holds Draft 2020-12 schemas; ``GEMINI`` holds Gemini/OpenAPI-style ones, which the
tests validate against their ``to_json_schema`` conversion; ``DRAFT4`` uses the boolean exclusive bounds.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_WEATHER: Schema = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
}
_SEARCH: Schema = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 50},
        "site": {"type": "string", "format": "hostname"},
        "safe_search": {"type": "boolean"},
        "since": {"type": "string", "format": "date"},
    },
    "required": ["query"],
    "additionalProperties": False,
}
_CALENDAR: Schema = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 80},
        "start": {"type": "string", "format": "date-time"},
        "end": {"type": "string", "format": "date-time"},
        "attendees": {"type": "array", "items": {"type": "string", "format": "email"}, "uniqueItems": True},
        "location": {"type": "string"},
        "reminder_minutes": {"type": "integer", "enum": [5, 10, 15, 30, 60]},
        "recurrence": {"type": ["string", "null"], "enum": ["daily", "weekly", "monthly", None]},
    },
    "required": ["title", "start", "end"],
}
_ORDER: Schema = {
    "$defs": {
        "money": {"type": "object", "properties": {"amount": {"type": "number", "minimum": 0}, "currency": {
            "type": "string", "pattern": "^[A-Z]{3}$"}}, "required": ["amount", "currency"]},
        "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                    "postal_code": {"type": "string"}, "country": {"type": "string"}}, "required": ["street", "city"]},
        "line": {"type": "object", "properties": {"sku": {"type": "string", "pattern": "^SKU-[0-9]{5}$"},
                 "quantity": {"type": "integer", "minimum": 1, "maximum": 10}, "price": {"$ref": "#/$defs/money"}},
                 "required": ["sku", "quantity", "price"]},
    },
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "format": "uuid"},
        "customer": {"type": "object", "properties": {"name": {"type": "string"}, "email": {
            "type": "string", "format": "email"}, "phone": {"type": "string"}}, "required": ["name", "email"]},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "minItems": 1},
        "shipping": {"$ref": "#/$defs/address"},
        "total": {"$ref": "#/$defs/money"},
    },
    "required": ["order_id", "customer", "lines"],
}  # fmt: skip
_TREE: Schema = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "required": ["name", "children"],
        }
    },
    "$ref": "#/$defs/node",
}
_LINKED: Schema = {
    "type": "object",
    "properties": {"value": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#"}, {"type": "null"}]}},
    "required": ["value", "next"],
    "additionalProperties": False,
}
_STRICT_OPENAI: Schema = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "date": {"type": ["string", "null"]},
        "participants": {"type": "array", "items": {"type": "string"}},
        "priority": {"type": ["integer", "null"]},
        "metadata": {
            "type": ["object", "null"],
            "properties": {"source": {"type": "string"}, "confidence": {"type": "number"}},
            "required": ["source", "confidence"],
            "additionalProperties": False,
        },
        "status": {"anyOf": [{"type": "string", "enum": ["open", "closed"]}, {"type": "null"}]},
    },
    "required": ["name", "date", "participants", "priority", "metadata", "status"],
    "additionalProperties": False,
}
_STRICT_MATH: Schema = {
    "type": "object",
    "properties": {
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"explanation": {"type": "string"}, "output": {"type": "string"}},
                "required": ["explanation", "output"],
                "additionalProperties": False,
            },
        },
        "final_answer": {"type": "string"},
    },
    "required": ["steps", "final_answer"],
    "additionalProperties": False,
}
_STRICT_UI: Schema = {
    "$defs": {
        "ui": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["div", "button", "header", "section", "field", "form"]},
                "label": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/ui"}},
                "attributes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                        "required": ["name", "value"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["type", "label", "children", "attributes"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/ui",
}
_FILESYSTEM: Schema = {
    "definitions": {
        "entry": {
            "oneOf": [
                {"type": "object", "properties": {"kind": {"const": "file"}, "size": {"type": "integer", "minimum": 0}},
                 "required": ["kind", "size"], "additionalProperties": False},
                {"type": "object", "properties": {"kind": {"const": "dir"}, "entries": {
                    "type": "object", "additionalProperties": {"$ref": "#/definitions/entry"}}},
                 "required": ["kind", "entries"], "additionalProperties": False},
            ]
        }
    },
    "$ref": "#/definitions/entry",
}  # fmt: skip

REAL_WORLD: list[Schema] = [
    _WEATHER, _SEARCH, _CALENDAR, _ORDER, _TREE, _LINKED, _STRICT_OPENAI, _STRICT_MATH, _STRICT_UI, _FILESYSTEM,
    {"type": "object", "properties": {"to": {"type": "string", "format": "email"}, "subject": {"type": "string"},
     "body": {"type": "string"}, "cc": {"type": "array", "items": {"type": "string", "format": "email"}}},
     "required": ["to", "subject", "body"]},
    {"type": "object", "properties": {"ticker": {"type": "string", "pattern": "^[A-Z]{1,5}$"},
     "exchange": {"type": "string", "enum": ["NYSE", "NASDAQ", "LSE"]}}, "required": ["ticker"]},
    {"type": "object", "properties": {"latitude": {"type": "number", "minimum": -90, "maximum": 90},
     "longitude": {"type": "number", "minimum": -180, "maximum": 180}, "radius_km": {
         "type": "number", "exclusiveMinimum": 0, "maximum": 50}}, "required": ["latitude", "longitude"]},
    {"type": "object", "properties": {"command": {"type": "string"}, "timeout": {"type": "integer", "minimum": 1},
     "cwd": {"type": "string"}, "env": {"type": "object", "additionalProperties": {"type": "string"}}},
     "required": ["command"]},
    {"type": "object", "properties": {"path": {"type": "string", "pattern": "^/"}, "content": {"type": "string"},
     "mode": {"type": "string", "enum": ["overwrite", "append"], "default": "overwrite"}},
     "required": ["path", "content"]},
    {"type": "object", "properties": {"from_currency": {"type": "string", "minLength": 3, "maxLength": 3},
     "to_currency": {"type": "string", "minLength": 3, "maxLength": 3}, "amount": {"type": "number",
     "exclusiveMinimum": 0}}, "required": ["from_currency", "to_currency", "amount"]},
    {"type": "object", "properties": {"user": {"type": "object", "properties": {"first_name": {"type": "string"},
     "last_name": {"type": "string"}, "age": {"type": "integer", "minimum": 18, "maximum": 99},
     "website": {"type": "string", "format": "uri"}, "company": {"type": "string"}}, "required": ["first_name"]}},
     "required": ["user"]},
    {"type": "object", "properties": {"sql": {"type": "string", "pattern": "^(SELECT|select) "},
     "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "multipleOf": 10}}, "required": ["sql"]},
    {"type": "object", "properties": {"items": {"type": "array", "minItems": 2, "maxItems": 4, "items": {
        "type": "object", "properties": {"product": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        "required": ["product", "qty"]}}}, "required": ["items"]},
    {"type": "object", "properties": {"server": {"type": "string", "format": "ipv4"}, "v6": {
        "type": "string", "format": "ipv6"}, "port": {"type": "integer", "minimum": 1, "maximum": 65535}},
     "required": ["server", "port"]},
    {"type": "object", "properties": {"language": {"type": "string"}, "color": {"type": "string"},
     "temperature": {"type": "number", "minimum": 0, "maximum": 2}, "duration": {"type": "string",
     "format": "duration"}, "start_time": {"type": "string", "format": "time"}}},
    {"title": "Reservation", "type": "object", "properties": {"restaurant": {"type": "string"}, "party_size": {
        "type": "integer", "minimum": 1, "maximum": 20}, "date": {"type": "string", "format": "date"},
        "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}},
     "required": ["restaurant", "party_size", "date", "time"]},
]  # fmt: skip

KEYWORDS: list[Schema | bool] = [
    True,
    {},
    {"type": "string"},
    {"type": "integer"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "null"},
    {"type": "array"},
    {"type": "object"},
    {"type": ["string", "integer"]},
    {"type": ["number", "null"]},
    {"type": ["array", "object", "null"]},
    {"enum": ["a", 1, None, True, {"x": 1}]},
    {"const": {"nested": [1, 2, 3]}},
    {"type": "string", "enum": ["only"]},
    {"type": "string", "minLength": 5, "maxLength": 5},
    {"type": "string", "minLength": 40},
    {"type": "string", "maxLength": 0},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": r"^\d{3}-\d{3}-\d{4}$"},
    {"type": "string", "pattern": "^[a-z0-9_]{3,16}$"},
    {"type": "string", "pattern": r"^\w+\s\w+$"},
    {"type": "string", "pattern": "^(red|green|blue)$"},
    {"type": "string", "pattern": "^#?[0-9a-fA-F]{6}$"},
    {"type": "string", "pattern": "[aeiou]{2}"},
    {"type": "string", "pattern": "^[^@]+@[^@]+$"},
    {"type": "string", "pattern": r"^v\d+\.\d+(\.\d+)?(-[a-z]+)?$"},
    {"type": "string", "pattern": "^[A-Z]", "minLength": 10, "maxLength": 12},
    {"type": "integer", "minimum": 5, "maximum": 5},
    {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
    {"type": "integer", "minimum": -1000000, "maximum": -999990},
    {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 30},
    {"type": "integer", "multipleOf": 0.5},
    {"type": "integer", "multipleOf": 2.5, "minimum": 1},
    {"type": "number", "multipleOf": 0.01, "minimum": 0, "maximum": 1},
    {"type": "number", "multipleOf": 0.1},
    {"type": "number", "multipleOf": 3},
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    {"type": "number", "minimum": 1e10},
    {"type": "number", "maximum": -5.5},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
    {"type": "array", "items": {"type": "boolean"}, "uniqueItems": True, "minItems": 2},
    {"type": "array", "items": {"enum": [1, 2, 3]}, "uniqueItems": True, "minItems": 3},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
    {"type": "array", "prefixItems": [{"const": "x"}], "minItems": 1, "items": {"type": "number"}},
    {"type": "array", "contains": {"type": "integer", "minimum": 100}, "items": {"type": "integer"}},
    {"type": "array", "maxItems": 0},
    {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False, "required": ["a"]},
    {"type": "object", "additionalProperties": {"type": "integer"}, "minProperties": 2},
    {"type": "object", "patternProperties": {"^x-[a-z]+$": {"type": "string"}}, "additionalProperties": False,
     "minProperties": 1},
    {"type": "object", "properties": {"a": {}, "b": {}, "c": {}}, "maxProperties": 1},
    {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "minProperties": 2},
    {"type": "object", "properties": {"card": {"type": "string"}, "billing": {"type": "string"}},
     "required": ["card"], "dependentRequired": {"card": ["billing"]}},
    {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}, "minProperties": 1},
    {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10}]},
    {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
               {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
    {"allOf": [{"type": "integer", "minimum": 0}, {"maximum": 10}, {"multipleOf": 4}]},
    {"allOf": [{"type": ["string", "number"]}, {"type": ["number", "boolean"]}]},
    {"allOf": [{"$ref": "#/$defs/base"}, {"properties": {"extra": {"type": "boolean"}}, "required": ["extra"]}],
     "$defs": {"base": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}},
    {"type": "integer", "not": {"enum": [0, 1, 2]}, "minimum": 0, "maximum": 4},
    {"not": {"type": "string"}},
    {"type": "string", "not": {"pattern": "^a"}},
    {"type": "object", "properties": {"country": {"enum": ["US", "CA"]}, "postal_code": {"type": "string"}},
     "required": ["country", "postal_code"],
     "if": {"properties": {"country": {"const": "US"}}},
     "then": {"properties": {"postal_code": {"pattern": "^[0-9]{5}$"}}},
     "else": {"properties": {"postal_code": {"pattern": "^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$"}}}},
    {"if": {"type": "integer"}, "then": {"minimum": 100}, "else": {"type": "string"}},
    {"$ref": "#/definitions/a~1b", "definitions": {"a/b": {"type": "string", "const": "slash"}}},
    {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "type": "array", "items": {"$ref": "#/$defs/pos"}},
    {"$defs": {"s": {"$anchor": "short", "type": "string", "maxLength": 2}}, "$ref": "#short"},
    {"type": "object", "properties": {"self": {"$ref": "#"}, "n": {"type": "integer"}}, "required": ["n"]},
    {"$defs": {"expr": {"anyOf": [{"type": "number"}, {"type": "object", "properties": {
        "op": {"enum": ["+", "-", "*"]}, "args": {"type": "array", "items": {"$ref": "#/$defs/expr"},
        "minItems": 2, "maxItems": 2}}, "required": ["op", "args"]}]}}, "$ref": "#/$defs/expr"},
    {"type": "object", "required": ["ghost"]},
    {"type": "string", "format": "email", "maxLength": 40},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "unknown-format"},
]  # fmt: skip

FORMATS: list[Schema] = [
    {"type": "string", "format": f}
    for f in ("date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname", "duration")
]

NAMED: list[Schema] = [
    {"type": "object", "properties": {name: {"type": t}}, "required": [name]}
    for name, t in (
        ("city", "string"), ("country", "string"), ("email", "string"), ("first_name", "string"),
        ("phoneNumber", "string"), ("zip_code", "string"), ("price", "number"), ("age", "integer"),
        ("latitude", "number"), ("lon", "number"), ("currency", "string"), ("count", "integer"),
    )
]  # fmt: skip

GEMINI: list[Schema] = [
    {"type": "OBJECT", "properties": {"location": {"type": "STRING"}, "unit": {"type": "STRING", "format": "enum",
     "enum": ["celsius", "fahrenheit"]}}, "required": ["location"], "propertyOrdering": ["location", "unit"]},
    {"type": "OBJECT", "properties": {"recipes": {"type": "ARRAY", "minItems": "1", "maxItems": "3", "items": {
        "type": "OBJECT", "properties": {"recipe_name": {"type": "STRING"}, "ingredients": {"type": "ARRAY",
        "items": {"type": "STRING"}}}, "required": ["recipe_name"]}}}, "required": ["recipes"]},
    {"type": "OBJECT", "properties": {"note": {"type": "STRING", "nullable": True}, "rating": {
        "type": "INTEGER", "minimum": 1, "maximum": 5, "nullable": True}}, "required": ["note", "rating"]},
    {"type": "ARRAY", "items": {"type": "NUMBER", "format": "double"}, "minItems": "2"},
    {"type": "STRING", "nullable": True, "enum": ["a", "b"], "format": "enum"},
    {"type": "OBJECT", "properties": {"flag": {"type": "BOOLEAN"}, "when": {"type": "STRING", "format": "date-time"},
     "n": {"type": "INTEGER", "format": "int32", "minimum": "0", "maximum": "9"}}, "required": ["flag", "when", "n"]},
    {"type": "OBJECT", "anyOf": [{"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["a"]},
     {"type": "OBJECT", "properties": {"b": {"type": "INTEGER"}}, "required": ["b"]}]},
]  # fmt: skip

DRAFT4: list[Schema] = [
    {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1, "exclusiveMaximum": True},
    {"type": "integer", "minimum": 3, "maximum": 5, "exclusiveMaximum": True},
    {"type": "integer", "minimum": 3, "exclusiveMinimum": False, "maximum": 3},
]

STANDARD: list[Schema | bool] = [*REAL_WORLD, *KEYWORDS, *FORMATS, *NAMED]

UNSATISFIABLE: list[Schema | bool] = [
    False,
    {"type": "integer", "minimum": 10, "maximum": 1},
    {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1},
    {"type": "string", "minLength": 5, "maxLength": 2},
    {"type": "array", "minItems": 3, "maxItems": 1},
    {"type": "object", "properties": {"a": False}, "required": ["a"]},
    {"type": "object", "required": ["a"], "additionalProperties": False},
    {"allOf": [{"type": "string"}, {"type": "integer"}]},
    {"allOf": [{"const": 1}, {"const": 2}]},
    {"enum": [1, 2], "type": "string"},
    {"type": "integer", "multipleOf": 5, "minimum": 1, "maximum": 4},
    {"type": "array", "items": {"enum": [1, 2]}, "uniqueItems": True, "minItems": 3},
    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "maxProperties": 0},
    {"anyOf": [False, {"type": "integer", "minimum": 2, "maximum": 1}]},
    {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]},
    {"type": "object", "patternProperties": {"^a$": {}}, "additionalProperties": False, "minProperties": 2},
    {"type": "string", "pattern": "^abc$", "minLength": 5},
    {"type": "string", "format": "date-time", "maxLength": 5},
    {"type": "object", "properties": {"a": {}}, "dependentRequired": {"a": ["b"]}, "additionalProperties": False,
     "required": ["a"]},
]  # fmt: skip
