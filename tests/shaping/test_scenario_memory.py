"""The scenario parse cache and cursors are bounded in bytes, not only in entries (issue 19, case 10).

1,000 distinct ~15 KB ``x-llmreplay-scenario`` headers kept +820 MiB (10,000 entries of any size were
allowed: ≈ 8 GB reachable). A header is now at most ``MAX_SPEC_CHARS`` characters (longer is the provider's
400 naming the header), the cache holds at most ``PARSED_CHARS`` characters of text, and a long spec or key
is kept in a cursor's name as its digest. Memory is measured with tracemalloc, not the process's RSS.
"""

from __future__ import annotations

import contextlib
import random
import tracemalloc

import openai
import pytest

from llmreplay.server import BackgroundServer
from llmreplay.shaping.scenarios import MAX_SPEC_CHARS, PARSED_CHARS, ParsedSpecs, ScenarioBook, cursor_name

BOUND_BYTES = 24 * 1024 * 1024
"""What the book may keep after any number of distinct headers: the parse cache (20–55 bytes per character
of text) and 10,000 short cursors."""


def distinct_spec(rng: random.Random, chars: int) -> str:
    """A scenario of ``chars`` characters whose steps are all different: the costliest to keep parsed."""
    kinds = (
        lambda: f"timeout:{rng.randrange(1, 99_999)}",
        lambda: f"stall@{rng.randrange(1, 999)}:{rng.randrange(1, 9_999)}",
        lambda: f"disconnect@{rng.randrange(1, 99)}%",
        lambda: f"5{rng.randrange(10)}{rng.randrange(10)}",
    )
    parts: list[str] = []
    size = 0
    while size < chars - 12:
        part = rng.choice(kinds)()
        parts.append(part)
        size += len(part) + 1
    return ",".join(parts)


def kept_after(headers: list[str]) -> tuple[int, ScenarioBook]:
    """Bytes the book still holds after one request with each header (its own key each)."""
    book = ScenarioBook()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i, spec in enumerate(headers):
            with contextlib.suppress(ValueError):
                book.next(spec, f"client-{i}-" + "k" * 200)
        return tracemalloc.get_traced_memory()[0] - before, book
    finally:
        tracemalloc.stop()


def test_a_thousand_distinct_15kb_headers_stay_within_the_bound() -> None:
    rng = random.Random(19)
    kept, book = kept_after([distinct_spec(rng, 15_000) for _ in range(1000)])
    assert kept < BOUND_BYTES, f"{kept / 2**20:.1f} MiB kept"
    assert len(book._parsed) == 0  # each over MAX_SPEC_CHARS: refused, nothing parsed


def test_a_thousand_distinct_headers_at_the_cap_stay_within_the_bound() -> None:
    rng = random.Random(10)
    kept, book = kept_after([distinct_spec(rng, MAX_SPEC_CHARS) for _ in range(1000)])
    assert book._parsed.chars <= PARSED_CHARS
    assert kept < BOUND_BYTES, f"{kept / 2**20:.1f} MiB kept"


def test_the_cache_forgets_the_oldest_first_and_still_answers() -> None:
    specs = ParsedSpecs(max_entries=3, max_chars=20)
    for text in ("429,ok", "500,ok", "503,ok"):
        specs.steps(text)
    assert len(specs) == 3 and specs.chars == 18
    specs.steps("502,ok")  # 24 characters would be too many: the oldest goes
    assert len(specs) == 3 and specs.chars == 18
    long = ",".join(["429"] * 10)
    assert [s.name for s in specs.steps(long)] == ["429"] * 10  # longer than the budget: parsed, not kept
    assert len(specs) == 3 and long not in specs._parsed


def test_a_long_spec_or_key_is_a_digest_in_the_cursor_name() -> None:
    assert cursor_name("429,ok", "k") == "429,ok\0k"
    assert cursor_name("@flaky", "k" * 5000).startswith("@flaky\0#") and len(cursor_name("@flaky", "k" * 5000)) < 80
    assert len(cursor_name("429," * 1000 + "ok", None)) == 65
    book = ScenarioBook()
    spec = ",".join(["429"] * 30) + ",ok"
    assert [book.next(spec, "k" * 5000).name for _ in range(32)] == ["429"] * 30 + ["ok", "ok"]


@pytest.mark.sdk
def test_an_over_long_header_is_the_providers_400(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", max_retries=0)
    spec = distinct_spec(random.Random(1), 15_000)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-llmreplay-scenario": spec},
        )
    assert caught.value.param == "x-llmreplay-scenario"
    assert f"at most {MAX_SPEC_CHARS} characters" in caught.value.message
