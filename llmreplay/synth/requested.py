"""A value for a schema the client sent (a tool's parameters, an output schema, a schema in the prompt): the
faker's value, or the client's 400 when the schema is invalid or nothing satisfies it, never a 500. Synthesis
and rules both ask here, so a bad schema gets the same answer whoever meets it."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import jsonschema

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.synth.faker import UnsatisfiableSchema, fake


def value_for(schema: Mapping[str, Any], rng: random.Random, what: str, param: str) -> Any:
    """A value that validates against ``schema``; ``what`` and ``param`` name the schema in the 400."""
    try:
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
        return fake(schema, rng)
    except jsonschema.SchemaError as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"Invalid schema for {what}: {exc.message}.", param=param) from None
    except UnsatisfiableSchema as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"No value can satisfy {what}: {exc}.", param=param) from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"Invalid schema for {what}: {exc}.", param=param) from None
