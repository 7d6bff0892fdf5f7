"""OpenAI Responses request bodies: validation with pydantic and the neutral :class:`Request`.

``input`` is a string or a list of items; message items (with or without ``type``)
become turns, tool calls and their outputs become JSON text turns, and every other
item type (reasoning, server tool calls, compaction …) is accepted and skipped.
Errors use the OpenAI envelope wording (``Missing required parameter: 'model'.``)
with ``param`` naming the field, so the SDK raises ``BadRequestError``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic
from pydantic import Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Message, OutputFormat, Request, Tool, ToolChoice, ToolResult
from llmreplay.providers import openai_common
from llmreplay.providers.base import Body, load_json, validation_error

API = "openai-responses"
ENDPOINT = "responses"

LOGPROBS_INCLUDE = "message.output_text.logprobs"
"""The ``include`` value that asks for output text logprobs."""


# ---- body models ---------------------------------------------------------------------------


class StrictBody(Body):
    """The real API takes no ``"yes"`` for a boolean nor ``"5"`` for a number: no lax coercion."""

    model_config = pydantic.ConfigDict(strict=True)


class ContentPart(StrictBody):
    """One part of a message item's content; unknown part types are kept as they come."""

    type: str
    text: str | None = None
    refusal: str | None = None


class MessageItem(StrictBody):
    """A message item of ``input`` (``type`` is optional for the easy-input form)."""

    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart]


class FunctionCallItem(StrictBody):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str


class FunctionCallOutputItem(StrictBody):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[dict[str, Any]]


class OtherItem(StrictBody):
    """Any other item type (reasoning, server tool calls, item references …)."""

    type: str


class FunctionTool(StrictBody):
    """``{"type": "function", name, parameters, strict, description}``: the top-level (not Chat) form."""

    type: Literal["function"]
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolParam(StrictBody):
    """Any tool: built-in ones (web_search, file_search, mcp …) are accepted and not synthesised."""

    type: str


class FormatParam(StrictBody):
    """``text.format``."""

    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class TextParam(StrictBody):
    format: FormatParam | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningParam(StrictBody):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesBody(StrictBody):
    """The body of ``POST /v1/responses``."""

    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]] | None = None
    instructions: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextParam | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    reasoning: ReasoningParam | None = None
    stream: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    include: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    metadata: dict[str, str] | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    truncation: Literal["auto", "disabled"] | None = None


# ---- errors ---------------------------------------------------------------------------------


