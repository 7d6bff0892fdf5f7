"""Prompt caching in usage: Anthropic's marked prefixes (written, then read within their TTL), OpenAI's
automatic one on a repeated long prefix; in memory with a fake clock, then through the official SDKs."""

from __future__ import annotations

import anthropic
import openai
import pytest

from llmreplay.model import Message, Request
from llmreplay.synth import tokens
from llmreplay.synth.prompt_cache import AUTO_MIN, PromptCache

LONG = "The quarterly report covers revenue, costs, hiring and the outlook for the next year. " * 150
SYSTEM = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _anthropic(system=SYSTEM, question: str = "Summarise it.", model: str = "claude-sonnet-4-5") -> Request:
    body = {"model": model, "system": system, "messages": [{"role": "user", "content": question}]}
    return Request(api="anthropic-messages", endpoint="messages", model=model, body=body, caching="marked")


def test_anthropic_writes_then_reads_within_the_ttl() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    read, written, hour = cache.use(_anthropic(), 3000)
    assert read == 0 and written > 1024 and hour == 0
    clock.now += 299
    assert cache.use(_anthropic(question="Another question."), 3000) == (written, 0, 0)
    clock.now += 299  # the read started the five minutes again
    assert cache.use(_anthropic(), 3000)[0] == written
    clock.now += 301
    assert cache.use(_anthropic(), 3000) == (0, written, 0)


def test_anthropic_one_hour_and_short_prefixes() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    hourly = [{**SYSTEM[0], "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    _, written, hour = cache.use(_anthropic(hourly), 3000)
    assert hour == written > 0
    clock.now += 1800
    assert cache.use(_anthropic(hourly), 3000)[0] == written
    short = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    assert cache.use(_anthropic(short), 20) == (0, 0, 0) == cache.use(_anthropic(short), 20)
    assert cache.use(_anthropic(system=LONG), 3000) == (0, 0, 0)  # nothing marked, nothing cached


def test_openai_caches_a_repeated_long_prefix_in_steps_of_128() -> None:
    clock = Clock()
    cache = PromptCache(clock)

    def req(*turns: str) -> Request:
        msgs = tuple(Message("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(turns))
        return Request(
            api="openai-chat",
            endpoint="chat-completions",
            model="gpt-4o",
            caching="automatic",
            system=LONG,
            messages=msgs,
        )

    first = req("What changed?")
    n = tokens.prompt_tokens(first)
    assert n >= AUTO_MIN and cache.use(first, n) == (0, 0, 0)
    longer = req("What changed?", "Revenue grew.", "And costs?")
    read, written, _ = cache.use(longer, tokens.prompt_tokens(longer))
    assert read >= AUTO_MIN and read % 128 == 0 and read <= n and written == 0
    small = Request(
        api="openai-chat",
        endpoint="chat-completions",
        model="gpt-4o",
        caching="automatic",
        messages=(Message("user", "hi"),),
    )
    assert cache.use(small, 10) == cache.use(small, 10) == (0, 0, 0)


def test_the_memory_is_bounded() -> None:
    cache = PromptCache(Clock(), size=3)
    for i in range(10):
        cache.use(_anthropic(question=str(i), system=[{**SYSTEM[0], "text": LONG + str(i)}]), 3000)
    assert len(cache) == 3


@pytest.mark.sdk
def test_anthropic_cache_reads_through_the_sdk(make_server) -> None:
    srv = make_server()
    c = anthropic.Anthropic(base_url=srv.url, api_key="sk-ant-test", max_retries=0)
    ask = [{"role": "user", "content": "Summarise the report."}]
    first = c.messages.create(model="claude-sonnet-4-5", max_tokens=200, system=SYSTEM, messages=ask)
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens
    with c.messages.stream(model="claude-sonnet-4-5", max_tokens=200, system=SYSTEM, messages=ask) as s:
        again = s.get_final_message()
    assert again.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert again.usage.cache_creation_input_tokens == 0
    counted = c.messages.count_tokens(model="claude-sonnet-4-5", system=SYSTEM, messages=ask).input_tokens
    for u in (first.usage, again.usage):
        assert u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens == counted


@pytest.mark.sdk
def test_openai_cached_tokens_through_the_sdk(make_server) -> None:
    srv = make_server()
    c = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    msgs = [{"role": "system", "content": LONG}, {"role": "user", "content": "What changed?"}]
    first = c.chat.completions.create(model="gpt-4o", messages=msgs)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    again = c.chat.completions.create(model="gpt-4o", messages=[*msgs, {"role": "user", "content": "More?"}])
    assert again.usage.prompt_tokens_details.cached_tokens >= 1024
    other = "Answer as the auditor would. " + LONG  # not the prefix above (the same prompt is one cache entry)
    r = c.responses.create(model="gpt-4o", instructions=other, input="What changed?")
    r2 = c.responses.create(model="gpt-4o", instructions=other, input="What changed?")
    assert r.usage.input_tokens_details.cached_tokens == 0 < r2.usage.input_tokens_details.cached_tokens
