"""The model lists (GET /v1/models of each provider) name only models the catalogue knows, and show its limits:
one home for a model's window and maximum output."""

from __future__ import annotations

import pytest

from llmreplay.catalogue import shipped
from llmreplay.providers import anthropic_models, gemini_models, openai_models


@pytest.mark.parametrize("module", [openai_models, anthropic_models, gemini_models])
def test_every_listed_model_is_in_the_catalogue(module) -> None:
    for m in module.CATALOGUE:
        assert shipped().lookup(m.id).known, m.id


def test_anthropic_and_gemini_lists_show_the_catalogue_limits() -> None:
    for m in anthropic_models.CATALOGUE:
        fam, shown = shipped().lookup(m.id), m.as_json()
        assert (shown["max_input_tokens"], shown["max_tokens"]) == (fam.context_window, fam.max_output_tokens)
    for g in gemini_models.CATALOGUE:
        fam, shown = shipped().lookup(g.id), g.as_json()
        assert shown["inputTokenLimit"] == fam.context_window
        if not fam.embedding:
            assert shown["outputTokenLimit"] == fam.max_output_tokens
            assert shown.get("thinking", False) == fam.reasons


def test_a_model_the_catalogue_does_not_know_still_gets_plausible_limits() -> None:
    assert (
        anthropic_models.model_info("claude-someday-9").as_json()["max_tokens"] == anthropic_models.UNKNOWN_MAX_TOKENS
    )
    shown = gemini_models.lookup("models/gemini-someday").as_json()
    assert shown["inputTokenLimit"] == 1048576 and shown["outputTokenLimit"] == 65536
    emb = gemini_models.lookup("some-embedding-9").as_json()
    assert emb["outputTokenLimit"] == 1 and "embedContent" in emb["supportedGenerationMethods"]
