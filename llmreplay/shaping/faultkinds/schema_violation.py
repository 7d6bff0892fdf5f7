"""``schema-violation``: valid JSON that breaks the schema it was asked for."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmreplay.model import Finish, Reply, Request, Text
from llmreplay.shaping.faultkinds.content import ContentFault, call, first_tool, output_schema, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

_WRONG: tuple[tuple[Any, str], ...] = (
    (12345, "integer"),
    ("not-a-valid-value", "string"),
    (True, "boolean"),
    (["unexpected"], "array"),
    ({"unexpected": True}, "object"),
)
"""A value of each JSON type, tried in turn for one the schema's type does not allow."""


def wrong(schema: Mapping[str, Any]) -> Any:
    """A value ``schema`` does not allow (its type's, or its enum's); null where it says neither."""
    allowed = schema.get("type")
    types = {allowed} if isinstance(allowed, str) else set(allowed or ())
    if "enum" in schema:
        return "not-one-of-the-enum"
    if not types:
        return None
    if "number" in types:
        types.add("integer")
    return next((value for value, kind in _WRONG if kind not in types), None)


def violating(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An object whose every declared property has a value its schema does not allow."""
    props = schema.get("properties") or {}
    if not props:
        return {"unexpected": True}
    return {name: wrong(sub if isinstance(sub, Mapping) else {}) for name, sub in props.items()}


class SchemaViolation(ContentFault):
    name = "schema-violation"
    description = (
        "Valid JSON that breaks the schema: the structured output's, else the first tool's arguments "
        "(every property of a type it does not allow)."
    )

    def make(self, ex: Exchange, req: Request) -> Reply:
        schema = output_schema(req)
        if schema is not None or not req.tools:
            return reply(ex, req, (Text(json.dumps(violating(schema or {}))),), Finish.STOP)
        tool = first_tool(req)
        return reply(ex, req, (call(ex, tool.name, json.dumps(violating(tool.schema))),), Finish.TOOL_CALLS)
