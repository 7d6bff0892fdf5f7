"""A value for a schema the client sent (a tool's parameters, an output schema, a schema in the prompt): the
faker's value, or the client's 400 when the schema is invalid, nothing satisfies it or it asks for more work than a
request may spend (``budget``), never a 500. Synthesis and rules both ask here, so a bad schema gets the same
answer whoever meets it."""

from __future__ import annotations

import asyncio
import math
import random
import weakref
from collections.abc import Callable, Mapping
from contextlib import suppress
from contextvars import ContextVar
from typing import Any, TypeVar

import jsonschema
import orjson

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.synth.budget import MAX_STEPS, Budget, OverBudget
from llmreplay.synth.faker import UnsatisfiableSchema, fake
from llmreplay.synth.least_work import least_steps

T = TypeVar("T")

_BUDGETS: weakref.WeakKeyDictionary[random.Random, Budget] = weakref.WeakKeyDictionary()
"""The budget of the loop's current turn, by generator. A request fakes all its values (``n`` choices, several
tools, the output schema) in one synchronous stretch with one generator, so they share one account, and the loop's
next turn drops it: the unseeded generator is shared by every request, so keeping it longer would charge one
request for another's work."""


def value_for(schema: Mapping[str, Any], rng: random.Random, what: str, param: str) -> Any:
    """A value that validates against ``schema``; ``what`` and ``param`` name the schema in the 400."""
    try:
        budget = _budget(rng)
        _refuse_non_finite(schema)
        with budget.uncounted():
            least = _checked(schema)
        budget.reserve(least)
        return fake(schema, rng, budget=budget)
    except jsonschema.SchemaError as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"Invalid schema for {what}: {exc.message}.", param=param) from None
    except UnsatisfiableSchema as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"No value can satisfy {what}: {exc}.", param=param) from None
    except OverBudget as exc:
        raise ApiError(
            ErrorKind.INVALID_REQUEST, f"The schema for {what} is over the synthetic budget: {exc}.", param=param
        ) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"Invalid schema for {what}: {exc}.", param=param) from None


_CHECKED: dict[bytes, int] = {}
"""Schemas that passed the meta-schema check, by their JSON text, with their least steps. An agent sends the same
tools with every request, and the check is most of a small schema's cost (~0.5 ms of a ~0.6 ms tool call)."""
_CHECKED_MAX = 1024
_CHECKED_TEXT_MAX = 65_536


def _checked(schema: Mapping[str, Any]) -> int:
    """The least steps of a value of ``schema`` (:func:`least_steps`, capped at a whole budget), after the
    meta-schema check; both remembered for a schema seen before. Non-finite numbers are refused before this, as the
    JSON text would show them as ``null``."""
    try:
        text = orjson.dumps(schema)
    except (TypeError, orjson.JSONEncodeError):
        text = b""
    known = _CHECKED.get(text) if text else None
    if known is not None:
        return known
    # Before the meta-schema check, which costs as much again as the reckoning saves on a fan-out schema.
    least = least_steps(schema, MAX_STEPS)
    if least <= MAX_STEPS:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
        if text and len(text) <= _CHECKED_TEXT_MAX:
            if len(_CHECKED) >= _CHECKED_MAX:
                with suppress(StopIteration, RuntimeError, KeyError):  # another thread may be evicting too
                    del _CHECKED[next(iter(_CHECKED))]
            _CHECKED[text] = least
    return least


_ONE: ContextVar[Budget | None] = ContextVar("_ONE", default=None)
"""The budget of a request faked off the event loop (:func:`one_budget`), where no loop turn marks its end."""


def one_budget(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, every value it fakes charged to one new budget: a request answered on a worker thread."""
    token = _ONE.set(Budget())
    try:
        return fn(*args)
    finally:
        _ONE.reset(token)


def _budget(rng: random.Random) -> Budget:
    one = _ONE.get()
    if one is not None:
        return one
    budget = _BUDGETS.get(rng)
    if budget is None:
        budget = Budget()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a direct call): this call has its own budget
            return budget
        _BUDGETS[rng] = budget
        loop.call_soon(_BUDGETS.pop, rng, None)
    return budget


def _refuse_non_finite(schema: Any) -> None:
    """Infinity and NaN (which Python's JSON parser accepts) are not JSON: refused here rather than met later as an
    overflow or echoed into a reply as ``NaN``."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise ValueError(f"it holds {node}, which is not a JSON number")
        if isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
