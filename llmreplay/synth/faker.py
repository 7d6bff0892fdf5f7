"""Fake JSON values for a JSON Schema: tool-call arguments and structured output.

The walker generates a value from each (flattened) schema node and checks it with ``jsonschema``
before handing it up, retrying with fresh draws when it does not fit, so what comes out always
validates. Property names steer strings and numbers towards realistic values (see ``realistic``),
but constraints win. Every draw comes from the ``rng`` given, so a seeded generator repeats itself.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from typing import Any

from llmreplay.synth import pattern_match, realistic, regex_gen
from llmreplay.synth.budget import MAX_ITEMS, Budget, OverBudget, check_size
from llmreplay.synth.openapi_schema import is_openapi, to_json_schema
from llmreplay.synth.scalars import NUMBER_KEYWORDS, number_value, string_value
from llmreplay.synth.schema_merge import Unsatisfiable, flatten
from llmreplay.synth.validation import CHARGED, SafeValidator

_OPTIONAL_PROBABILITY = 0.7
_NULL_PROBABILITY = 0.2
_ATTEMPTS = 8
_BUDGET = 400
"""Retries allowed per ``fake`` call, so nested failing nodes cannot multiply retries without bound."""
_HARD_DEPTH = 24
OBJECT_KEYS = ("properties", "required", "additionalProperties", "patternProperties", "minProperties")
ARRAY_KEYS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains")
STRING_KEYS = ("minLength", "maxLength", "pattern", "format")
"""The keywords a schema without a ``type`` is read by: an object's, an array's, a string's (and a number's,
``scalars.NUMBER_KEYWORDS``)."""


class UnsatisfiableSchema(Unsatisfiable):
    """No value can satisfy the schema (minimum above maximum, the false schema, ...)."""


def fake(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    *,
    name: str | None = None,
    max_depth: int = 6,
    budget: Budget | None = None,
) -> Any:
    """A value valid against ``schema`` (Draft 2020-12, or Gemini's OpenAPI form), drawn from ``rng``; the work is
    charged to ``budget`` (a fresh one when none is given), and :class:`~llmreplay.synth.budget.OverBudget` ends it."""
    if is_openapi(schema):
        schema = to_json_schema(schema)
    try:
        account = budget or Budget()
        token = CHARGED.set(account)
        try:
            return _Faker(schema, rng, max_depth, account).gen(schema, name, 0)
        finally:
            CHARGED.reset(token)
    except UnsatisfiableSchema:
        raise
    except (Unsatisfiable, RecursionError) as exc:
        raise UnsatisfiableSchema(exc.args[0] if exc.args else "no value satisfies the schema") from exc


class _Faker:
    def __init__(self, root: Any, rng: random.Random, max_depth: int, account: Budget) -> None:
        self.root = root
        self.rng = rng
        self.account = account
        self.max_depth = max_depth
        self.budget = _BUDGET
        base = root if isinstance(root, Mapping | bool) else {}
        self._validator = SafeValidator(base, format_checker=SafeValidator.FORMAT_CHECKER)

    def valid(self, schema: Any, value: Any) -> bool:
        try:
            return bool(self._validator.evolve(schema=schema).is_valid(value))
        except OverBudget:
            raise
        except Exception:  # an unresolvable $ref or odd keyword value: not valid as far as we can tell
            return False

    def gen(self, schema: Any, name: str | None, depth: int) -> Any:
        """A value for ``schema``, checked against it; retried a few times before giving up."""
        if depth > self.max_depth + _HARD_DEPTH:
            raise Unsatisfiable("recursion does not terminate")
        error: Unsatisfiable | None = None
        for _ in range(_ATTEMPTS):
            self.account.spend()
            try:
                value = self._once(schema, name, depth)
            except Unsatisfiable as exc:
                error = exc
                if "retry" not in exc.args:
                    raise
            else:
                if self.valid(schema, value):
                    return value
            self.budget -= 1
            if self.budget <= 0:
                break
        raise error or Unsatisfiable(f"no value found for {name or 'the schema'}", "retry")

    def _once(self, schema: Any, name: str | None, depth: int) -> Any:
        s = flatten(self.root, schema)
        for key in ("oneOf", "anyOf"):
            if key in s:
                return self._branch(s, key, name, depth)
        if "if" in s:
            return self._conditional(s, name, depth)
        if "not" in s:
            return self._negated(s, name, depth)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            rest = {k: v for k, v in s.items() if k != "enum"}
            options = [v for v in s["enum"] if self.valid(rest, v)]
            if not options:
                raise Unsatisfiable("no enum value fits the other keywords")
            return self.rng.choice(options)
        types = self._types(s, name)
        if "null" in types and (
            set(types) == {"null"} or depth >= self.max_depth or self.rng.random() < _NULL_PROBABILITY
        ):
            return None
        choices = [t for t in types if t != "null"]
        self.rng.shuffle(choices)
        error: Unsatisfiable | None = None
        for t in choices:
            try:
                return self._typed(t, s, name, depth)
            except Unsatisfiable as exc:
                error = exc
        raise error or Unsatisfiable("no type fits")

    def _typed(self, t: str, s: dict[str, Any], name: str | None, depth: int) -> Any:
        if t == "object":
            return self._object(s, depth)
        if t == "array":
            return self._array(s, name, depth)
        if t in ("integer", "number"):
            return number_value(s, name, self.rng, integer=t == "integer", fits=lambda v: self.valid(s, v))
        if t == "boolean":
            return self.rng.random() < 0.5
        text = string_value(s, name, self.rng, fits=lambda v: self.valid(s, v))
        self.account.spend(0, chars=len(text))
        return text

    def _types(self, s: dict[str, Any], name: str | None) -> list[str]:
        declared = s.get("type")
        if declared is not None:
            types = [declared] if isinstance(declared, str) else list(declared)
        else:
            types = [
                t
                for t, keys in (("object", OBJECT_KEYS), ("array", ARRAY_KEYS), ("string", STRING_KEYS))
                if any(k in s for k in keys)
            ]
            if any(k in s for k in NUMBER_KEYWORDS):
                types.append("number")
            if not types:
                guess = realistic.number_for(name, self.rng, integer=True) is not None
                types = ["integer"] if guess else self.rng.choice((["string"], ["string"], ["integer"], ["boolean"]))
        return types

    def _branch(self, s: dict[str, Any], key: str, name: str | None, depth: int) -> Any:
        rest = {k: v for k, v in s.items() if k != key}
        branches = list(s[key])
        self.rng.shuffle(branches)
        if depth >= self.max_depth:
            branches.sort(key=lambda b: "$ref" in json.dumps(b))
        for branch in branches:
            try:
                value = self.gen({"allOf": [rest, branch]}, name, depth)
            except Unsatisfiable:
                continue
            if self.valid(s, value):
                return value
        raise Unsatisfiable(f"no {key} branch could be met", "retry")

    def _conditional(self, s: dict[str, Any], name: str | None, depth: int) -> Any:
        rest = {k: v for k, v in s.items() if k not in ("if", "then", "else")}
        cond = s["if"]
        paths = [(True, {"allOf": [rest, cond, s.get("then", True)]}), (False, {"allOf": [rest, s.get("else", True)]})]
        self.rng.shuffle(paths)
        for expect, candidate in paths:
            try:
                value = self.gen(candidate, name, depth)
            except Unsatisfiable:
                continue
            if self.valid(cond, value) == expect:
                return value
        raise Unsatisfiable("neither if/then nor else could be met", "retry")

    def _negated(self, s: dict[str, Any], name: str | None, depth: int) -> Any:
        rest = {k: v for k, v in s.items() if k != "not"}
        banned = s["not"]
        if isinstance(banned, Mapping) and set(banned) == {"type"} and "type" not in rest:
            out = banned["type"] if isinstance(banned["type"], list) else [banned["type"]]
            rest["type"] = [t for t in ("string", "integer", "boolean", "object", "array", "null") if t not in out]
        for _ in range(_ATTEMPTS * 2):
            value = self._once(rest, name, depth)
            if not self.valid(s["not"], value):
                return value
        raise Unsatisfiable("every value tried matched the 'not' schema", "retry")

    def _object(self, s: dict[str, Any], depth: int) -> dict[str, Any]:
        props: Mapping[str, Any] = s.get("properties", {})
        required = list(s.get("required", []))
        deep = depth >= self.max_depth
        out: dict[str, Any] = {}
        for key in [*props, *(r for r in required if r not in props)]:
            if key not in required and (deep or self.rng.random() >= _OPTIONAL_PROBABILITY):
                continue
            self._put(s, out, key, depth, required=key in required)
        for key in list(out):
            for dep in s.get("dependentRequired", {}).get(key, []):
                if dep not in out:
                    self._put(s, out, dep, depth, required=True)
        minimum = check_size("minProperties", s.get("minProperties", 0), MAX_ITEMS)
        spare = [k for k in props if k not in out]
        for extra in range(4 * minimum + 8):
            if len(out) >= minimum:
                break
            key = spare.pop(0) if spare else self._extra_key(s, extra)
            self._put(s, out, key, depth, required=True)
        if len(out) < minimum:
            raise Unsatisfiable("could not find enough distinct property names", "retry")
        maximum = s.get("maxProperties")
        if maximum is not None:
            for key in [k for k in reversed(list(out)) if k not in required]:
                if len(out) <= maximum:
                    break
                del out[key]
            if len(out) > maximum:
                raise Unsatisfiable("more required properties than maxProperties")
        return out

    def _put(self, s: dict[str, Any], out: dict[str, Any], key: str, depth: int, *, required: bool) -> None:
        sub = self._property_schema(s, key)
        try:
            if sub is None:
                raise Unsatisfiable(f"property {key!r} is required but not allowed")
            out[key] = self.gen(sub, key, depth + 1)
        except Unsatisfiable:
            if required:
                raise

    def _property_schema(self, s: dict[str, Any], key: str) -> Any:
        if key in s.get("properties", {}):
            return s["properties"][key]
        matching = [
            sub for pattern, sub in s.get("patternProperties", {}).items() if pattern_match.search(pattern, key)
        ]
        if matching:
            return {"allOf": matching}
        extra = s.get("additionalProperties", True)
        return None if extra is False else extra

    def _extra_key(self, s: dict[str, Any], index: int) -> str:
        for pattern in s.get("patternProperties", {}):
            key = regex_gen.generate(pattern, self.rng, min_length=1)
            if key is not None:
                return key
        names = s.get("propertyNames")
        if names is not None:
            return str(self.gen(names, None, self.max_depth))
        return f"{realistic.words(self.rng, 1)}_{index + 1}"

    def _array(self, s: dict[str, Any], name: str | None, depth: int) -> list[Any]:
        prefix = list(s.get("prefixItems", []))
        items = s.get("items", True)
        if isinstance(items, list):  # draft-4 tuple form
            prefix, items = items, s.get("additionalItems", True)
        low = check_size("minItems", s.get("minItems", 0), MAX_ITEMS)
        high: float = s.get("maxItems", math.inf)
        if items is False:
            high = min(high, len(prefix))
        if low > high:
            raise Unsatisfiable("minItems is above maxItems")
        count = low if depth >= self.max_depth else self.rng.randint(low, int(min(high, max(low, 3 - depth // 2))))
        if "contains" in s and count == 0 and high > 0:
            count = 1
        item_name = _singular(name)
        out: list[Any] = []
        keys: set[str] = set()
        slot_for_contains = self.rng.randrange(count) if "contains" in s and count else -1
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else items
            if i == slot_for_contains:
                sub = {"allOf": [sub, s["contains"]]}
            for _ in range(_ATTEMPTS):
                value = self.gen(sub, item_name, depth + 1)
                key = _unique_key(value)
                if not s.get("uniqueItems") or key not in keys:
                    break
            else:
                if len(out) >= low:
                    break
                raise Unsatisfiable("not enough distinct items for uniqueItems", "retry")
            keys.add(key)
            out.append(value)
        return out


def _singular(name: str | None) -> str | None:
    if not name:
        return name
    if name.endswith("ies"):
        return name[:-3] + "y"
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def _unique_key(value: Any) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v

    return json.dumps(norm(value), sort_keys=True)
