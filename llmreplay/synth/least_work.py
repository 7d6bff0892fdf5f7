"""The least work any value of a schema costs the faker, reckoned from the schema alone before a value is made.

A schema whose smallest valid value is over the request's budget (``$defs`` fanning out 5 levels × 10 required
properties: 11,111 values; ``minItems: 500`` asked by the 3rd of ``n: 128`` choices) was found out only once the
faker had spent the budget, 80-145 ms of work on a busy machine, all of it to end in the 400. Reckoned first, it
is the same 400 in well under a millisecond. The reckoning is a lower bound, so a schema that fits is never
refused for it: only what every value must hold is counted (required properties, ``minItems``,
``minProperties``, the cheapest ``anyOf``/``oneOf`` branch), each value as one step (the faker's draw), and each
member visited by ``properties``, ``items`` or ``prefixItems`` as one more (its check, as ``validation`` charges
it). A schema met again through recursion counts as one value: the faker ends recursion at its depth bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmreplay.synth.budget import MAX_ITEMS
from llmreplay.synth.faker import ARRAY_KEYS, OBJECT_KEYS, STRING_KEYS
from llmreplay.synth.scalars import NUMBER_KEYWORDS
from llmreplay.synth.schema_merge import Unsatisfiable, flatten

_SCALAR_KEYS = STRING_KEYS + NUMBER_KEYWORDS


def least_steps(root: Any, cap: int) -> int:
    """The fewest steps any value of ``root`` costs, or ``cap + 1`` when that is over ``cap``."""
    return _Reckoning(root, cap).walk(root)


class _Reckoning:
    def __init__(self, root: Any, cap: int) -> None:
        self.root = root
        self.over = cap + 1
        self.known: dict[Any, int] = {}
        """By schema: the same ``$ref`` (by its text) or subschema (by identity) is reckoned once."""
        self.open: set[Any] = set()

    def walk(self, schema: Any) -> int:
        key = _key(schema)
        if key in self.known:
            return self.known[key]
        if key in self.open:
            return 1
        self.open.add(key)
        try:
            n = min(self._least(schema), self.over)
        finally:
            self.open.discard(key)
        self.known[key] = n
        return n

    def _least(self, schema: Any) -> int:
        try:
            s = flatten(self.root, schema)
        except (Unsatisfiable, RecursionError, TypeError, ValueError):
            return 1  # the faker says what is wrong with it
        if "const" in s or "enum" in s:
            return 1
        least = 1
        for key in ("anyOf", "oneOf"):
            branches = s.get(key)
            if isinstance(branches, list) and branches:
                least = max(least, min(self.walk(b) for b in branches))
        kinds = _kinds(s)
        costs = [self._object(s) if k == "object" else self._array(s) if k == "array" else 1 for k in kinds]
        return max(least, min(costs, default=1))

    def _object(self, s: Mapping[str, Any]) -> int:
        props = s.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required = s.get("required")
        names = set(required) if isinstance(required, list) else set()
        n = 1 + sum(self.walk(props[r]) if r in props else 1 for r in names if isinstance(r, str))
        n += max(0, _count(s.get("minProperties"), self.over) - len(names))
        if "properties" in s:
            n += 1 + len(names)
        return min(n, self.over)

    def _array(self, s: Mapping[str, Any]) -> int:
        low = _count(s.get("minItems"), self.over)
        prefix = s.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = s.get("items", True)
        n = 1 + sum(self.walk(p) for p in prefix[:low])
        rest = low - min(low, len(prefix))
        if rest:
            n += rest * (self.walk(items) if isinstance(items, Mapping | bool) else 1)
        if "items" in s or "prefixItems" in s:
            n += 1 + low
        return min(n, self.over)


def _key(schema: Any) -> Any:
    if isinstance(schema, Mapping) and len(schema) == 1 and isinstance(schema.get("$ref"), str):
        return schema["$ref"]
    return id(schema)


def _kinds(s: Mapping[str, Any]) -> list[str]:
    """The types a value of ``s`` may take, as the faker reads them (declared, else guessed from keywords)."""
    declared = s.get("type")  # upper case in Gemini's OpenAPI form
    if isinstance(declared, str):
        return [declared.lower()]
    if isinstance(declared, list) and declared:
        return [t.lower() for t in declared if isinstance(t, str)] or ["null"]
    kinds = [k for k, keys in (("object", OBJECT_KEYS), ("array", ARRAY_KEYS)) if any(x in s for x in keys)]
    if not kinds or any(x in s for x in _SCALAR_KEYS):
        kinds.append("scalar")
    return kinds


def _count(value: Any, over: int) -> int:
    """A ``minItems``/``minProperties`` as a count (anything odd, or over ``MAX_ITEMS``, as 0: the faker refuses
    it itself, naming it)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_ITEMS:
        return 0
    return int(min(value, over))
