"""The admin API's OpenAPI 3.1 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from llmreplay import __version__
from llmreplay.control.original import endpoint_ids

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
    routes: Sequence[tuple[str, str, Any, str]],
    bodies: Mapping[tuple[str, str], type[BaseModel]],
    queries: Mapping[tuple[str, str], type[BaseModel]] | None = None,
) -> dict[str, Any]:
    """The document of ``routes``, with the body models ``bodies`` names for the routes that take one, and the
    query parameters of the models ``queries`` names."""
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
                    "schema": {"type": "string", "enum": endpoint_ids()} if p == "endpoint" else {"type": "string"},
                }
                for p in params
            ]
            # An unknown endpoint id gets the original server's 400; any other unknown name a 404.
            unknown = "400" if params[0] == "endpoint" else "404"
            op["responses"][unknown] = {"description": "Unknown " + params[0]}
        query = (queries or {}).get((method, path))
        if query is not None:
            op.setdefault("parameters", []).extend(_query_parameters(query))
            op["responses"]["422"] = {
                "description": "Invalid query parameters.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}},
            }
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


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as optional query parameters (a query value is never null: its schema is the
    field's non-null branch)."""
    out = []
    for name, prop in model.model_json_schema()["properties"].items():
        branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
        schema = {k: v for k, v in branches[0].items() if k not in ("title", "default")}
        param = {"name": name, "in": "query", "required": False, "schema": schema}
        if prop.get("description"):
            param["description"] = prop["description"]
        out.append(param)
    return out
