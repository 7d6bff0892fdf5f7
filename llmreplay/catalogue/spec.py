"""What one family of the model catalogue declares, as the shipped data file and the settings file write it.

The shipped ``models.toml`` and a settings file's ``[models.families."PATTERN"]`` tables are read by this one
model, so an override is checked exactly as the shipped entry is. Every field is optional: an override of a
shipped family (the same pattern) names only what it changes; a new family without a window or prices gets
no enforcement and no price, like an unknown model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Provider = Literal["openai", "anthropic", "gemini"]
Reasoning = Literal["none", "always", "default", "on-request"]
"""How a family reasons: ``none`` never; ``always`` on every request (OpenAI o-series and gpt-5, Gemini 2.5 Pro,
Gemini 3); ``default`` unless the request turns it off (Gemini 2.5 Flash's ``thinkingBudget: 0``,
``reasoning_effort: "none"``); ``on-request`` only when asked (Claude's ``thinking``, a Flash-Lite budget)."""

_PRICE = {"ge": 0, "le": 100_000}
"""USD per million tokens: bounds that only guard against a typo's absurd value."""


class FamilySpec(BaseModel):
    """One family: its limits, how it reasons, and its prices per million tokens (USD)."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider | None = Field(None, description="Whose model it is.")
    name: str | None = Field(None, description="A readable name (``GPT-4o``).")
    context_window: int | None = Field(
        None, ge=1, description="Input tokens the model accepts; a longer prompt is the provider's 400."
    )
    max_output_tokens: int | None = Field(
        None, ge=1, description="Most output tokens a request may ask for (max_tokens and its spellings)."
    )
    reasoning: Reasoning | None = Field(None, description="Whether and when the model reasons.")
    embedding: bool | None = Field(None, description="An embedding model (no output tokens, no reasoning).")
    input: float | None = Field(None, description="Price of an input token, USD per million.", **_PRICE)
    cached_input: float | None = Field(
        None, description="Price of an input token read from the prompt cache, USD per million.", **_PRICE
    )
    cache_write: float | None = Field(
        None, description="Price of an input token written to the prompt cache (Anthropic's 5-minute).", **_PRICE
    )
    cache_write_1h: float | None = Field(
        None, description="Price of an input token written to a 1-hour cache (Anthropic).", **_PRICE
    )
    output: float | None = Field(None, description="Price of an output token, USD per million.", **_PRICE)
    reasoning_output: float | None = Field(
        None, description="Price of a reasoning token where it differs from output (else billed as output).", **_PRICE
    )
    long_context_above: int | None = Field(
        None, ge=1, description="Prompt tokens above which the long-context prices below apply (Gemini Pro)."
    )
    long_input: float | None = Field(None, description="Input price above long_context_above.", **_PRICE)
    long_cached_input: float | None = Field(None, description="Cached input price above it.", **_PRICE)
    long_output: float | None = Field(None, description="Output price above it.", **_PRICE)
    prices_taken: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="The date the prices were read (YYYY-MM-DD)."
    )
    source: str | None = Field(None, description="Where the figures were read (URL).")
