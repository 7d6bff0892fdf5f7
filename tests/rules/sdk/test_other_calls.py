"""Calls no codec reads (embeddings, token counts, model lists) through the official SDKs: only rules that look at
nothing but the call's API, endpoint, path, headers and body answer them, with an outcome or a fixed body."""

from __future__ import annotations

import anthropic
import openai
import pytest

from tests.rules.sdk.common import HTTP, HTTP2, journal, put_rules
from tests.rules.sdk.drive import gemini_client

pytestmark = pytest.mark.sdk

EMBEDDING = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def test_an_outcome_then_a_fixed_body_for_embeddings(url: str) -> None:
    put_rules(
        url,
        [
            {"name": "down", "match": {"endpoint": "embeddings"}, "times": 1, "reply": {"outcome": "503"}},
            {"name": "fixed", "match": {"path": "/v1/embeddings"}, "reply": {"json": EMBEDDING}},
        ],
    )
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP)
    with pytest.raises(openai.InternalServerError):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
    got = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input="hi")
    assert got.headers["x-llmreplay-source"] == "rule:fixed#0"
    assert got.parse().data[0].embedding == [0.25, -0.5]


def test_rules_that_write_an_answer_leave_other_calls_alone(url: str) -> None:
    everything = ["openai-chat", "openai-responses", "anthropic-messages", "gemini"]
    put_rules(url, [{"name": "all", "match": {"api": everything}, "reply": {"text": "scripted"}}])
    openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, http_client=HTTP).models.list()
    claude = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0, http_client=HTTP2)
    counted = claude.messages.count_tokens(model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}])
    assert counted.input_tokens > 0
    gemini = gemini_client(url, {}, 10).models
    assert (gemini.count_tokens(model="gemini-2.5-flash", contents="hi").total_tokens or 0) > 0
    assert gemini.embed_content(model="gemini-embedding-001", contents="hi").embeddings
    assert {e["source"] for e in journal(url)} == {"synthetic"}
