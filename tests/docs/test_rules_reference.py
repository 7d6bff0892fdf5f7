"""docs/rules.md is checked against the rules model: every field of it is named on the page, and every
YAML and TOML example on the page loads without a problem."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pydantic
import pytest
import yaml

from llmreplay.rules import parse_rules
from llmreplay.rules.spec import (
    CassetteRef,
    LatencySpec,
    MatchSpec,
    ReplySpec,
    RuleSpec,
    TextMatch,
    ToolCallSpec,
    ToolResultMatch,
    UsageSpec,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
MODELS: list[type[pydantic.BaseModel]] = [
    RuleSpec,
    MatchSpec,
    TextMatch,
    ToolResultMatch,
    ReplySpec,
    ToolCallSpec,
    UsageSpec,
    LatencySpec,
    CassetteRef,
]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(PAGE.read_text()) if kind == lang]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_field_is_on_the_page(model: type[pydantic.BaseModel]) -> None:
    text = PAGE.read_text()
    missing = [f.alias or name for name, f in model.model_fields.items() if f"`{f.alias or name}`" not in text]
    assert not missing, f"docs/rules.md does not name {missing} of {model.__name__}"


def test_every_then_and_finish_value_is_on_the_page() -> None:
    text = PAGE.read_text()
    for value in ("repeat-last", "cycle", "stop", "length", "content_filter", "generate"):
        assert f"`{value}`" in text


@pytest.mark.parametrize("index", range(len(_blocks("yaml"))))
def test_every_yaml_example_loads(index: int) -> None:
    rules = parse_rules(yaml.safe_load(_blocks("yaml")[index]), f"docs/rules.md yaml #{index}")
    assert rules


@pytest.mark.parametrize("index", range(len(_blocks("toml"))))
def test_every_toml_example_loads(index: int) -> None:
    assert parse_rules(tomllib.loads(_blocks("toml")[index]), f"docs/rules.md toml #{index}")


def test_there_are_examples() -> None:
    assert len(_blocks("yaml")) >= 4 and _blocks("toml")


README = PAGE.parents[1] / "README.md"


def test_the_readme_rules_example_loads_and_checks_clean() -> None:
    """The README's complete example is a real rules file: it loads, and no rule in it is shadowed."""
    from llmreplay.rules.shadow import shadowed

    blocks = [body for kind, body in FENCE.findall(README.read_text()) if kind == "yaml" and "rules:" in body]
    assert blocks, "README.md shows no rules example"
    for body in blocks:
        rules = parse_rules(yaml.safe_load(body), "README.md")
        assert len(rules) >= 3 and not shadowed(rules)
