"""JSON asked for in the prompt, with its schema there too: the synthetic reply follows that schema, for each
API's way of asking (issue 17)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from google import genai
from google.genai import types

from llmreplay.server import BackgroundServer
from tests.conftest import settings

ROUNDS = 100
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}
SYSTEM = "Extract the person. Respond with JSON that validates against this JSON schema:\n" + json.dumps(SCHEMA)
USER = "Ann is 31."


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with BackgroundServer(settings()) as s:
        yield s.url


def chat(url: str) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    messages: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    r = client.chat.completions.create(model="gpt-4o", messages=messages, response_format={"type": "json_object"})
    return r.choices[0].message.content or ""


def responses(url: str) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    r = client.responses.create(
        model="gpt-4o", instructions=SYSTEM, input=USER, text={"format": {"type": "json_object"}}
    )
    return r.output_text


def messages(url: str) -> str:
    # Anthropic has no JSON mode: the words ask for it.
    client = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
    r = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=512, system=SYSTEM, messages=[{"role": "user", "content": USER}]
    )
    return "".join(b.text for b in r.content if b.type == "text")


def gemini(url: str) -> str:
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=url))
    config = types.GenerateContentConfig(system_instruction=SYSTEM, response_mime_type="application/json")
    return client.models.generate_content(model="gemini-2.5-flash", contents=USER, config=config).text or ""


APIS = {"chat": chat, "responses": responses, "messages": messages, "gemini": gemini}


@pytest.mark.sdk
@pytest.mark.parametrize("api", APIS)
def test_every_reply_follows_the_prompts_schema(url: str, api: str) -> None:
    for _ in range(ROUNDS):
        jsonschema.validate(json.loads(APIS[api](url)), SCHEMA)


@pytest.mark.sdk
def test_json_mode_without_a_schema_still_answers_json(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": "Answer in JSON."}]
    r = client.chat.completions.create(model="gpt-4o", messages=messages, response_format={"type": "json_object"})
    assert isinstance(json.loads(r.choices[0].message.content or ""), dict)


@pytest.mark.sdk
def test_a_schema_shown_without_asking_for_json_leaves_the_reply_text(url: str) -> None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": "What does this describe? " + json.dumps(SCHEMA)}]
    text = client.chat.completions.create(model="gpt-4o", messages=messages).choices[0].message.content or ""
    with pytest.raises(ValueError):
        json.loads(text)
