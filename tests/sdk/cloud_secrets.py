"""Each cloud's official client holding fake credentials in its own shape, and the calls that drive it: an answer
plain and streamed, an injected 429 and 500, a bad request. The signatures the AWS clients compute are noted as
they go, so that a test can look for them where they must not be."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import boto3
import botocore.exceptions
import httpx2
import openai
from botocore.config import Config
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2.credentials import Credentials

from .bedrock import MODEL as BEDROCK_MODEL

# Split so that no literal in the repository looks like a real credential.
AZURE_KEY = "a5f3" + "LLMREPLAYazureKEY9c0e7b21d4"
AZURE_AD_TOKEN = "eyJ0eXAiOiJKV1Qi" + ".LLMREPLAYazureADtoken.c2lnbmF0dXJl"
GOOGLE_TOKEN = "ya29." + "LLMREPLAYvertexBEARERtoken0123456789"
AWS_KEY_ID = "AKIA" + "LLMREPLAYCLIENT1"
AWS_SECRET = "LLMREPLAYclientSECRET/accessKEY0123456789"
AWS_SESSION = "FwoGZXIvYXdz" + "LLMREPLAYclientSESSIONtoken0123456789"
BEDROCK_API_KEY = "ABSK" + "LLMREPLAYbedrockAPIkey0123456789"
VERTEX_API_KEY = "AQ." + "LLMREPLAYvertexEXPRESSkey0123456789"
SECRETS = (
    AZURE_KEY,
    AZURE_AD_TOKEN,
    GOOGLE_TOKEN,
    AWS_KEY_ID,
    AWS_SECRET,
    AWS_SESSION,
    BEDROCK_API_KEY,
    VERTEX_API_KEY,
)

API_ERRORS = (
    openai.APIError,
    anthropic.APIError,
    genai_errors.APIError,
    botocore.exceptions.ClientError,
    botocore.exceptions.EventStreamError,
)
"""What the clients raise for an answer that is an error."""

SIGNATURES: set[str] = set()
"""Every SigV4 signature the AWS clients here sent (each request has its own)."""
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})")


def _note(authorization: str | bytes | None) -> None:
    text = authorization.decode() if isinstance(authorization, bytes) else authorization or ""
    SIGNATURES.update(_SIGNATURE.findall(text))


Headers = dict[str, str]
Ask = Callable[[str, str, bool, Headers], Any]
"""``(url, prompt, stream, extra headers)``: one call, its answer read whole."""
Bad = Callable[[str], Any]
"""One call the server must refuse as the cloud's bad request."""


def _azure(cred: dict[str, str]) -> tuple[Ask, Bad]:
    def client(url: str) -> openai.AzureOpenAI:
        return openai.AzureOpenAI(azure_endpoint=url, api_version="2024-10-21", max_retries=0, timeout=20, **cred)

    def ask(url: str, prompt: str, stream: bool, headers: Headers) -> Any:
        made = client(url).chat.completions.create(
            model="my-gpt-4o", messages=[{"role": "user", "content": prompt}], stream=stream, extra_headers=headers
        )
        return list(made) if stream else made

    def bad(url: str) -> Any:
        return client(url).chat.completions.create(model="my-gpt-4o", messages=[{"role": "robot", "content": "x"}])

    return ask, bad


def gemini_client(url: str, headers: Headers, express: bool = False) -> genai.Client:
    options = types.HttpOptions(
        base_url=url, headers=headers, timeout=20_000, retry_options=types.HttpRetryOptions(attempts=1)
    )
    if express:  # an API key, and no project or location in the path
        return genai.Client(vertexai=True, api_key=VERTEX_API_KEY, http_options=options)
    # A token already given is never refreshed: the client asks no Google server for one.
    return genai.Client(
        vertexai=True,
        project="my-project",
        location="us-central1",
        credentials=Credentials(token=GOOGLE_TOKEN),
        http_options=options,
    )


def _gemini(express: bool) -> tuple[Ask, Bad]:
    def ask(url: str, prompt: str, stream: bool, headers: Headers) -> Any:
        c = gemini_client(url, headers, express)  # held: a client dropped mid-call closes itself
        if stream:
            return list(c.models.generate_content_stream(model="gemini-2.5-flash", contents=prompt))
        return c.models.generate_content(model="gemini-2.5-flash", contents=prompt)

    def bad(url: str) -> Any:
        c = gemini_client(url, {}, express)
        robot = types.Content(role="robot", parts=[types.Part(text="x")])
        return c.models.generate_content(model="gemini-2.5-flash", contents=[robot])

    return ask, bad


def _claude(
    make: Callable[[str], anthropic.AnthropicVertex | anthropic.AnthropicBedrock], model: str
) -> tuple[Ask, Bad]:
    def ask(url: str, prompt: str, stream: bool, headers: Headers) -> Any:
        made = make(url).messages.create(
            model=model,
            max_tokens=200,
            messages=[{"role": "user", "content": prompt}],
            stream=stream,
            extra_headers=headers,
        )
        return list(made) if stream else made

    def bad(url: str) -> Any:
        return make(url).messages.create(model=model, max_tokens=200, messages=[{"role": "robot", "content": "x"}])

    return ask, bad


