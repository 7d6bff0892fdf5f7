"""OpenAI Chat Completions request bodies: validation with pydantic and the neutral :class:`Request`.

Errors use the OpenAI wording (``Invalid value for 'messages.0.role' …``) and name the
field in ``param`` so the SDK raises its usual ``BadRequestError``. Content parts are
validated one by one with a model per known type; unknown part types pass through.
System and developer turns become :attr:`Request.system`; the rest stay turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import pydantic
from pydantic import Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Message, OutputFormat, Request, Tool, ToolChoice, ToolResult
from llmreplay.providers import openai_common
from llmreplay.providers.base import Body, load_json, validation_error

API = "openai-chat"
ENDPOINT = "chat-completions"

# ---- body models ------------------------------------------------------------------------


class FunctionCallParam(Body):
    """``function`` of an assistant tool call, or the legacy ``function_call``."""

    name: str
    arguments: str = ""


class ToolCallParam(Body):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallParam


class MessageParam(Body):
    """One entry of ``messages``; the role decides which other fields matter."""

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCallParam] | None = None
    function_call: FunctionCallParam | None = None
    tool_call_id: str | None = None
    refusal: str | None = None


class FunctionDefinition(Body):
    """``tools[].function`` and the legacy ``functions[]``."""

    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolParam(Body):
    type: Literal["function", "custom"]
    function: FunctionDefinition | None = None
    custom: dict[str, Any] | None = None


class _NamedFunction(Body):
    name: str


class NamedToolChoice(Body):
    type: Literal["function"]
    function: _NamedFunction


class AllowedToolsChoice(Body):
    """``{"type":"allowed_tools","allowed_tools":{"mode","tools":[…]}}``."""

    type: Literal["allowed_tools"]
    allowed_tools: dict[str, Any]


class JSONSchemaParam(Body):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(Body):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaParam | None = None


class StreamOptions(Body):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class ChatBody(Body):
    """The body of ``POST /v1/chat/completions``."""

    model: str
    messages: list[MessageParam] = Field(min_length=1)
    tools: list[ToolParam] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | AllowedToolsChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionDefinition] | None = None
    function_call: Literal["auto", "none"] | _NamedFunction | None = None
    response_format: ResponseFormat | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    seed: int | None = None
    reasoning_effort: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)


class _TextPart(Body):
    text: str


class _ImagePart(Body):
    image_url: dict[str, Any]


class _AudioPart(Body):
    input_audio: dict[str, Any]


class _FilePart(Body):
    file: dict[str, Any]


class _RefusalPart(Body):
    refusal: str


_PARTS: dict[str, type[Body]] = {
    "text": _TextPart,
    "image_url": _ImagePart,
    "input_audio": _AudioPart,
    "file": _FilePart,
    "refusal": _RefusalPart,
}


# ---- errors ----------------------------------------------------------------------------


def invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, message, param=param, code=code)


# Union members pydantic names in error locations that base.validation_error keeps.
_MEMBER_TAGS = ("literal[",)
_MEMBER_NAMES = frozenset({"NamedToolChoice", "AllowedToolsChoice", "_NamedFunction", "none"})


def validate_body(model: type[Body], data: Any, prefix: Sequence[str | int] = ()) -> Any:
    """``data`` as ``model``, or an INVALID_REQUEST error whose param is the dotted path under ``prefix``."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        err = validation_error(exc)
        old = err.param or ""
        parts = [str(x) for x in prefix] + [
            x for x in old.split(".") if x and not x.startswith(_MEMBER_TAGS) and x not in _MEMBER_NAMES
        ]
        param = ".".join(parts) or None
        msg = err.message.replace(f"'{old}'", f"'{param}'") if old and param else err.message
        raise ApiError(err.kind, msg, param=param, code=err.code) from None


# ---- turns -------------------------------------------------------------------------------


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def _part_text(part: dict[str, Any], loc: list[str | int]) -> str:
    kind = part.get("type")
    if not isinstance(kind, str):
        param = ".".join(str(x) for x in [*loc, "type"])
        if kind is None:
            raise invalid(param, f"Missing required parameter: '{param}'.", "missing_required_parameter")
        raise invalid(param, f"Invalid type for '{param}': expected a string.", "invalid_type")
    model = _PARTS.get(kind)
    if model is not None:
        validate_body(model, part, loc)
    if kind == "text":
        return str(part["text"])
    if kind == "refusal":
        return str(part["refusal"])
    # Images, audio and files carry no text we can count.
    return ""


def _content_text(content: str | list[dict[str, Any]] | None, loc: list[str | int]) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = [_part_text(p, [*loc, j]) for j, p in enumerate(content)]
    return "\n".join(t for t in texts if t)


def _message_text(i: int, m: MessageParam) -> str:
    texts = [_content_text(m.content, ["messages", i, "content"])]
    if m.refusal:
        texts.append(m.refusal)
    for tc in m.tool_calls or ():
        texts.append(_json({"name": tc.function.name, "arguments": tc.function.arguments}))
    if m.function_call is not None:
        texts.append(_json({"name": m.function_call.name, "arguments": m.function_call.arguments}))
    return "\n".join(t for t in texts if t)


