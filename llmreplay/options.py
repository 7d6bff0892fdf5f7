"""How an option is declared, once, and how its allowed values are worded wherever it is refused.

A field's default, bounds and description are pydantic's; :class:`Option` adds what only start-up
needs (the environment variable, the settings file's key, the original server's spellings). It rides in
the field's metadata rather than ``json_schema_extra`` so that the admin API's OpenAPI document, and
the reference generated from it, stay exactly the live fields' schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, GetCoreSchemaHandler
from pydantic.fields import FieldInfo
from pydantic_core import CoreSchema, core_schema


@dataclass(frozen=True)
class Option:
    """What start-up needs to know about a field beyond its type, default and bounds."""

    env: str | None = None
    """The environment variable that sets it."""
    key: str | None = None
    """Its name in the settings file, where the original server's differs from the admin API's."""
    spellings: tuple[tuple[str, str], ...] = ()
    """(other spelling, value) pairs: the original server's names, accepted everywhere and listed first."""
    ceiling: bool = False
    """Whether the upper bound only guards against absurd values (a ten-minute chunk gap), so the minimum is
    the real rule and is worded first: "a number ≥ 0, at most 600000" rather than "from 0 to 600000"."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        if not self.spellings:
            return schema
        names = dict(self.spellings)
        # Mapped before the type check, so every surface (file, environment, admin API) accepts them alike.
        return core_schema.no_info_before_validator_function(
            lambda v: names.get(v, v) if isinstance(v, str) else v, schema
        )


def option(
    default: Any,
    help: str,
    env: str | None = None,
    *,
    key: str | None = None,
    spellings: Mapping[str, str] | None = None,
    ceiling: float | None = None,
    **bounds: Any,
) -> Any:
    """A field: its default, help text, environment name and bounds in one declaration.

    ``ceiling`` is an upper bound (``le``) that guards rather than defines the range."""
    if ceiling is not None:
        bounds["le"] = ceiling
    info = Field(default, description=help, **bounds)
    info.metadata.append(Option(env, key, tuple((spellings or {}).items()), ceiling is not None))
    return info


def option_of(info: FieldInfo) -> Option:
    return next((m for m in info.metadata if isinstance(m, Option)), Option())


def describe(info: FieldInfo) -> str:
    """What values a field allows, in a few words: "a number from 0 to 600000", "one of a, b"."""
    ann = info.annotation
    args = get_args(ann)
    literal = args if get_origin(ann) is Literal else next((get_args(a) for a in args if get_origin(a) is Literal), ())
    if literal:
        spelled = dict(option_of(info).spellings)
        values = [*spelled, *(v for v in literal if v not in spelled)]
        return "one of " + ", ".join(map(str, values))
    kinds = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    kind = next((kinds[t] for t in (ann, *args) if t in kinds), "a value")
    lo = next(((getattr(m, a), a) for m in info.metadata for a in ("ge", "gt") if hasattr(m, a)), None)
    hi = next(((getattr(m, a), a) for m in info.metadata for a in ("le", "lt") if hasattr(m, a)), None)
    if lo is not None and hi is not None and lo[1] == "ge" and hi[1] == "le" and not option_of(info).ceiling:
        return f"{kind} from {lo[0]} to {hi[0]}"
    words = kind
    if lo is not None:
        words += f" {'≥' if lo[1] == 'ge' else '>'} {lo[0]}"
    if hi is not None:
        words += (", at most" if hi[1] == "le" else ", below") + f" {hi[0]}"
    return words


def field_at(model: type[BaseModel], loc: Sequence[str | int]) -> FieldInfo | None:
    """The field a validation error's location names, walking nested models; None if it names none.

    Parts past a leaf field (a union member, a dict key) still name that field."""
    info: FieldInfo | None = None
    owner: Any = model
    for part in loc:
        if not (isinstance(owner, type) and issubclass(owner, BaseModel)):
            return info
        if part not in owner.model_fields:
            return None
        info = owner.model_fields[str(part)]
        owner = info.annotation
    return info


def explain(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    """One validation error in the words every surface uses: what the field allows, or what is unknown."""
    loc = list(err["loc"])
    if err["type"] == "extra_forbidden":
        parent = field_at(model, loc[:-1]) if len(loc) > 1 else None
        owner = parent.annotation if parent is not None else model
        if isinstance(owner, type) and issubclass(owner, BaseModel):
            return f"unknown key (allowed: {', '.join(owner.model_fields)})"
        return "unknown key"
    info = field_at(model, loc)
    # A validator's own reason (a bad fault kind) says more than the field's type would.
    custom = str(err["type"]).startswith(("value_error", "assertion_error"))
    nested = info is not None and isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    if info is None or custom or nested:
        return str(err["msg"])
    return f"expected {describe(info)}"
