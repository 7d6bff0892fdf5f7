"""Random failure injection switched on through the admin API, as the official SDKs see it."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]


def patch(url: str, path: str, body: dict) -> dict:
    r = httpx2.patch(url + path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def chat(url: str) -> openai.types.chat.ChatCompletion:
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    return client.chat.completions.create(model="gpt-4o", messages=USER)


def message(url: str) -> anthropic.types.Message:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0)
    return client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=USER)


def generate(url: str) -> types.GenerateContentResponse:
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url))
    return client.models.generate_content(model="gemini-2.5-flash", contents="Hello there")


def test_global_error_rate_fails_every_api(make_server):
    srv = make_server()
    assert chat(srv.url).choices[0].message.content
    patch(srv.url, "/api/config/global", {"failures": {"error_rate": 1.0, "kinds": {"503": 1}}})
    with pytest.raises(openai.InternalServerError) as oerr:
        chat(srv.url)
    assert oerr.value.status_code == 503
    with pytest.raises(anthropic.ServiceUnavailableError):
        message(srv.url)
    with pytest.raises(genai_errors.ServerError) as gerr:
        generate(srv.url)
    assert gerr.value.code == 503 and gerr.value.status == "UNAVAILABLE"


def test_injected_kinds_follow_the_outcome_grammar(make_server):
    srv = make_server()
    patch(srv.url, "/api/config/global", {"failures": {"error_rate": 1.0, "kinds": {"reset": 1}}})
    with pytest.raises(openai.APIConnectionError):
        chat(srv.url)
    patch(srv.url, "/api/config/global", {"failures": {"kinds": {"429": 1}, "retry_after_ms": 2000}})
    with pytest.raises(openai.RateLimitError) as info:
        chat(srv.url)
    assert info.value.response.headers["retry-after"] == "2"


def test_endpoint_override_only_affects_that_endpoint(make_server):
    srv = make_server()
    out = patch(srv.url, "/api/config/endpoints/messages", {"failures": {"error_rate": 1.0, "kinds": {"529": 1}}})
    assert out["effective"]["failures"]["error_rate"] == 1.0
    with pytest.raises(anthropic.OverloadedError):
        message(srv.url)
    assert chat(srv.url).choices[0].message.content
    assert generate(srv.url).text
    assert httpx2.delete(srv.url + "/api/config/endpoints/messages").status_code == 200
    assert message(srv.url).content[0].text


def test_bad_kind_is_rejected_and_changes_nothing(make_server):
    srv = make_server()
    r = httpx2.patch(srv.url + "/api/config/global", json={"failures": {"error_rate": 1.0, "kinds": {"boom": 1}}})
    assert r.status_code == 422
    assert chat(srv.url).choices[0].message.content
