"""What the SDK tests of rules share: the four APIs and their cases, the tools and schemas they offer, the
conversation an app sends (:class:`Ask`), what its SDK made of the answer (:class:`Got`), each SDK's errors,
and the admin API."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import httpx2
import openai
from google import genai

APIS = ("chat", "responses", "messages", "gemini")
CASES = [(api, stream) for api in APIS for stream in (False, True)]
IDS = [f"{api}-{'stream' if stream else 'whole'}" for api, stream in CASES]
API_NAMES = {
    "chat": "openai-chat",
    "responses": "openai-responses",
    "messages": "anthropic-messages",
    "gemini": "gemini",
}
MODELS = {
    "chat": "gpt-4o-mini",
    "responses": "gpt-4o-mini",
    "messages": "claude-sonnet-4-6",
    "gemini": "gemini-2.5-flash",
}
TEMPERATURE = {  # where each API's body holds the temperature
    "chat": "temperature",
    "responses": "temperature",
    "messages": "temperature",
    "gemini": "generationConfig.temperature",
}
USER_TEXT = {  # where each API's body holds the first user message's text (no system message in front)
    "chat": "messages.0.content",
    "responses": "input.0.content",
    "messages": "messages.0.content",
    "gemini": "contents.0.parts.0.text",
}
PATHS = {  # each API's URL path, as a shell pattern (google-genai picks its API version)
    "chat": "/v1/chat/completions",
    "responses": "/v1/responses",
    "messages": "/v1/messages",
    "gemini": "/v1*/models/*:*enerateContent",
}

TOOLS: dict[str, dict[str, Any]] = {
    "get_weather": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
    },
    "search_docs": {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 3},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10},
        },
        "required": ["query", "limit"],
    },
}
ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "total": {"type": "number", "minimum": 0},
        "items": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["order_id", "total", "items"],
    "additionalProperties": False,
}

HTTP = httpx.Client(timeout=10)
"""One connection pool for the OpenAI and Gemini clients and admin calls (a new one builds an SSL context: ~20 ms)."""
HTTP2 = httpx2.Client(timeout=10)
"""The same for the Anthropic client, whose SDK takes only its own fork of httpx."""

Turn = tuple[Any, ...]
"""``("user", text)``, ``("assistant", text)``, ``("call", name, args, id)`` or ``("result", name, id, content)``."""


@dataclass
class Ask:
    """What the app sends: a conversation (``history`` then ``user``, when given), with optional extras."""

    user: str | None = "Hello there"
    history: list[Turn] = field(default_factory=list)
    system: str | None = None
    tools: tuple[str, ...] = ()
    model: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    temperature: float | None = None
    schema: dict[str, Any] | None = None
    reasoning: bool = False
    """Ask to see the model's reasoning (Responses' summary, Anthropic's thinking, Gemini's thoughts)."""

    def turns(self) -> list[Turn]:
        return [*self.history, *([("user", self.user)] if self.user is not None else [])]


@dataclass
class Got:
    """What the SDK made of the answer, the same for every API."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    """The calls' ids, as the SDK shows them."""
    refusal: str | None = None
    thinking: str = ""
    finish: str | None = None
    """The API's own stop reason (Responses: ``tool_calls`` when it called one, else the response's status)."""
    usage: tuple[int | None, int | None] = (None, None)
    source: str | None = None
    chunks: int = 0
    """Stream events that carried text."""
    raw: list[Any] = field(default_factory=list)
    """The SDK's objects, as they came."""


# ---- errors, as each SDK raises them ---------------------------------------------------------------


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an SDK's error, whichever SDK raised it."""
    if isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return exc.status_code
    if isinstance(exc, genai.errors.APIError):
        return exc.code
    return None


CUT = (
    openai.APIError,
    anthropic.APIError,
    genai.errors.APIError,
    httpx.HTTPError,
    httpx2.HTTPError,
    json.JSONDecodeError,
    ValueError,
)
"""What an SDK raises when a stream breaks off (a transport error, or a body it cannot read)."""


# ---- the admin API ----------------------------------------------------------------------------------


def put_rules(url: str, rules: list[dict[str, Any]], test_id: str | None = None) -> None:
    params = {"test_id": test_id} if test_id else None
    r = HTTP.put(url + "/api/rules", json={"rules": rules}, params=params, timeout=10)
    assert r.status_code == 200, r.text


def post_rules(url: str, rules: list[dict[str, Any]], test_id: str | None = None) -> None:
    params = {"test_id": test_id} if test_id else None
    r = HTTP.post(url + "/api/rules", json={"rules": rules}, params=params, timeout=10)
    assert r.status_code == 200, r.text


def journal(url: str, **filters: Any) -> list[dict[str, Any]]:
    r = HTTP.get(url + "/api/requests", params=filters)
    assert r.status_code == 200, r.text
    return r.json()