def _check_message(i: int, m: MessageParam) -> None:
    if m.role == "tool" and m.tool_call_id is None:
        param = f"messages.{i}.tool_call_id"
        raise invalid(param, f"Missing required parameter: '{param}'.", "missing_required_parameter")
    if m.role != "assistant" and m.content is None:
        param = f"messages.{i}.content"
        raise invalid(param, f"Missing required parameter: '{param}'.", "missing_required_parameter")


_ROLES = {"developer": "system", "function": "tool"}


def _turns(messages: list[MessageParam]) -> tuple[str, tuple[Message, ...]]:
    """(system prompt, other turns)."""
    system: list[str] = []
    turns: list[Message] = []
    names: dict[str, str] = {}
    """Tool names by call id, from the assistant turns before a result."""
    for i, m in enumerate(messages):
        _check_message(i, m)
        text = _message_text(i, m)
        role = _ROLES.get(m.role, m.role)
        for tc in m.tool_calls or ():
            names[tc.id] = tc.function.name
        if role == "system":
            system.append(text)
        elif role == "tool":
            call_id = m.tool_call_id or ""
            turns.append(Message(role, text, (ToolResult(call_id, names.get(call_id, m.name or ""), text),)))
        else:
            turns.append(Message(role, text))
    return "\n".join(t for t in system if t), tuple(turns)


# ---- tools and options --------------------------------------------------------------------


def _tool(f: FunctionDefinition) -> Tool:
    schema = f.parameters if f.parameters is not None else {"type": "object", "properties": {}}
    return Tool(f.name, f.description or "", schema)


def _tools(body: ChatBody) -> tuple[Tool, ...]:
    out: list[Tool] = []
    for i, t in enumerate(body.tools or ()):
        if t.type != "function":
            continue  # custom (free-text grammar) tools: nothing neutral to synthesise against
        if t.function is None:
            param = f"tools.{i}.function"
            raise invalid(param, f"Missing required parameter: '{param}'.", "missing_required_parameter")
        out.append(_tool(t.function))
    out.extend(_tool(f) for f in body.functions or ())
    return tuple(out)


def _tool_choice(body: ChatBody) -> ToolChoice:
    tc = body.tool_choice
    if tc is None and body.function_call is not None:
        fc = body.function_call
        return ToolChoice("required", (fc.name,)) if isinstance(fc, _NamedFunction) else ToolChoice(fc)
    if tc is None:
        return ToolChoice()
    if isinstance(tc, str):
        return ToolChoice(tc)
    if isinstance(tc, NamedToolChoice):
        return ToolChoice("required", (tc.function.name,))
    allowed = tc.allowed_tools
    mode = "required" if allowed.get("mode") == "required" else "auto"
    names = tuple(
        str((t.get("function") or {}).get("name", ""))
        for t in allowed.get("tools") or ()
        if isinstance(t, dict) and isinstance(t.get("function"), dict)
    )
    return ToolChoice(mode, tuple(n for n in names if n))


def _output(fmt: ResponseFormat | None) -> OutputFormat:
    if fmt is None or fmt.type == "text":
        return OutputFormat()
    if fmt.type == "json_object":
        return OutputFormat("json")
    if fmt.json_schema is None:
        raise invalid(
            "response_format.json_schema",
            "Missing required parameter: 'response_format.json_schema'.",
            "missing_required_parameter",
        )
    js = fmt.json_schema
    return OutputFormat("json_schema", js.schema_ or {"type": "object"}, js.name)


def _stop(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    items = [stop] if isinstance(stop, str) else stop
    if len(items) > 4:
        why = f"array too long. Expected an array with maximum length 4, but got an array with length {len(items)}."
        raise invalid("stop", f"Invalid 'stop': {why}", "array_above_max_length")
    return tuple(s for s in items if s)


def parse_chat(call: Call) -> Request:
    """``POST /v1/chat/completions`` → Request, or an INVALID_REQUEST :class:`ApiError` naming the field."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    body: ChatBody = validate_body(ChatBody, data)
    if body.top_logprobs and not body.logprobs:
        raise invalid("top_logprobs", "Using top_logprobs requires logprobs to be set to true.")
    system, turns = _turns(body.messages)
    stream = bool(body.stream)
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=body.model,
        messages=turns,
        system=system,
        tools=_tools(body),
        tool_choice=_tool_choice(body),
        parallel_tool_calls=body.parallel_tool_calls is not False,
        output=_output(body.response_format),
        max_tokens=body.max_completion_tokens if body.max_completion_tokens is not None else body.max_tokens,
        stop=_stop(body.stop),
        stream=stream,
        n=body.n or 1,
        # Chat Completions never returns reasoning text, whatever reasoning_effort says.
        thinking=False,
        effort=openai_common.effort(data.get("reasoning_effort")),
        caching="automatic",
        logprobs=bool(body.logprobs),
        top_logprobs=body.top_logprobs or 0,
        include_usage=stream and bool(body.stream_options and body.stream_options.include_usage),
        seed=body.seed,
        body=data,
    )
