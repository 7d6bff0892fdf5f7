"""What an exchange cost, from its usage and its model family's prices (USD per million tokens).

Input tokens are split as the providers bill them: those read from the prompt cache at the cached-input
price, those written to it at the cache-write price (Anthropic's one-hour writes at theirs), the rest at the
input price; output at the output price, reasoning at ``reasoning_output`` where a family prices it apart
(else as output, as all three providers bill it). Above ``long_context_above`` prompt tokens the family's
long-context prices apply. A family without prices (an unknown model) costs None, not 0: nothing is known.
"""

from __future__ import annotations

from llmreplay.bounded import keep
from llmreplay.catalogue.catalogue import Family
from llmreplay.model import Usage

PER = 1_000_000


def cost_usd(family: Family | None, usage: Usage) -> float | None:
    """The USD cost of ``usage`` at ``family``'s prices; None when the family has no price."""
    if family is None or (family.input is None and family.output is None):
        return None
    long = family.long_context_above is not None and usage.input_tokens > family.long_context_above
    base, cached, write, write_1h, out, reasoning = _rates(family, long)
    fresh = max(0, usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens)
    short_writes = max(0, usage.cache_write_tokens - usage.cache_write_1h_tokens)
    shown = max(0, usage.output_tokens - usage.reasoning_tokens)
    total = (
        fresh * base
        + usage.cached_input_tokens * cached
        + short_writes * write
        + usage.cache_write_1h_tokens * write_1h
        + shown * out
        + usage.reasoning_tokens * reasoning
    )
    return total / PER


Rates = tuple[float, float, float, float, float, float]
"""Input, cached input, cache write, one-hour cache write, output and reasoning prices, fallbacks applied."""

_KEPT: dict[tuple[int, bool], tuple[Family, Rates]] = {}
"""Each family's rates, picked once (every answer is priced): by the family's identity, the family kept beside
them so that a new family given a dead one's id is never taken for it."""


def _rates(family: Family, long: bool) -> Rates:
    kept = _KEPT.get((id(family), long))
    if kept is not None and kept[0] is family:
        return kept[1]
    base = _pick(family.long_input if long else None, family.input)
    write = _pick(family.cache_write, base)
    out = _pick(family.long_output if long else None, family.output)
    rates = (
        base,
        _pick(family.long_cached_input if long else None, family.cached_input, base),
        write,
        _pick(family.cache_write_1h, write),
        out,
        _pick(family.reasoning_output, out),
    )
    # Bounded: families of catalogues replaced many times over age out rather than pile up.
    keep(_KEPT, (id(family), long), (family, rates), 1024)
    return rates


def _pick(*prices: float | None) -> float:
    """The first price given; 0 when none is (a family that prices input only, an embedding model)."""
    return next((p for p in prices if p is not None), 0.0)
