"""The same request sent again and again, as a load test or a retry loop sends it (issue 23's fast path): the
official SDK gets its own answer each time, with usage counted from its own text, and the journal and cost say
the same; a seeded server still answers the same bytes the same way; a bad body gets the same 400 each time."""

from __future__ import annotations

import uuid

import httpx
import openai
import pytest

from llmreplay.catalogue import shipped
from llmreplay.catalogue.cost import cost_usd
from llmreplay.model import Usage
from llmreplay.synth import tokens

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello!"}]


def client(url: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, default_headers=headers)


def test_each_repeat_gets_its_own_answer_usage_and_journal_entry(server) -> None:
    tid = uuid.uuid4().hex
    c = client(server.url, **{"x-llmreplay-test-id": tid})
    replies = [c.chat.completions.create(model="gpt-4o", messages=USER) for _ in range(12)]
    assert len({r.id for r in replies}) == len({r._request_id for r in replies}) == 12
    assert len({r.choices[0].message.content for r in replies}) > 1  # unseeded: drawn afresh each time
    for r in replies:
        assert r.usage.completion_tokens == tokens.count(r.choices[0].message.content)
        assert r.usage.prompt_tokens == replies[0].usage.prompt_tokens
    entries = httpx.get(server.url + "/api/requests", params={"test_id": tid}).json()
    assert len(entries) == 12
    gpt4o = shipped().lookup("gpt-4o")
    by_tokens = sorted((e["input_tokens"], e["output_tokens"], e["cost_usd"]) for e in entries)
    want = sorted(
        (
            r.usage.prompt_tokens,
            r.usage.completion_tokens,
            cost_usd(gpt4o, Usage(r.usage.prompt_tokens, r.usage.completion_tokens)),
        )
        for r in replies
    )
    assert by_tokens == want


def test_a_seeded_answer_is_the_same_each_time(server) -> None:
    c = client(server.url, **{"x-llmreplay-seed": "23"})
    replies = [c.chat.completions.create(model="gpt-4o", messages=USER) for _ in range(3)]
    assert len({r.choices[0].message.content for r in replies}) == 1
    assert len({r.id for r in replies}) == 1 and len({r.usage.model_dump_json() for r in replies}) == 1


def test_a_bad_body_gets_the_same_400_each_time(server) -> None:
    c = client(server.url)
    errors = []
    for _ in range(3):
        with pytest.raises(openai.BadRequestError) as exc:
            c.chat.completions.create(model="gpt-4o", messages=[{"role": "wizard", "content": "hi"}])
        errors.append((exc.value.status_code, exc.value.body))
        c.chat.completions.create(model="gpt-4o", messages=USER)  # a good one between: nothing carried over
    assert errors[0] == errors[1] == errors[2] and errors[0][1]["param"] == "messages.0.role"
