"""Folding ``allOf`` and ``$ref`` into one schema the faker can generate from directly.

The merge is an approximation on purpose: keywords with an obvious intersection (types, bounds,
required, properties, enums) are combined exactly; the rest keep the first value and park the
others under ``allOf``, and the faker's validation of every value it produces catches what the
merge could not express.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

_LOWER = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"})
_UPPER = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"})
_SUBSCHEMA = frozenset({"items", "additionalProperties", "contains", "propertyNames", "additionalItems"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_MAX_HOPS = 64


class Unsatisfiable(ValueError):
    """No value can satisfy the schema."""


def resolve(root: Any, ref: str) -> Any:
    """The subschema of ``root`` that a local ``$ref`` ("#", "#/$defs/x", "#anchor") points at."""
    if not ref.startswith("#"):
        raise Unsatisfiable(f"cannot resolve non-local $ref {ref!r}")
    fragment = unquote(ref[1:])
    if fragment and not fragment.startswith("/"):
        found = _find_anchor(root, fragment)
        if found is None:
            raise Unsatisfiable(f"no $anchor {fragment!r}")
        return found
    node = root
    for raw in fragment.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, Mapping) and token in node:
            node = node[token]
        else:
            raise Unsatisfiable(f"$ref {ref!r} points nowhere")
    return node


def _find_anchor(node: Any, anchor: str) -> Any:
    if isinstance(node, Mapping):
        if node.get("$anchor") == anchor or node.get("$dynamicAnchor") == anchor:
            return node
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_anchor(child, anchor)
        if found is not None:
            return found
    return None


def flatten(root: Any, schema: Any, hops: int = 0) -> dict[str, Any]:
    """``schema`` with its own ``$ref`` and ``allOf`` merged in; subschemas below stay as they are."""
    if hops > _MAX_HOPS:
        raise Unsatisfiable("$ref cycle without any nesting")
    if schema is True:
        return {}
    if schema is False or not isinstance(schema, Mapping):
        raise Unsatisfiable("the false schema accepts nothing")
    own = dict(schema)
    ref = own.pop("$ref", None) or own.pop("$dynamicRef", None)
    parts = list(own.pop("allOf", []))
    if ref is not None:
        parts.insert(0, resolve(root, ref))
    if not parts:
        return own
    return merge([own, *(flatten(root, p, hops + 1) for p in parts)])


def merge(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    parked: list[dict[str, Any]] = []
    for schema in schemas:
        for key, value in schema.items():
            if key not in out:
                out[key] = dict(value) if key in _SCHEMA_MAPS and isinstance(value, Mapping) else value
            elif key == "allOf":
                out[key] = [*out[key], *value]
            elif not _combine(out, key, value):
                parked.append({key: value})
    if parked:
        out["allOf"] = [*out.get("allOf", []), *parked]
    return out


def _combine(out: dict[str, Any], key: str, value: Any) -> bool:
    """Fold ``value`` into ``out[key]``; False when the two cannot be expressed as one keyword."""
    cur = out[key]
    if key == "type":
        out[key] = _types_intersection(cur, value)
    elif key == "required":
        out[key] = [*cur, *(r for r in value if r not in cur)]
    elif key in _SCHEMA_MAPS:
        for name, sub in value.items():
            cur[name] = {"allOf": [cur[name], sub]} if name in cur else sub
    elif key == "enum":
        out[key] = [x for x in cur if any(same(x, y) for y in value)]
        if not out[key]:
            raise Unsatisfiable("the merged enums share no value")
    elif key == "const":
        if not same(cur, value):
            raise Unsatisfiable("two different consts")
    elif key in _LOWER and not isinstance(value, bool) and not isinstance(cur, bool):
        out[key] = max(cur, value)
    elif key in _UPPER and not isinstance(value, bool) and not isinstance(cur, bool):
        out[key] = min(cur, value)
    elif key == "multipleOf":
        out[key] = _common_multiple(cur, value)
    elif key in _SUBSCHEMA:
        out[key] = False if cur is False or value is False else {"allOf": [cur, value]}
    elif key == "uniqueItems":
        out[key] = bool(cur or value)
    elif key == "not":
        out[key] = {"anyOf": [cur, value]}
    elif key == "dependentRequired":
        out[key] = {k: [*cur.get(k, []), *value.get(k, [])] for k in {**cur, **value}}
    else:
        return same(cur, value)
    return True


def _types_intersection(a: Any, b: Any) -> list[str]:
    left = [a] if isinstance(a, str) else list(a)
    right = [b] if isinstance(b, str) else list(b)
    both = [t for t in left if t in right]
    if "integer" not in both and (
        ("integer" in left and "number" in right) or ("number" in left and "integer" in right)
    ):
        both.append("integer")
    if not both:
        raise Unsatisfiable(f"types {left} and {right} do not overlap")
    return both


def _common_multiple(a: float, b: float) -> float:
    if isinstance(a, int) and isinstance(b, int):
        return a * b // math.gcd(a, b)
    big, small = max(a, b), min(a, b)
    ratio = big / small
    return big if math.isclose(ratio, round(ratio)) else a * b


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)