def _vertex_claude(url: str) -> anthropic.AnthropicVertex:
    # The SDK's base URL ends in the API version; an access token given is used as it is, never refreshed.
    return anthropic.AnthropicVertex(
        region="us-east5", project_id="my-project", access_token=GOOGLE_TOKEN, base_url=url + "/v1", max_retries=0
    )


def _signing_http() -> httpx2.Client:
    return httpx2.Client(timeout=20, event_hooks={"request": [lambda r: _note(r.headers.get("authorization"))]})


def _bedrock_claude(url: str) -> anthropic.AnthropicBedrock:
    return anthropic.AnthropicBedrock(
        aws_region="us-east-1",
        aws_access_key=AWS_KEY_ID,
        aws_secret_key=AWS_SECRET,
        aws_session_token=AWS_SESSION,
        base_url=url,
        max_retries=0,
        http_client=_signing_http(),
    )


def _bedrock_claude_key(url: str) -> anthropic.AnthropicBedrock:
    # A Bedrock API key is sent as a bearer token instead of a signature.
    return anthropic.AnthropicBedrock(
        aws_region="us-east-1", api_key=BEDROCK_API_KEY, base_url=url, max_retries=0, http_client=_signing_http()
    )


def boto(url: str, headers: Headers) -> Any:
    c = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=AWS_KEY_ID,
        aws_secret_access_key=AWS_SECRET,
        aws_session_token=AWS_SESSION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )

    def add(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value

    c.meta.events.register("before-sign.bedrock-runtime.*", add)
    c.meta.events.register(
        "before-send.bedrock-runtime.*", lambda request, **_: _note(request.headers["Authorization"])
    )
    return c


def _converse_ask(url: str, prompt: str, stream: bool, headers: Headers) -> Any:
    c = boto(url, headers)
    messages = [{"role": "user", "content": [{"text": prompt}]}]
    if stream:
        return list(c.converse_stream(modelId=BEDROCK_MODEL, messages=messages)["stream"])
    return c.converse(modelId=BEDROCK_MODEL, messages=messages)["output"]


def _converse_bad(url: str) -> Any:
    return boto(url, {}).converse(modelId=BEDROCK_MODEL, messages=[{"role": "robot", "content": [{"text": "x"}]}])


def _invoke_body(prompt: str) -> str:
    return json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": prompt}],
        }
    )


def _invoke_ask(url: str, prompt: str, stream: bool, headers: Headers) -> Any:
    c = boto(url, headers)
    if stream:
        return [
            e["chunk"]["bytes"]
            for e in c.invoke_model_with_response_stream(modelId=BEDROCK_MODEL, body=_invoke_body(prompt))["body"]
        ]
    return c.invoke_model(modelId=BEDROCK_MODEL, body=_invoke_body(prompt))["body"].read()


def _invoke_bad(url: str) -> Any:
    return boto(url, {}).invoke_model(modelId=BEDROCK_MODEL, body=json.dumps({"max_tokens": 10, "messages": []}))


CLIENTS: dict[str, tuple[Ask, Bad]] = {
    "azure-api-key": _azure({"api_key": AZURE_KEY}),
    "azure-entra-token": _azure({"azure_ad_token": AZURE_AD_TOKEN}),
    "vertex-gemini": _gemini(express=False),
    "vertex-express": _gemini(express=True),
    "vertex-claude": _claude(_vertex_claude, "claude-sonnet-4-5@20250929"),
    "bedrock-converse": (_converse_ask, _converse_bad),
    "bedrock-invoke": (_invoke_ask, _invoke_bad),
    "anthropic-bedrock": _claude(_bedrock_claude, BEDROCK_MODEL),
    "anthropic-bedrock-api-key": _claude(_bedrock_claude_key, BEDROCK_MODEL),
}
"""Every cloud client, by a name for failure messages."""


@dataclass(frozen=True)
class Outcome:
    name: str
    failed: bool
    error: str = ""


def attempt(name: str, run: Callable[[], Any]) -> Outcome:
    try:
        run()
    except API_ERRORS as exc:
        return Outcome(name, True, f"{type(exc).__name__}: {exc}")
    return Outcome(name, False)


def drive(url: str, prompt: str, errors: bool = True) -> dict[str, Outcome]:
    """Every client's answer plain and streamed to ``prompt``, then (``errors``) an injected 429 and 500 and a
    bad request; each outcome by ``client/what``."""
    out: dict[str, Outcome] = {}
    for name, (ask, bad) in CLIENTS.items():
        steps: dict[str, Callable[[], Any]] = {
            "plain": lambda ask=ask: ask(url, prompt, False, {}),
            "stream": lambda ask=ask: ask(url, prompt, True, {}),
        }
        if errors:
            steps["429"] = lambda ask=ask: ask(url, prompt, False, {"x-llmreplay-status": "429"})
            steps["500"] = lambda ask=ask: ask(url, prompt, True, {"x-llmreplay-status": "500"})
            steps["bad"] = lambda bad=bad: bad(url)
        for what, run in steps.items():
            out[f"{name}/{what}"] = attempt(f"{name}/{what}", run)
    return out