def _check(model: type[Body], data: Any, prefix: str) -> Any:
    """Validate a nested value, prefixing the error's ``param`` with where it sits."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        err = validation_error(exc)
        param = f"{prefix}.{err.param}" if err.param else prefix
        message = err.message.replace(f"'{err.param}'", f"'{param}'") if err.param else err.message
        raise ApiError(ErrorKind.INVALID_REQUEST, message, param=param, code=err.code) from None


def _invalid(param: str, message: str) -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, message, param=param, code="invalid_value")


# ---- input items → messages ------------------------------------------------------------------


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def _part_text(part: ContentPart) -> str:
    if part.type in ("input_text", "output_text", "text") and part.text is not None:
        return part.text
    if part.type == "refusal" and part.refusal is not None:
        return part.refusal
    # Images, files and audio carry no text we can count.
    return ""


def _item_message(item: dict[str, Any], where: str) -> Message | None:
    kind = item.get("type")
    if kind is None or kind == "message":
        msg = _check(MessageItem, item, where)
        if isinstance(msg.content, str):
            text = msg.content
        else:
            text = "\n".join(t for t in (_part_text(p) for p in msg.content) if t)
        return Message("system" if msg.role == "developer" else msg.role, text)
    if not isinstance(kind, str):
        raise _invalid(f"{where}.type", f"Invalid value for '{where}.type': expected a string.")
    if kind == "function_call":
        call = _check(FunctionCallItem, item, where)
        return Message("assistant", _json({"name": call.name, "arguments": call.arguments}))
    if kind == "function_call_output":
        out = _check(FunctionCallOutputItem, item, where)
        return Message("tool", out.output if isinstance(out.output, str) else _json(out.output))
    # Reasoning, server tool calls, compaction, item references: replayed context, not turns.
    return None


def _messages(body: ResponsesBody) -> tuple[Message, ...]:
    if body.input is None:
        return ()
    if isinstance(body.input, str):
        return (Message("user", body.input),)
    out: list[Message] = []
    names: dict[str, str] = {}
    """Tool names by call id, from the function calls before their outputs."""
    for i, item in enumerate(body.input):
        msg = _item_message(item, f"input.{i}")
        if msg is None:
            continue
        if item.get("type") == "function_call":
            names[str(item.get("call_id"))] = str(item.get("name"))
        elif msg.role == "tool":
            call_id = str(item.get("call_id"))
            msg = Message("tool", msg.text, (ToolResult(call_id, names.get(call_id, ""), msg.text),))
        out.append(msg)
    return tuple(out)


def _instructions(body: ResponsesBody) -> str:
    if isinstance(body.instructions, str):
        return body.instructions
    if isinstance(body.instructions, list):
        msgs = [_item_message(item, f"instructions.{i}") for i, item in enumerate(body.instructions)]
        return "\n".join(m.text for m in msgs if m is not None and m.text)
    return ""


# ---- tools and formats ----------------------------------------------------------------------


def _tools(body: ResponsesBody) -> tuple[Tool, ...]:
    out: list[Tool] = []
    for i, raw in enumerate(body.tools or []):
        kind = _check(ToolParam, raw, f"tools.{i}").type
        if kind != "function":
            continue
        tool = _check(FunctionTool, raw, f"tools.{i}")
        schema = tool.parameters if tool.parameters is not None else {"type": "object", "properties": {}}
        out.append(Tool(tool.name, tool.description or "", schema))
    return tuple(out)


def _tool_choice(body: ResponsesBody, tools: tuple[Tool, ...]) -> ToolChoice:
    choice = body.tool_choice
    if choice is None:
        return ToolChoice()
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise _invalid(
                "tool_choice", f"Invalid value for 'tool_choice': {choice!r}; expected auto, none or required."
            )
        return ToolChoice(choice)
    kind = choice.get("type")
    if kind == "function":
        name = choice.get("name")
        if not isinstance(name, str) or not name:
            raise _invalid("tool_choice.name", "Missing required parameter: 'tool_choice.name'.")
        if name not in {t.name for t in tools}:
            raise _invalid(
                "tool_choice", f"Invalid value for 'tool_choice': tool '{name}' not found in 'tools' parameter."
            )
        return ToolChoice("required", (name,))
    if kind == "allowed_tools":
        mode = choice.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise _invalid("tool_choice.mode", f"Invalid value for 'tool_choice.mode': {mode!r}.")
        allowed = choice.get("tools")
        if not isinstance(allowed, list):
            raise _invalid("tool_choice.tools", "Missing required parameter: 'tool_choice.tools'.")
        names = tuple(
            str(t["name"]) for t in allowed if isinstance(t, dict) and t.get("type") == "function" and t.get("name")
        )
        return ToolChoice(mode, names)
    if not isinstance(kind, str):
        raise _invalid("tool_choice.type", "Missing required parameter: 'tool_choice.type'.")
    # A built-in tool (web_search, file_search, mcp …) forced: nothing to synthesise, let the model choose.
    return ToolChoice()


def _output(body: ResponsesBody) -> OutputFormat:
    fmt = body.text.format if body.text else None
    if fmt is None or fmt.type == "text":
        return OutputFormat()
    if fmt.type == "json_object":
        return OutputFormat("json")
    if not fmt.name:
        raise _invalid("text.format.name", "Missing required parameter: 'text.format.name'.")
    if fmt.schema_ is None:
        raise _invalid("text.format.schema", "Missing required parameter: 'text.format.schema'.")
    return OutputFormat("json_schema", fmt.schema_, fmt.name)


def _thinking(body: ResponsesBody) -> bool:
    r = body.reasoning
    return r is not None and r.effort != "none"


# ---- the request ----------------------------------------------------------------------------


def parse_request(call: Call) -> Request:
    """``POST /v1/responses`` → :class:`Request`, or an INVALID_REQUEST ApiError naming the field."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    try:
        body = ResponsesBody.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None
    tools = _tools(body)
    include = body.include or []
    top = body.top_logprobs or 0
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=body.model,
        messages=_messages(body),
        system=_instructions(body),
        tools=tools,
        tool_choice=_tool_choice(body, tools),
        parallel_tool_calls=body.parallel_tool_calls is not False,
        output=_output(body),
        max_tokens=body.max_output_tokens,
        stream=bool(body.stream),
        thinking=_thinking(body),
        effort=openai_common.effort(_get(data.get("reasoning"), "effort")),
        lists_reasoning=True,
        caching="automatic",
        logprobs=LOGPROBS_INCLUDE in include or top > 0,
        top_logprobs=top,
        body=data,
    )


def _get(obj: object, name: str) -> object:
    return obj.get(name) if isinstance(obj, dict) else None
