"""The admin API's OpenAPI 3.1 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from llmreplay import __version__
from llmreplay.control.live import ENDPOINTS

_VALIDATION_ERROR = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def document(
    routes: Sequence[tuple[str, str, Any, str]], bodies: Mapping[tuple[str, str], type[BaseModel]]
) -> dict[str, Any]:
    """The document of ``routes``, with the body models ``bodies`` names for the routes that take one."""
    models = list(dict.fromkeys(bodies.values()))
    _, schemas = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    components = dict(schemas.get("$defs", {}))
    components["ValidationError"] = _VALIDATION_ERROR
    paths: dict[str, dict[str, Any]] = {}
    for method, path, handler, summary in routes:
        op: dict[str, Any] = {
            "operationId": handler.__name__ + ("_one" if path.endswith("{endpoint}") and "reset" in path else ""),
            "summary": summary,
            "responses": {"200": {"description": "OK", "content": {"application/json": {}}}},
        }
        params = re.findall(r"{(\w+)}", path)
        if params:
            op["parameters"] = [
                {
                    "name": p,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(ENDPOINTS)} if p == "endpoint" else {"type": "string"},
                }
                for p in params
            ]
            op["responses"]["404"] = {"description": "Unknown " + params[0]}
        body = bodies.get((method, path))
        if body is not None:
            model = body.__name__
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model}"}}},
            }
            op["responses"]["422"] = {
                "description": "Invalid body; nothing was changed.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}},
            }
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "llmreplay admin API",
            "version": __version__,
            "description": "Change latency, rate limits, failure injection and scenarios at run time.",
        },
        "paths": paths,
        "components": {"schemas": components},
    }
