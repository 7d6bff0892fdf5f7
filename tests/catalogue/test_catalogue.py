"""The catalogue: the shipped data reads and checks, the most specific family wins, settings override and
extend it, and unknown models get the documented defaults."""

from __future__ import annotations

import pytest

from llmreplay import config
from llmreplay.catalogue import UNKNOWN, Catalogue, FamilySpec, shipped
from llmreplay.catalogue.catalogue import shipped_specs


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        ("gpt-4o", "gpt-4o*"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini*"),
        ("o3-mini", "o3-mini*"),
        ("o3-2025-04-16", "o3*"),
        ("gpt-4.1-nano", "gpt-4.1-nano*"),
        ("claude-opus-4-20250514", "claude-opus-4-0*|claude-opus-4-20*"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5*"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5*"),
        ("models/gemini-2.5-pro", "gemini-2.5-pro*"),
        ("gemini-2.5-flash-lite", "gemini-2.5-flash-lite*"),
    ],
)
def test_the_most_specific_family_wins(model: str, pattern: str) -> None:
    assert shipped().lookup(model).pattern == pattern


def test_every_shipped_family_has_its_limits_prices_date_and_source() -> None:
    for pattern, spec in shipped_specs().items():
        assert spec.provider and spec.source, pattern
        assert spec.context_window, pattern
        if not spec.embedding:
            assert spec.max_output_tokens and spec.reasoning, pattern
            assert spec.input is not None and spec.output is not None and spec.prices_taken, pattern


def test_an_unknown_model_gets_no_limits_and_no_price() -> None:
    fam = shipped().lookup("my-local-llama")
    assert fam is UNKNOWN and not fam.known
    assert fam.context_window is None and fam.max_output_tokens is None and fam.input is None


def test_settings_override_a_field_and_add_a_family() -> None:
    s = config.load(
        overrides={
            "models": {
                "families": {
                    "gpt-4o*": {"context_window": 1000},
                    "my-llama*": {"provider": "openai", "context_window": 4096, "input": 0.5, "output": 1},
                }
            }
        }
    )
    cat = Catalogue.of(s.models.families)
    gpt = cat.lookup("gpt-4o")
    assert gpt.context_window == 1000 and gpt.max_output_tokens == 16384 and gpt.input == 2.5
    assert cat.lookup("my-llama-3").context_window == 4096
    assert shipped().lookup("gpt-4o").context_window == 128000  # the shipped one is left as it was


def test_a_bad_family_in_the_settings_file_is_one_line(tmp_path) -> None:
    path = tmp_path / "llmreplay.toml"
    path.write_text('[models.families."gpt-4o*"]\ncontext_window = "big"\n')
    with pytest.raises(config.ConfigError) as err:
        config.load(path)
    assert "context_window" in str(err.value)


def test_the_same_string_is_answered_from_what_was_kept() -> None:
    cat = Catalogue.of({"x*": FamilySpec(context_window=5)})
    first = cat.lookup("x-1")
    assert cat.lookup("x-1") is first and first.context_window == 5


def test_a_huge_model_name_is_unknown_and_not_kept() -> None:
    cat = Catalogue.of()
    name = "gpt-4o" + "x" * 1_000_000
    assert cat.lookup(name) is UNKNOWN and name not in cat._kept
