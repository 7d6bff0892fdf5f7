"""Reasoning models report the tokens they reason with, the same streamed and not, through the official SDKs:
OpenAI's o-series (Chat ``completion_tokens_details.reasoning_tokens``, Responses
``output_tokens_details.reasoning_tokens``, with a summary item when ``reasoning.summary`` asks) and Gemini 2.5
(``thoughtsTokenCount``; thought parts with ``includeThoughts``). Models that do not reason report none."""

from __future__ import annotations

import openai
import pytest
from google import genai
from google.genai import types

pytestmark = pytest.mark.sdk

TEXT = "A fixed answer, so that streamed and whole replies are the same."
ASK = [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture
def srv(make_server):
    return make_server(synthetic={"default_response": TEXT, "tool_call_probability": 0})


def _openai(srv) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)


@pytest.mark.parametrize(("model", "effort"), [("o3-mini", None), ("o4-mini", "high"), ("gpt-5-mini", "low")])
def test_chat_reports_reasoning_streamed_and_not(srv, model: str, effort: str | None) -> None:
    c = _openai(srv)
    kw = {"reasoning_effort": effort} if effort else {}
    whole = c.chat.completions.create(model=model, messages=ASK, **kw)
    chunks = list(
        c.chat.completions.create(model=model, messages=ASK, stream=True, stream_options={"include_usage": True}, **kw)
    )
    u, su = whole.usage, chunks[-1].usage
    assert u.completion_tokens_details.reasoning_tokens > 0
    assert su.model_dump() == u.model_dump()
    assert u.completion_tokens > u.completion_tokens_details.reasoning_tokens  # the answer's tokens besides
    assert whole.choices[0].message.content == TEXT


def test_more_effort_more_reasoning(srv) -> None:
    c = _openai(srv)
    spent = {
        e: c.chat.completions.create(model="o3-mini", messages=ASK, reasoning_effort=e).usage.completion_tokens_details
        for e in ("low", "medium", "high")
    }
    assert spent["low"].reasoning_tokens < spent["medium"].reasoning_tokens < spent["high"].reasoning_tokens


def test_reasoning_comes_out_of_the_output_limit(srv) -> None:
    r = _openai(srv).chat.completions.create(model="o3-mini", messages=ASK, max_completion_tokens=20)
    assert r.usage.completion_tokens <= 20 and r.usage.completion_tokens_details.reasoning_tokens > 0
    assert r.choices[0].finish_reason == "length"


def test_models_that_do_not_reason_report_none(srv) -> None:
    r = _openai(srv).chat.completions.create(model="gpt-4o", messages=ASK)
    assert r.usage.completion_tokens_details.reasoning_tokens == 0


def test_responses_report_reasoning_and_a_summary_when_asked(srv) -> None:
    c = _openai(srv)
    plain = c.responses.create(model="o3-mini", input="Why is the sky blue?")
    assert plain.usage.output_tokens_details.reasoning_tokens > 0
    with c.responses.stream(model="o3-mini", input="Why is the sky blue?") as s:
        final = s.get_final_response()
    assert final.usage.model_dump() == plain.usage.model_dump()
    summed = c.responses.create(
        model="o3-mini", input="Why is the sky blue?", reasoning={"effort": "medium", "summary": "auto"}
    )
    items = [o for o in summed.output if o.type == "reasoning"]
    assert items and items[0].summary and items[0].summary[0].type == "summary_text" and items[0].summary[0].text
    assert summed.usage.output_tokens_details.reasoning_tokens >= plain.usage.output_tokens_details.reasoning_tokens


def test_gemini_thoughts_streamed_and_not(srv) -> None:
    g = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=srv.url))
    whole = g.models.generate_content(model="gemini-2.5-pro", contents="Why is the sky blue?")
    chunks = list(g.models.generate_content_stream(model="gemini-2.5-pro", contents="Why is the sky blue?"))
    u, su = whole.usage_metadata, chunks[-1].usage_metadata
    assert u.thoughts_token_count > 0 and su.thoughts_token_count == u.thoughts_token_count
    # The model thinks before it writes: every chunk, the first included, counts the thoughts.
    assert all(ch.usage_metadata.thoughts_token_count == u.thoughts_token_count for ch in chunks)
    assert su.total_token_count == u.total_token_count
    off = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=0))
    assert not g.models.generate_content(
        model="gemini-2.5-flash", contents="Hi", config=off
    ).usage_metadata.thoughts_token_count
    shown = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True))
    r = g.models.generate_content(model="gemini-2.5-flash", contents="Hi", config=shown)
    assert any(p.thought for p in r.candidates[0].content.parts) and r.usage_metadata.thoughts_token_count > 0
    assert not g.models.generate_content(model="gemini-2.0-flash", contents="Hi").usage_metadata.thoughts_token_count


def test_responses_list_a_reasoning_item_for_reasoning_models(srv) -> None:
    c = _openai(srv)
    r = c.responses.create(model="o4-mini", input="Why is the sky blue?")
    assert [o.type for o in r.output] == ["reasoning", "message"] and r.output[0].summary == []
    assert r.output_text == TEXT
    assert [o.type for o in c.responses.create(model="gpt-4o", input="Hi").output] == ["message"]
