"""Shared pieces of the end-to-end tests: the upstream, the calls of each API, raw clients with timing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
from google import genai
from google.genai import types

from llmreplay.cassettes.model import Interaction, RecordedEvent
from llmreplay.cassettes.store import load
from llmreplay.server import BackgroundServer
from tests.conftest import settings

SEED = 20260
REPLY = "Recorded replies come back byte for byte, at the pace they were recorded."
UP_LATENCY = {"initial_delay_ms": 100, "delay_ms": 30, "jitter_ms": 20}
ZERO = {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}
GEMINI = "gemini-2.5-flash"


def upstream_server(latency: dict[str, float] | None = None) -> BackgroundServer:
    """The project's own synthetic server, playing the provider; fixed seed and reply so runs repeat."""
    return BackgroundServer(
        settings(
            latency=latency if latency is not None else UP_LATENCY,
            synthetic={"seed": SEED, "default_response": REPLY, "tool_call_probability": 0},
        )
    )


def cassette_settings(folder: Path, **cassettes: Any) -> dict[str, Any]:
    return {"dir": str(folder), **cassettes}


def recorder(folder: Path, upstream: str, **extra: Any) -> BackgroundServer:
    return BackgroundServer(
        settings(cassettes=cassette_settings(folder, upstream=upstream, record_mode="all", **extra))
    )


def replayer(folder: Path, **extra: Any) -> BackgroundServer:
    cs = {"record_mode": "none", "on_miss": "error", **extra}
    return BackgroundServer(settings(latency=ZERO, cassettes=cassette_settings(folder, **cs)))


def only_cassette(folder: Path) -> list[Interaction]:
    return load(folder / "recorded.msgpack").interactions


# ---- raw HTTP, bytes and arrival times ------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """One API call as plain HTTP."""

    name: str
    api: str
    stream: bool
    path: str
    body: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Got:
    status: int
    headers: httpx2.Headers
    chunks: list[tuple[float, bytes]]
    """Arrival time (seconds after the request was sent) of each read, and its bytes."""

    @property
    def body(self) -> bytes:
        return b"".join(c for _, c in self.chunks)

    @property
    def end(self) -> float:
        return self.chunks[-1][0] if self.chunks else 0.0

    def event_times(self, events: tuple[RecordedEvent, ...]) -> list[float]:
        """When the client had each recorded event whole: the read that brought its last byte."""
        ends: list[int] = []
        off = 0
        for e in events:
            off += len(e.data)
            ends.append(off)
        out: list[float] = []
        read_end = 0
        it = iter(self.chunks)
        at = 0.0
        for end in ends:
            while read_end < end:
                at, data = next(it)
                read_end += len(data)
            out.append(at)
        return out


def fetch(base: str, raw: Raw, headers: dict[str, str] | None = None) -> Got:
    hdrs = {"content-type": "application/json", **raw.headers, **(headers or {})}
    with httpx2.Client(timeout=20) as c:
        t0 = time.perf_counter()
        req = c.build_request("POST", base + raw.path, params=raw.query, headers=hdrs, content=json.dumps(raw.body))
        resp = c.send(req, stream=True)
        try:
            chunks = [(time.perf_counter() - t0, data) for data in resp.iter_raw()]
        finally:
            resp.close()
    return Got(resp.status_code, resp.headers, chunks)


def _chat(stream: bool) -> Raw:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"raw chat {stream}"}], "stream": stream}
    return Raw(f"openai-chat-{'stream' if stream else 'plain'}", "openai-chat", stream, "/v1/chat/completions", body)


def _responses(stream: bool) -> Raw:
    body = {"model": "gpt-4o-mini", "input": f"raw responses {stream}", "stream": stream}
    return Raw(f"openai-responses-{'stream' if stream else 'plain'}", "openai-responses", stream, "/v1/responses", body)


def _messages(stream: bool) -> Raw:
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": f"raw messages {stream}"}],
        "stream": stream,
    }
    return Raw(
        f"anthropic-{'stream' if stream else 'plain'}",
        "anthropic-messages",
        stream,
        "/v1/messages",
        body,
        headers={"anthropic-version": "2023-06-01"},
    )


