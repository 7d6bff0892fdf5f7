"""docs/admin-api-reference.md is what scripts/gen_admin_docs.py writes from the running server's OpenAPI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_admin_docs.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_admin_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_current() -> None:
    gen = _generator()
    doc = gen.fetch_openapi()
    assert gen.OUTPUT.read_text() == gen.render(doc), "stale: run python scripts/gen_admin_docs.py"


def test_reference_lists_every_path_and_method() -> None:
    gen = _generator()
    doc = gen.fetch_openapi()
    text = gen.render(doc)
    for path, item in doc["paths"].items():
        for method in item:
            assert f"### `{method.upper()} {path}`" in text
    for name in doc["components"]["schemas"]:
        assert f"### {name}\n" in text


def test_type_rendering() -> None:
    gen = _generator()
    assert gen.type_of({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}) == "integer or null"
    assert gen.type_of({"type": "object", "additionalProperties": {"type": "number"}}) == "object of number"
    assert gen.type_of({"$ref": "#/components/schemas/LatencyConfig"}) == "[LatencyConfig](#latencyconfig)"
    assert gen.bounds_of({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}) == "≥ 1"
    assert gen._cell("a|b\nc") == "a\\|b c"
