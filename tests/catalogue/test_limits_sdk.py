"""A prompt over its model's context window, or an output limit over its maximum, gets the provider's own 400
through each official SDK; with enforcement off the same call is answered. The windows are the shipped
catalogue's (gpt-3.5-turbo 16,385; Claude Haiku 3.5 200,000; Gemini 2.0 Flash 1,048,576)."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors, types

from llmreplay import config
from llmreplay.server import BackgroundServer

from ..conftest import settings

pytestmark = pytest.mark.sdk

OPENAI_LONG = "word " * 17_000
ANTHROPIC_LONG = "word " * 200_100
GEMINI_LONG = "word " * 1_048_700


def _openai(srv) -> openai.OpenAI:
    return openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)


def _anthropic(srv) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=srv.url, api_key="sk-ant-test", max_retries=0)


def _gemini(srv) -> genai.Client:
    return genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=srv.url))


@pytest.fixture(scope="module")
def off():
    """A server with enforcement off (module-wide: a fresh server per test would cost a start each)."""
    with BackgroundServer(settings(models={"enforce_limits": False})) as srv:
        yield srv


@pytest.mark.parametrize("stream", [False, True])
def test_openai_chat_over_the_window(server, off, stream: bool) -> None:
    msgs = [{"role": "user", "content": OPENAI_LONG}]
    with pytest.raises(openai.BadRequestError) as err:
        r = _openai(server).chat.completions.create(model="gpt-3.5-turbo", messages=msgs, stream=stream)
        list(r) if stream else None
    e = err.value
    assert e.status_code == 400 and e.code == "context_length_exceeded" and e.param == "messages"
    assert e.body["message"].startswith("This model's maximum context length is 16385 tokens. However, your")
    assert e.body["type"] == "invalid_request_error"
    ok = _openai(off).chat.completions.create(model="gpt-3.5-turbo", messages=msgs)
    assert ok.choices[0].message.content and ok.usage.prompt_tokens > 16385


def test_openai_responses_over_the_window(server, off) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        _openai(server).responses.create(model="gpt-3.5-turbo", input=OPENAI_LONG)
    assert err.value.code == "context_length_exceeded" and err.value.param == "input"
    assert "exceeds the context window of this model" in err.value.body["message"]
    assert _openai(off).responses.create(model="gpt-3.5-turbo", input=OPENAI_LONG).output_text


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_over_the_window(server, off, stream: bool) -> None:
    msgs = [{"role": "user", "content": ANTHROPIC_LONG}]
    with pytest.raises(anthropic.BadRequestError) as err:
        r = _anthropic(server).messages.create(
            model="claude-3-5-haiku-latest", max_tokens=100, messages=msgs, stream=stream
        )
        list(r) if stream else None
    e = err.value
    assert e.status_code == 400 and e.body["error"]["type"] == "invalid_request_error"
    assert e.body["error"]["message"].startswith("prompt is too long: ")
    assert e.body["error"]["message"].endswith(" tokens > 200000 maximum")
    ok = _anthropic(off).messages.create(model="claude-3-5-haiku-latest", max_tokens=100, messages=msgs)
    assert ok.usage.input_tokens > 200_000


def test_gemini_over_the_window(server, off) -> None:
    g = _gemini(server)  # kept: a client no one holds is closed under its own stream
    with pytest.raises(errors.ClientError) as err:
        g.models.generate_content(model="gemini-2.0-flash", contents=GEMINI_LONG)
    e = err.value
    assert e.code == 400 and e.status == "INVALID_ARGUMENT"
    assert e.message.startswith("The input token count (") and e.message.endswith(
        ") exceeds the maximum number of tokens allowed (1048576)."
    )
    with pytest.raises(errors.ClientError):
        list(g.models.generate_content_stream(model="gemini-2.0-flash", contents=GEMINI_LONG))
    g_off = _gemini(off)
    ok = g_off.models.generate_content(model="gemini-2.0-flash", contents=GEMINI_LONG)
    assert ok.text and ok.usage_metadata.prompt_token_count > 1_048_576


def test_count_tokens_agrees_with_the_figure_refused(server) -> None:
    c = _anthropic(server)
    counted = c.messages.count_tokens(
        model="claude-3-5-haiku-latest", messages=[{"role": "user", "content": ANTHROPIC_LONG}]
    )
    with pytest.raises(anthropic.BadRequestError) as err:
        c.messages.create(
            model="claude-3-5-haiku-latest", max_tokens=100, messages=[{"role": "user", "content": ANTHROPIC_LONG}]
        )
    assert err.value.body["error"]["message"] == f"prompt is too long: {counted.input_tokens} tokens > 200000 maximum"


def test_output_limits_over_the_maximum(server, off) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        _openai(server).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=20000
        )
    assert err.value.param == "max_tokens" and err.value.code is None
    assert err.value.body["message"] == (
        "max_tokens is too large: 20000. This model supports at most 16384 completion tokens, "
        "whereas you provided 20000."
    )
    with pytest.raises(openai.BadRequestError) as err:
        _openai(server).chat.completions.create(
            model="o3-mini", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=100_001
        )
    assert err.value.param == "max_completion_tokens"
    with pytest.raises(anthropic.BadRequestError) as aerr:
        _anthropic(server).messages.create(
            model="claude-3-haiku-20240307", max_tokens=8192, messages=[{"role": "user", "content": "hi"}]
        )
    assert aerr.value.body["error"]["message"] == (
        "max_tokens: 8192 > 4096, which is the maximum allowed number of output tokens for claude-3-haiku-20240307"
    )
    cfg = types.GenerateContentConfig(max_output_tokens=9000)
    g, g_off = _gemini(server), _gemini(off)
    with pytest.raises(errors.ClientError) as gerr:
        g.models.generate_content(model="gemini-2.0-flash", contents="hi", config=cfg)
    assert gerr.value.code == 400 and "maxOutputTokens value of 9000" in gerr.value.message
    assert "to 8193 (exclusive)" in gerr.value.message
    assert g_off.models.generate_content(model="gemini-2.0-flash", contents="hi", config=cfg).text


def test_unknown_models_and_overrides(make_server) -> None:
    srv = make_server(models={"families": {"my-llama*": {"context_window": 50}, "gpt-4o*": {"context_window": 40}}})
    c = _openai(srv)
    long = [{"role": "user", "content": "word " * 60}]
    assert c.chat.completions.create(model="some-unknown-model", messages=long).choices[0].message.content
    for model in ("my-llama-3", "gpt-4o"):
        with pytest.raises(openai.BadRequestError) as err:
            c.chat.completions.create(model=model, messages=long)
        assert err.value.code == "context_length_exceeded"


def test_the_environment_turns_enforcement_off() -> None:
    assert config.load(environ={"LLMREPLAY_ENFORCE_MODEL_LIMITS": "false"}).models.enforce_limits is False
    assert config.load(environ={}).models.enforce_limits is True


def test_legacy_completions_count_the_completion_into_the_window(server) -> None:
    c = _openai(server)
    prompt = "word " * 4000
    with pytest.raises(openai.BadRequestError) as err:
        c.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, max_tokens=200)
    assert err.value.code == "context_length_exceeded" and err.value.param == "prompt"
    assert err.value.body["message"].startswith("This model's maximum context length is 4096 tokens, however you")
    assert "; 200 for the completion)" in err.value.body["message"]
    assert c.completions.create(model="gpt-3.5-turbo-instruct", prompt="word " * 3000, max_tokens=200).choices