def _gemini(stream: bool) -> Raw:
    body = {"contents": [{"role": "user", "parts": [{"text": f"raw gemini {stream}"}]}]}
    method = "streamGenerateContent" if stream else "generateContent"
    return Raw(
        f"gemini-{'stream' if stream else 'plain'}",
        "gemini",
        stream,
        f"/v1beta/models/{GEMINI}:{method}",
        body,
        query={"alt": "sse"} if stream else {},
    )


RAW_CASES = [make(s) for make in (_chat, _responses, _messages, _gemini) for s in (False, True)]


# ---- the official SDKs ----------------------------------------------------------------------------

# Fake keys in the providers' shapes, split so that no literal in the repository looks like a real key.
OPENAI_KEY = "sk-" + "test-LLMREPLAY-SECRET-0123456789abcdef"
ANTHROPIC_KEY = "sk-" + "ant-api03-LLMREPLAYsecretKEY-9876543210zyxw"
GOOGLE_KEY = "AIza" + "SyLLMREPLAYsecretKEY0123456789abcde"
assert len(GOOGLE_KEY) == 39
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY)


def openai_client(base: str, key: str = OPENAI_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=20)


def anthropic_client(base: str, key: str = ANTHROPIC_KEY) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key=key, max_retries=0, timeout=20)


def gemini_client(base: str, key: str = GOOGLE_KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=base, timeout=20_000))


def _dump(obj: Any) -> Any:
    # The Gemini SDK keeps the HTTP response headers on each result; only the content is compared.
    return obj.model_dump(mode="json", exclude={"sdk_http_response"})


def sdk_chat(base: str, stream: bool) -> Any:
    c = openai_client(base)
    msgs = [{"role": "user", "content": f"sdk chat {stream}"}]
    if stream:
        return [_dump(x) for x in c.chat.completions.create(model="gpt-4o-mini", messages=msgs, stream=True)]
    return _dump(c.chat.completions.create(model="gpt-4o-mini", messages=msgs))


def sdk_responses(base: str, stream: bool) -> Any:
    c = openai_client(base)
    if stream:
        return [_dump(x) for x in c.responses.create(model="gpt-4o-mini", input="sdk responses True", stream=True)]
    return _dump(c.responses.create(model="gpt-4o-mini", input="sdk responses False"))


def sdk_messages(base: str, stream: bool) -> Any:
    c = anthropic_client(base)
    msgs = [{"role": "user", "content": f"sdk messages {stream}"}]
    if stream:
        events = c.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=msgs, stream=True)
        return [_dump(x) for x in events]
    return _dump(c.messages.create(model="claude-sonnet-4-6", max_tokens=256, messages=msgs))


def sdk_gemini(base: str, stream: bool) -> Any:
    c = gemini_client(base)
    if stream:
        return [_dump(x) for x in c.models.generate_content_stream(model=GEMINI, contents="sdk gemini True")]
    return _dump(c.models.generate_content(model=GEMINI, contents="sdk gemini False"))


SdkCall = Callable[[str, bool], Any]
SDK_CALLS: dict[str, SdkCall] = {
    "openai-chat": sdk_chat,
    "openai-responses": sdk_responses,
    "anthropic-messages": sdk_messages,
    "gemini": sdk_gemini,
}
SDK_CASES = [(api, s) for api in SDK_CALLS for s in (False, True)]


def text_of(api: str, result: Any) -> str:
    """The reply text an SDK result carries (plain or streamed)."""
    if api == "openai-chat":
        if isinstance(result, list):
            return "".join((c["choices"][0]["delta"].get("content") or "") for c in result if c["choices"])
        return result["choices"][0]["message"]["content"]
    if api == "openai-responses":
        if isinstance(result, list):
            return "".join(e["delta"] for e in result if e["type"] == "response.output_text.delta")
        return "".join(p["text"] for o in result["output"] if o["type"] == "message" for p in o["content"])
    if api == "anthropic-messages":
        if isinstance(result, list):
            return "".join(
                e["delta"]["text"] for e in result if e["type"] == "content_block_delta" and "text" in e["delta"]
            )
        return "".join(b["text"] for b in result["content"] if b["type"] == "text")
    chunks = result if isinstance(result, list) else [result]
    return "".join(p.get("text") or "" for c in chunks for p in c["candidates"][0]["content"]["parts"])
