"""Anthropic Messages request bodies: validation with pydantic and the neutral :class:`Request`.

The same parse serves ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``
(which takes no ``max_tokens`` and no ``stream``). Errors name the field the way the
real API does (``max_tokens: Field required``) so the SDK raises its usual 400.
Content blocks are validated one by one with a model per known type; unknown block
types (server tool results, tool references …) are accepted as they come.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

import pydantic
from pydantic import Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Message, OutputFormat, Request, Tool, ToolChoice, ToolResult
from llmreplay.providers.base import Body, load_json

API = "anthropic-messages"
ENDPOINT = "messages"


# ---- body models ------------------------------------------------------------------


class MessageParam(Body):
    """One turn of ``messages``."""

    role: Literal["user", "assistant", "system"]
    """``system`` turns are the newer mid-conversation system prompts (recorded traffic sends them)."""
    content: str | list[dict[str, Any]]


class ToolChoiceParam(Body):
    """``tool_choice``."""

    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingParam(Body):
    """``thinking``: extended thinking on, off, or left to the model."""

    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = Field(default=None, ge=1)


class CustomToolParam(Body):
    """A client tool (one without a server ``type``)."""

    name: str = Field(min_length=1)
    description: str | None = None
    input_schema: dict[str, Any]


class CountTokensBody(Body):
    """The body of ``POST /v1/messages/count_tokens``: what both endpoints share."""

    model: str
    messages: list[MessageParam]
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: ToolChoiceParam | None = None
    thinking: ThinkingParam | None = None
    output_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | None = None
    """The structured-outputs beta's spelling of ``output_config.format``."""


class MessagesBody(CountTokensBody):
    """The body of ``POST /v1/messages``."""

    max_tokens: int = Field(ge=1)
    stream: bool | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    metadata: dict[str, Any] | None = None


class _TextBlock(Body):
    text: str


class _SourceBlock(Body):
    """``image`` and ``document``."""

    source: dict[str, Any]


class _ToolUseBlock(Body):
    id: str
    name: str
    input: dict[str, Any]


class _ToolResultBlock(Body):
    tool_use_id: str
    content: str | list[dict[str, Any]] | None = None
    is_error: bool | None = None


class _ThinkingBlock(Body):
    thinking: str
    signature: str = ""


class _RedactedThinkingBlock(Body):
    data: str


_BLOCKS: dict[str, type[Body]] = {
    "text": _TextBlock,
    "image": _SourceBlock,
    "document": _SourceBlock,
    "tool_use": _ToolUseBlock,
    "tool_result": _ToolResultBlock,
    "thinking": _ThinkingBlock,
    "redacted_thinking": _RedactedThinkingBlock,
}


# ---- errors --------------------------------------------------------------------------

_UNION_TAG_PREFIXES = ("list[", "dict[", "function-", "tagged-union", "literal[")
_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def invalid(param: str, message: str) -> ApiError:
    """An INVALID_REQUEST error worded as the real API words them: ``<field>: <why>``."""
    return ApiError(ErrorKind.INVALID_REQUEST, f"{param}: {message}", param=param)


def field_error(exc: pydantic.ValidationError, prefix: Sequence[str | int] = ()) -> ApiError:
    """The first error of ``exc`` as ``<dotted.path>: <pydantic message>``."""
    err = exc.errors(include_url=False)[0]
    # pydantic puts the union member tried (``str``, ``list[...]``) in the location; clients never see those.
    loc = [str(x) for x in (*prefix, *err["loc"])]
    loc = [x for x in loc if x not in _UNION_TAGS and not x.startswith(_UNION_TAG_PREFIXES)]
    return invalid(".".join(loc) or "body", err["msg"])


def _validate(model: type[Body], data: Any, prefix: Sequence[str | int] = ()) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise field_error(exc, prefix) from None


