"""One conversation, asked through each official SDK (Chat Completions, Responses, Anthropic Messages, Gemini),
streamed or not, and what the SDK made of the answer, read back the same way for all four.

:func:`ask` fills a :class:`~tests.rules.sdk.common.Got` as the answer arrives, so a test of a stream cut short
can look at what came before the SDK raised.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
from google import genai
from google.genai import types

from tests.rules.sdk.common import HTTP, HTTP2, MODELS, TOOLS, Ask, Got


def ask(url: str, api: str, stream: bool, a: Ask, got: Got | None = None, timeout: float = 10) -> Got:
    got = got if got is not None else Got()
    DRIVERS[api](url, stream, a, got, timeout)
    return got


# ---- Chat Completions ----------------------------------------------------------------------------


def openai_client(url: str, a: Ask, timeout: float) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=url + "/v1",
        api_key="sk-test",
        max_retries=0,
        timeout=timeout,
        default_headers=a.headers,
        http_client=HTTP,
    )


def chat_messages(a: Ask) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": a.system}] if a.system is not None else []
    for t in a.turns():
        if t[0] in ("user", "assistant"):
            out.append({"role": t[0], "content": t[1]})
        elif t[0] == "call":
            call = {"id": t[3], "type": "function", "function": {"name": t[1], "arguments": json.dumps(t[2])}}
            out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:
            out.append({"role": "tool", "tool_call_id": t[2], "content": json.dumps(t[3])})
    return out


def _chat(url: str, stream: bool, a: Ask, got: Got, timeout: float) -> None:
    kw: dict[str, Any] = {"model": a.model or MODELS["chat"], "messages": chat_messages(a)}
    if a.tools:
        kw["tools"] = [{"type": "function", "function": {"name": n, "parameters": TOOLS[n]}} for n in a.tools]
    if a.temperature is not None:
        kw["temperature"] = a.temperature
    if a.schema is not None:
        kw["response_format"] = {"type": "json_schema", "json_schema": {"name": "out", "schema": a.schema}}
    if stream:
        kw |= {"stream": True, "stream_options": {"include_usage": True}}
    raw = openai_client(url, a, timeout).chat.completions.with_raw_response.create(**kw)
    got.source = raw.headers.get("x-llmreplay-source")
    if not stream:
        c = raw.parse()
        got.raw.append(c)
        choice, msg = c.choices[0], c.choices[0].message
        got.text, got.refusal, got.finish = msg.content or "", msg.refusal, choice.finish_reason
        got.calls = [(t.function.name, json.loads(t.function.arguments)) for t in msg.tool_calls or []]
        got.ids = [t.id for t in msg.tool_calls or []]
        got.usage = (c.usage.prompt_tokens, c.usage.completion_tokens) if c.usage else (None, None)
        return
    calls: dict[int, list[str]] = {}
    for chunk in raw.parse():
        got.raw.append(chunk)
        if chunk.usage is not None:
            got.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            d = choice.delta
            if d.content:
                got.text += d.content
                got.chunks += 1
            if d.refusal:
                got.refusal = (got.refusal or "") + d.refusal
            for tc in d.tool_calls or []:
                if tc.id:
                    got.ids.append(tc.id)
                name_args = calls.setdefault(tc.index, ["", ""])
                if tc.function is not None:
                    name_args[0] += tc.function.name or ""
                    name_args[1] += tc.function.arguments or ""
            if choice.finish_reason:
                got.finish = choice.finish_reason
    got.calls = [(n, json.loads(args)) for n, args in calls.values()]


# ---- Responses -----------------------------------------------------------------------------------


def responses_input(a: Ask) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in a.turns():
        if t[0] in ("user", "assistant"):
            out.append({"role": t[0], "content": t[1]})
        elif t[0] == "call":
            out.append({"type": "function_call", "call_id": t[3], "name": t[1], "arguments": json.dumps(t[2])})
        else:
            out.append({"type": "function_call_output", "call_id": t[2], "output": json.dumps(t[3])})
    return out


def _read_response(resp: Any, got: Got, stream: bool) -> None:
    got.calls, got.ids, text, thinking = [], [], "", ""
    for item in resp.output:
        if item.type == "function_call":
            got.calls.append((item.name, json.loads(item.arguments)))
            got.ids.append(item.call_id)
        elif item.type == "reasoning":
            thinking += "".join(s.text for s in item.summary or [])
        elif item.type == "message":
            for part in item.content:
                if part.type == "output_text":
                    text += part.text
                elif part.type == "refusal":
                    got.refusal = (got.refusal or "") + part.refusal
    if not stream:
        got.text, got.thinking = text, thinking
    else:
        assert (got.text, got.thinking) == (text, thinking), "the streamed deltas add up to the final response"
    got.finish = "tool_calls" if got.calls else resp.status
    if resp.usage is not None:
        got.usage = (resp.usage.input_tokens, resp.usage.output_tokens)


def _responses(url: str, stream: bool, a: Ask, got: Got, timeout: float) -> None:
    kw: dict[str, Any] = {"model": a.model or MODELS["responses"], "input": responses_input(a)}
    if a.system is not None:
        kw["instructions"] = a.system
    if a.tools:
        kw["tools"] = [{"type": "function", "name": n, "parameters": TOOLS[n]} for n in a.tools]
    if a.temperature is not None:
        kw["temperature"] = a.temperature
    if a.reasoning:
        kw["reasoning"] = {"effort": "low", "summary": "auto"}
    if a.schema is not None:
        kw["text"] = {"format": {"type": "json_schema", "name": "out", "schema": a.schema}}
    raw = openai_client(url, a, timeout).responses.with_raw_response.create(stream=stream, **kw)
    got.source = raw.headers.get("x-llmreplay-source")
    if not stream:
        got.raw.append(raw.parse())
        _read_response(got.raw[0], got, stream)
        return
    for event in raw.parse():
        got.raw.append(event)
        if event.type == "response.output_text.delta":
            got.text += event.delta
            got.chunks += 1
        elif event.type == "response.reasoning_summary_text.delta":
            got.thinking += event.delta
        elif event.type in ("response.completed", "response.incomplete"):
            _read_response(event.response, got, stream)
        elif event.type == "response.failed":  # after an in-stream error event, which the SDK does not raise
            got.finish = "failed"


# ---- Anthropic Messages --------------------------------------------------------------------------


def anthropic_messages(a: Ask) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in a.turns():
        if t[0] in ("user", "assistant"):
            out.append({"role": t[0], "content": t[1]})
        elif t[0] == "call":
            out.append(
                {"role": "assistant", "content": [{"type": "tool_use", "id": t[3], "name": t[1], "input": t[2]}]}
            )
        else:
            block = {"type": "tool_result", "tool_use_id": t[2], "content": json.dumps(t[3])}
            out.append({"role": "user", "content": [block]})
    return out


def _messages(url: str, stream: bool, a: Ask, got: Got, timeout: float) -> None:
    client = anthropic.Anthropic(
        base_url=url,
        api_key="sk-ant-test",
        max_retries=0,
        timeout=timeout,
        default_headers=a.headers,
        http_client=HTTP2,
    )
    kw: dict[str, Any] = {"model": a.model or MODELS["messages"], "max_tokens": 1024, "messages": anthropic_messages(a)}
    if a.system is not None:
        kw["system"] = a.system
    if a.tools:
        kw["tools"] = [{"name": n, "input_schema": TOOLS[n]} for n in a.tools]
    if a.temperature is not None:  # not a parameter of this SDK's create(): sent as the API takes it
        kw["extra_body"] = {"temperature": a.temperature}
    if a.reasoning:
        kw["thinking"] = {"type": "enabled", "budget_tokens": 512}
    if a.schema is not None:
        kw["output_config"] = {"format": {"type": "json_schema", "schema": a.schema}}
    raw = client.messages.with_raw_response.create(stream=stream, **kw)
    got.source = raw.headers.get("x-llmreplay-source")
    if not stream:
        msg = raw.parse()
        got.raw.append(msg)
        for b in msg.content:
            if b.type == "text":
                got.text += b.text
            elif b.type == "thinking":
                got.thinking += b.thinking
            elif b.type == "tool_use":
                got.calls.append((b.name, dict(b.input)))
                got.ids.append(b.id)
        got.finish, got.usage = msg.stop_reason, (msg.usage.input_tokens, msg.usage.output_tokens)
        return
    blocks: dict[int, list[str]] = {}
    for event in raw.parse():
        got.raw.append(event)
        if event.type == "message_start":
            got.usage = (event.message.usage.input_tokens, None)
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            blocks[event.index] = [event.content_block.name, ""]
            got.ids.append(event.content_block.id)
        elif event.type == "content_block_delta":
            d = event.delta
            if d.type == "text_delta":
                got.text += d.text
                got.chunks += 1
            elif d.type == "thinking_delta":
                got.thinking += d.thinking
            elif d.type == "input_json_delta":
                blocks[event.index][1] += d.partial_json
        elif event.type == "message_delta":
            got.finish, got.usage = event.delta.stop_reason, (got.usage[0], event.usage.output_tokens)
    got.calls = [(n, json.loads(args or "{}")) for n, args in blocks.values()]


# ---- Gemini --------------------------------------------------------------------------------------


def gemini_contents(a: Ask) -> list[types.Content]:
    out: list[types.Content] = []
    for t in a.turns():
        if t[0] in ("user", "assistant"):
            out.append(types.Content(role="user" if t[0] == "user" else "model", parts=[types.Part(text=t[1])]))
        elif t[0] == "call":
            call = types.FunctionCall(name=t[1], args=t[2], id=t[3])
            out.append(types.Content(role="model", parts=[types.Part(function_call=call)]))
        else:
            out.append(types.Content(role="user", parts=[types.Part.from_function_response(name=t[1], response=t[3])]))
    return out


def gemini_client(url: str, headers: dict[str, str], timeout: float) -> genai.Client:
    return _gemini_client(url, tuple(sorted(headers.items())), timeout)


@functools.lru_cache(maxsize=64)
def _gemini_client(url: str, headers: tuple[tuple[str, str], ...], timeout: float) -> genai.Client:
    """Kept: a Gemini client takes ~50 ms to build."""
    options = types.HttpOptions(base_url=url, headers=dict(headers), timeout=int(timeout * 1000), httpx_client=HTTP)
    return genai.Client(api_key="AIza-test", http_options=options)


def gemini_config(a: Ask) -> types.GenerateContentConfig:
    config = types.GenerateContentConfig(
        system_instruction=a.system,
        temperature=a.temperature,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=types.ThinkingConfig(include_thoughts=True) if a.reasoning else None,
    )
    if a.tools:
        decls = [types.FunctionDeclaration(name=n, parameters_json_schema=TOOLS[n]) for n in a.tools]
        config.tools = [types.Tool(function_declarations=decls)]
    if a.schema is not None:
        config.response_mime_type, config.response_json_schema = "application/json", a.schema
    return config


def _read_gemini(chunk: types.GenerateContentResponse, got: Got, stream: bool) -> None:
    got.raw.append(chunk)
    if chunk.sdk_http_response is not None and chunk.sdk_http_response.headers:
        got.source = chunk.sdk_http_response.headers.get("x-llmreplay-source")
    for cand in chunk.candidates or []:
        for part in (cand.content.parts if cand.content else None) or []:
            if part.thought and part.text:
                got.thinking += part.text
            elif part.text:
                got.text += part.text
                got.chunks += stream
            elif part.function_call is not None:
                got.calls.append((part.function_call.name or "", dict(part.function_call.args or {})))
                got.ids.append(part.function_call.id or "")
        if cand.finish_reason is not None:
            got.finish = cand.finish_reason.value
    u = chunk.usage_metadata
    if u is not None and u.prompt_token_count is not None:  # Gemini counts thoughts apart from the answer
        got.usage = (u.prompt_token_count, (u.candidates_token_count or 0) + (u.thoughts_token_count or 0))


def _gemini(url: str, stream: bool, a: Ask, got: Got, timeout: float) -> None:
    models = gemini_client(url, a.headers, timeout).models
    kw: dict[str, Any] = {
        "model": a.model or MODELS["gemini"],
        "contents": gemini_contents(a),
        "config": gemini_config(a),
    }
    if not stream:
        _read_gemini(models.generate_content(**kw), got, stream)
        return
    for chunk in models.generate_content_stream(**kw):
        _read_gemini(chunk, got, stream)


DRIVERS: dict[str, Callable[[str, bool, Ask, Got, float], None]] = {
    "chat": _chat,
    "responses": _responses,
    "messages": _messages,
    "gemini": _gemini,
}
