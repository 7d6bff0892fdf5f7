"""Write docs/admin-api-reference.md from the admin API's own OpenAPI document.

Starts an llmreplay server with the default settings on a free port of 127.0.0.1, fetches
``/api/openapi.json`` and renders every path and method, its parameters, request body, responses and
the schemas they use as Markdown. tests/docs/test_admin_reference.py checks that the committed page is
what this script writes now, so the reference cannot drift from the code.

    python scripts/gen_admin_docs.py            # rewrite docs/admin-api-reference.md
    python scripts/gen_admin_docs.py --check    # exit 1 if the committed page is stale
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "admin-api-reference.md"
METHODS = ("get", "put", "post", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


def fetch_openapi() -> dict[str, Any]:
    """The OpenAPI document of a server started with the default settings."""
    from llmreplay.config import Settings
    from llmreplay.server import BackgroundServer

    with BackgroundServer(Settings()) as server, urllib.request.urlopen(server.url + "/api/openapi.json") as reply:
        doc: dict[str, Any] = json.load(reply)
    return doc


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def _ref_name(ref: str) -> str:
    return ref.removeprefix(REF_PREFIX)


def _schema_link(name: str) -> str:
    return f"[{name}](#{name.lower()})"


def type_of(schema: dict[str, Any]) -> str:
    """A short human reading of a JSON Schema's type."""
    if "$ref" in schema:
        return _schema_link(_ref_name(schema["$ref"]))
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(type_of(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    if "enum" in schema:
        return "one of " + ", ".join(_code(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_of(schema['additionalProperties'])}"
    return str(kind)


def bounds_of(schema: dict[str, Any]) -> str:
    """The numeric bounds of a schema (or of the non-null branch of an anyOf), as ``0 ≤ x ≤ 1``."""
    for branch in [schema, *schema.get("anyOf", [])]:
        lo, hi = branch.get("minimum"), branch.get("maximum")
        if lo is not None and hi is not None:
            return f"{lo} ≤ x ≤ {hi}"
        if lo is not None:
            return f"≥ {lo}"
        if hi is not None:
            return f"≤ {hi}"
    return ""


def _default_of(name: str, field: dict[str, Any], required: set[str]) -> str:
    if name in required:
        return "required"
    if "$ref" in field:
        return "its defaults"
    if "default" in field:
        return _code(field["default"])
    return ""


def schema_table(schema: dict[str, Any]) -> list[str]:
    """The fields of an object schema as a Markdown table."""
    props: dict[str, dict[str, Any]] = schema.get("properties", {})
    if not props:
        return [f"Type: {type_of(schema)}.", ""]
    required = set(schema.get("required", []))
    rows = ["| Field | Type | Default | Bounds | Description |", "|---|---|---|---|---|"]
    for name, field in props.items():
        cells = (
            f"`{name}`",
            type_of(field),
            _default_of(name, field, required),
            bounds_of(field),
            field.get("description", ""),
        )
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*rows, ""]


def _parameters(op: dict[str, Any]) -> list[str]:
    params = op.get("parameters", [])
    if not params:
        return []
    rows = ["Parameters:", "", "| Name | In | Required | Type |", "|---|---|---|---|"]
    for p in params:
        cells = (f"`{p['name']}`", p.get("in", ""), "yes" if p.get("required") else "no", type_of(p.get("schema", {})))
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*rows, ""]


def _body(op: dict[str, Any]) -> list[str]:
    body = op.get("requestBody")
    if not body:
        return []
    schema = body.get("content", {}).get("application/json", {}).get("schema", {})
    required = "required" if body.get("required") else "optional"
    return [f"Request body ({required}, JSON): {type_of(schema)}.", ""]


def _responses(op: dict[str, Any]) -> list[str]:
    rows = ["| Status | Meaning |", "|---|---|"]
    for status, answer in op.get("responses", {}).items():
        text = answer.get("description", "")
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema:
            text += f" Body: {type_of(schema)}."
        rows.append(f"| {status} | {_cell(text)} |")
    return ["Responses:", "", *rows, ""]


def render(doc: dict[str, Any]) -> str:
    """The reference page for an OpenAPI document."""
    info = doc.get("info", {})
    out = [
        "# Admin API reference",
        "",
        "<!-- Generated by scripts/gen_admin_docs.py from GET /api/openapi.json; do not edit by hand. -->",
        "",
        f"{info.get('title', 'Admin API')}: {info.get('description', '')}".rstrip(),
        "",
        "Every path and method the server's OpenAPI document lists, in its order. How to use them, with",
        "examples: [Admin API](admin-api.md).",
        "",
        "## Endpoints",
        "",
    ]
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            out += [f"### `{method.upper()} {path}`", "", op.get("summary", ""), ""]
            out += _parameters(op) + _body(op) + _responses(op)
    schemas: dict[str, dict[str, Any]] = doc.get("components", {}).get("schemas", {})
    if schemas:
        out += ["## Schemas", ""]
        for name, schema in schemas.items():
            out += [f"### {name}", ""]
            if schema.get("description"):
                out += [schema["description"], ""]
            out += schema_table(schema)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed page differs")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render(fetch_openapi())
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python scripts/gen_admin_docs.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
