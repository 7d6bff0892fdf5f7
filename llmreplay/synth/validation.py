"""The ``jsonschema`` validator the faker checks its values with: Draft 2020-12, but every client pattern
(``pattern``, ``patternProperties``, and the property names ``additionalProperties`` weighs) is searched with
``pattern_match.search``, which cannot backtrack without bound, instead of ``re.search``; and the keywords that
descend (``anyOf``, ``$ref`` ...) charge the faker's budget (:data:`CHARGED`), since checking a value against
nested ``anyOf`` that all fail is exponential in the nesting."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from llmreplay.synth.budget import Budget
from llmreplay.synth.pattern_match import search

CHARGED: ContextVar[Budget | None] = ContextVar("CHARGED", default=None)
"""The budget of the value being faked, which the descending keywords charge; set by ``faker.fake``."""
_DESCENDING = ("$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "not", "if", "items", "prefixItems", "properties")


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, extra: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    named = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [k for k in instance if k not in named and not any(search(p, k) for p in patterns)]
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        yield ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))} unexpected)")


def _charging(keyword: Callable[..., Iterator[ValidationError]]) -> Callable[..., Iterator[ValidationError]]:
    def charged(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
        budget = CHARGED.get()
        if budget is not None:  # a keyword over an array or object visits each member: charged as many steps
            budget.spend(1 + len(instance) if isinstance(instance, list | dict) else 1)
        yield from keyword(validator, value, instance, schema)

    return charged


SafeValidator = validators.extend(
    Draft202012Validator,
    {
        **{k: _charging(Draft202012Validator.VALIDATORS[k]) for k in _DESCENDING},
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)
"""Draft 2020-12 with the three keywords above in place of ``jsonschema``'s own."""