# ---- text of a turn -----------------------------------------------------------------


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def _nested_text(content: Any) -> str:
    """Text of a ``tool_result`` or ``document`` content: a string or a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str))
    return ""


def _block_text(block: dict[str, Any]) -> str:
    kind = block["type"]
    if kind == "text":
        return str(block["text"])
    if kind == "thinking":
        return str(block["thinking"])
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        return _json({"name": block.get("name", ""), "input": block.get("input", {})})
    if kind == "tool_result":
        return _nested_text(block.get("content"))
    if kind == "document":
        source = block.get("source") or {}
        if source.get("type") == "text":
            return str(source.get("data", ""))
        if source.get("type") == "content":
            return _nested_text(source.get("content"))
    # Images, files, redacted thinking and server tool results carry no text we can count.
    return ""


def _check_block(block: dict[str, Any], loc: list[str | int]) -> None:
    kind = block.get("type")
    if not isinstance(kind, str):
        why = "Field required" if kind is None else "Input should be a valid string"
        raise invalid(".".join(str(x) for x in [*loc, "type"]), why)
    model = _BLOCKS.get(kind)
    if model is not None:
        _validate(model, block, loc)


def _message(i: int, m: MessageParam, names: dict[str, str]) -> Message:
    """One turn; ``names`` (tool names by ``tool_use`` id) grows with the assistant's calls."""
    if isinstance(m.content, str):
        return Message(m.role, m.content)
    texts: list[str] = []
    results: list[ToolResult] = []
    for j, block in enumerate(m.content):
        _check_block(block, ["messages", i, "content", j])
        text = _block_text(block)
        kind = block.get("type")
        if kind == "tool_use":
            names[str(block.get("id", ""))] = str(block.get("name", ""))
        elif kind == "tool_result":
            call_id = str(block.get("tool_use_id", ""))
            results.append(ToolResult(call_id, names.get(call_id, ""), text))
        if text:
            texts.append(text)
    # A user turn that carries tool results is the tools' turn, as OpenAI's role "tool" and Gemini's
    # functionResponse are: the neutral request says so the same way for every API.
    role = "tool" if results and m.role == "user" else m.role
    return Message(role, "\n".join(texts), tuple(results))


def _messages(messages: list[MessageParam]) -> tuple[Message, ...]:
    names: dict[str, str] = {}
    return tuple(_message(i, m, names) for i, m in enumerate(messages))


def _system(system: str | list[dict[str, Any]] | None) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    texts: list[str] = []
    for i, block in enumerate(system):
        _validate(_TextBlock, block, ["system", i])
        texts.append(block["text"])
    return "\n".join(texts)


# ---- tools and options ------------------------------------------------------------------


def _tools(tools: list[dict[str, Any]] | None) -> tuple[Tool, ...]:
    """Client tools only: server tools (``web_search_…``, ``memory_…``) run on the server, never synthesised."""
    out: list[Tool] = []
    for i, t in enumerate(tools or []):
        if t.get("type") not in (None, "custom"):
            continue
        p = _validate(CustomToolParam, t, ["tools", i])
        out.append(Tool(p.name, p.description or "", p.input_schema))
    return tuple(out)


def _tool_choice(tc: ToolChoiceParam | None) -> tuple[ToolChoice, bool]:
    """(neutral choice, parallel calls allowed)."""
    if tc is None:
        return ToolChoice(), True
    parallel = not tc.disable_parallel_tool_use
    if tc.type == "any":
        return ToolChoice("required"), parallel
    if tc.type == "none":
        return ToolChoice("none"), parallel
    if tc.type == "tool":
        if not tc.name:
            raise invalid("tool_choice.name", "Field required")
        return ToolChoice("required", (tc.name,)), parallel
    return ToolChoice("auto"), parallel


def _thinking(th: ThinkingParam | None) -> bool:
    if th is None or th.type == "disabled":
        return False
    if th.type == "enabled" and th.budget_tokens is None:
        raise invalid("thinking.budget_tokens", "Field required")
    return True


def _output(body: CountTokensBody) -> OutputFormat:
    fmt, where = (body.output_config or {}).get("format"), "output_config.format"
    if fmt is None:
        fmt, where = body.output_format, "output_format"
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return OutputFormat()
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise invalid(f"{where}.schema", "Field required")
    return OutputFormat("json_schema", schema)


# ---- entry points ----------------------------------------------------------------------


B = TypeVar("B", bound=CountTokensBody)


def _load(model: type[B], call: Call) -> tuple[B, dict[str, Any]]:
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    body: B = _validate(model, data)
    return body, data


def _request(body: CountTokensBody, data: dict[str, Any], **extra: Any) -> Request:
    choice, parallel = _tool_choice(body.tool_choice)
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=body.model,
        messages=_messages(body.messages),
        system=_system(body.system),
        tools=_tools(body.tools),
        tool_choice=choice,
        parallel_tool_calls=parallel,
        output=_output(body),
        thinking=_thinking(body.thinking),
        caching="marked",
        body=data,
        **extra,
    )


def parse_messages(call: Call) -> Request:
    """``POST /v1/messages`` → Request, or an INVALID_REQUEST :class:`ApiError` naming the field."""
    body, data = _load(MessagesBody, call)
    return _request(
        body,
        data,
        max_tokens=body.max_tokens,
        stop=tuple(body.stop_sequences or ()),
        stream=bool(body.stream),
    )


def parse_count_tokens(call: Call) -> Request:
    """``POST /v1/messages/count_tokens`` → Request (no ``max_tokens``, never a stream)."""
    body, data = _load(CountTokensBody, call)
    return _request(body, data)
