"""Azure OpenAI through the openai package's ``AzureOpenAI`` and ``AsyncAzureOpenAI`` (``azure_endpoint`` the
server's URL): the deployment paths with ``api-version``, the Responses path, the v1 GA path, Azure's
content-filter annotations, its 429 and rate-limit headers, and ``api-key`` kept out of the journal."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import jsonschema
import openai
import pydantic
import pytest

from llmreplay.server import BackgroundServer

from .schemas import WEATHER

pytestmark = pytest.mark.sdk

VERSION = "2024-10-21"
DEPLOYMENT = "my-gpt-4o"
USER: Any = [{"role": "user", "content": "Hello there"}]
TOOL: Any = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}


def azure(url: str, retries: int = 0) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(azure_endpoint=url, api_key="azure-secret-key", api_version=VERSION, max_retries=retries)


@pytest.fixture
def client(server: BackgroundServer) -> openai.AzureOpenAI:
    return azure(server.url)


def test_chat_on_a_deployment_carries_azures_annotations(client: openai.AzureOpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=DEPLOYMENT, messages=USER)
    assert raw.http_request.url.path == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert raw.http_request.url.params["api-version"] == VERSION
    made = raw.parse()
    assert made.model == DEPLOYMENT and made.choices[0].message.content
    assert made.usage is not None and made.usage.total_tokens == made.usage.prompt_tokens + made.usage.completion_tokens
    body = json.loads(raw.text)
    prompt = body["prompt_filter_results"][0]
    assert prompt["prompt_index"] == 0
    assert prompt["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert prompt["content_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}
    choice = body["choices"][0]["content_filter_results"]
    assert {k for k, v in choice.items() if "severity" in v} == {"hate", "self_harm", "sexual", "violence"}
    assert raw.headers["apim-request-id"] and raw.headers["x-ms-region"]


def test_a_body_without_model_takes_the_deployments(server: BackgroundServer) -> None:
    url = f"{server.url}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={VERSION}"
    r = httpx.post(url, json={"messages": USER}, headers={"api-key": "k"})
    assert r.status_code == 200 and r.json()["model"] == DEPLOYMENT
    missing = httpx.post(url.split("?")[0], json={"messages": USER}, headers={"api-key": "k"})
    assert missing.status_code == 404


def test_streaming_tells_the_same_answer(make_server: Any) -> None:
    client = azure(
        make_server(synthetic={"default_response": "Same words either way.", "tool_call_probability": 0}).url
    )
    whole = client.chat.completions.create(model=DEPLOYMENT, messages=USER)
    chunks = list(
        client.chat.completions.create(
            model=DEPLOYMENT, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices == [] and chunks[0].model_extra is not None
    assert "prompt_filter_results" in chunks[0].model_extra
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content == "Same words either way."
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    with client.chat.completions.stream(model=DEPLOYMENT, messages=USER) as s:
        assert s.get_final_completion().choices[0].message.content == "Same words either way."


@pytest.mark.parametrize("stream", [False, True])
def test_a_forced_tool_call_validates(client: openai.AzureOpenAI, stream: bool) -> None:
    forced: Any = {"type": "function", "function": {"name": "get_weather"}}
    if stream:
        with client.chat.completions.stream(model=DEPLOYMENT, messages=USER, tools=[TOOL], tool_choice=forced) as s:
            message = s.get_final_completion().choices[0].message
    else:
        message = (
            client.chat.completions.create(model=DEPLOYMENT, messages=USER, tools=[TOOL], tool_choice=forced)
            .choices[0]
            .message
        )
    (call,) = message.tool_calls or []
    assert call.type == "function" and call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER)


def test_a_tool_result_is_answered_in_text(make_server: Any) -> None:
    client = azure(make_server(synthetic={"tool_call_after_result_probability": 0.0}).url)
    forced: Any = {"type": "function", "function": {"name": "get_weather"}}
    first = client.chat.completions.create(model=DEPLOYMENT, messages=USER, tools=[TOOL], tool_choice=forced)
    (call,) = first.choices[0].message.tool_calls or []
    messages: Any = [
        *USER,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
    ]
    second = client.chat.completions.create(model=DEPLOYMENT, messages=messages, tools=[TOOL])
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content


class Weather(pydantic.BaseModel):
    location: str
    unit: str


def test_structured_output(client: openai.AzureOpenAI) -> None:
    parsed = client.chat.completions.parse(model=DEPLOYMENT, messages=USER, response_format=Weather)
    assert isinstance(parsed.choices[0].message.parsed, Weather)


def test_responses_embeddings_and_completions(client: openai.AzureOpenAI) -> None:
    raw = client.responses.with_raw_response.create(model=DEPLOYMENT, input="Hi")
    assert raw.http_request.url.path == "/openai/responses"
    made = raw.parse()
    assert made.output_text and made.usage is not None
    assert client.responses.retrieve(made.id).id == made.id
    second = client.responses.create(model=DEPLOYMENT, input="And?", previous_response_id=made.id)
    assert second.previous_response_id == made.id
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=DEPLOYMENT, input="Hi", previous_response_id="resp_unknown")
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(vectors.data) == 2 and vectors.data[0].embedding
    done = client.completions.create(model="gpt-35-turbo-instruct", prompt="Say hi", max_tokens=20)
    assert done.choices[0].text and done.usage is not None


def test_the_v1_ga_path(server: BackgroundServer) -> None:
    # The v1 surface takes the plain OpenAI client (model = the deployment's name).
    client = openai.OpenAI(base_url=server.url + "/openai/v1", api_key="azure-secret-key", max_retries=0)
    made = client.chat.completions.with_raw_response.create(model=DEPLOYMENT, messages=USER)
    assert "prompt_filter_results" in json.loads(made.text)
    assert client.responses.create(model=DEPLOYMENT, input="Hi").output_text
    assert client.embeddings.create(model="text-embedding-3-small", input="a").data


def test_an_injected_429_is_azures_and_retried_when_allowed(server: BackgroundServer) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        azure(server.url).chat.completions.create(
            model=DEPLOYMENT, messages=USER, extra_headers={"x-llmreplay-status": "429"}
        )
    err = caught.value
    assert isinstance(err.body, dict) and err.body["code"] == "429"
    assert err.body["message"].startswith("Requests to the ChatCompletions_Create Operation under Azure OpenAI API")
    assert "retry-after" in err.response.headers
    assert "x-ratelimit-remaining-requests" in err.response.headers
    assert not any(h.startswith("x-ratelimit-reset") for h in err.response.headers)
    scenario = {"x-llmreplay-scenario": "429,ok", "x-llmreplay-scenario-key": uuid.uuid4().hex}
    raw = azure(server.url, retries=2).chat.completions.with_raw_response.create(
        model=DEPLOYMENT, messages=USER, extra_headers=scenario
    )
    assert raw.retries_taken == 1 and raw.parse().choices[0].message.content


def test_an_injected_500_is_an_internal_server_error(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=DEPLOYMENT, messages=USER, extra_headers={"x-llmreplay-status": "500"})


def test_the_async_client_streams(server: BackgroundServer) -> None:
    async def run() -> str:
        client = openai.AsyncAzureOpenAI(
            azure_endpoint=server.url, api_key="azure-secret-key", api_version=VERSION, max_retries=0
        )
        stream = await client.chat.completions.create(model=DEPLOYMENT, messages=USER, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await client.close()
        return text

    assert asyncio.run(run())


def test_the_api_key_is_kept_out_of_the_journal(server: BackgroundServer) -> None:
    tid = uuid.uuid4().hex
    azure(server.url).chat.completions.create(
        model=DEPLOYMENT, messages=USER, extra_headers={"x-llmreplay-test-id": tid}
    )
    entries = httpx.get(server.url + "/api/requests", params={"test_id": tid}).json()
    assert [e["endpoint"] for e in entries] == ["azure-chat-completions"]
    entry = httpx.get(f"{server.url}/api/requests/{entries[0]['id']}").json()
    assert "api-key" in entry["request"]["headers"]
    assert "azure-secret-key" not in json.dumps(entry)


def test_the_api_key_header_is_scrubbed_from_cassettes() -> None:
    from llmreplay.cassettes.scrub import DEFAULT_SECRET_HEADERS

    assert "api-key" in DEFAULT_SECRET_HEADERS  # gathered from the OpenAI codecs' credential headers


def test_models_are_listed(client: openai.AzureOpenAI, server: BackgroundServer) -> None:
    assert [m.id for m in client.models.list()]
    v1 = openai.OpenAI(base_url=server.url + "/openai/v1", api_key="azure-secret-key", max_retries=0)
    assert [m.id for m in v1.models.list()]
