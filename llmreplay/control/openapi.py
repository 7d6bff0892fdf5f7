"""The admin API's OpenAPI 3.1 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic.json_schema import models_json_schema

from llmreplay import __version__
from llmreplay.control.live import ENDPOINTS, EndpointConfig, GlobalConfig

_BODIES: dict[tuple[str, str], str] = {
    ("PATCH", "/api/config/global"): "GlobalConfig",
    ("PATCH", "/api/config/endpoints/{endpoint}"): "EndpointConfig",
    ("PUT", "/api/scenarios/{name}"): "ScenarioBody",
}

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


def document(routes: Sequence[tuple[str, str, Any, str]]) -> dict[str, Any]:
    from llmreplay.control.admin import ScenarioBody

    _, schemas = models_json_schema(
        [(GlobalConfig, "validation"), (EndpointConfig, "validation"), (ScenarioBody, "validation")],
        ref_template="#/components/schemas/{model}",
    )
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
        model = _BODIES.get((method, path))
        if model:
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
