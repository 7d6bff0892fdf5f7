"""Gemini ``generateContent`` request bodies → the neutral :class:`Request`.

The API parses proto-JSON, so field names may come camelCase (the SDK) or
snake_case (REST users, pydantic-ai's ``parameters_json_schema``): the body is
camelized first, leaving user data (function arguments, schema property names)
untouched. Errors name the field as the real API does
(``Invalid JSON payload received. Unknown name …`` / ``* GenerateContentRequest.contents: …``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

import pydantic
from pydantic import BeforeValidator, Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Message, OutputFormat, Request, Tool, ToolChoice, ToolResult
from llmreplay.providers.base import Body, load_json
from llmreplay.providers.gemini_schema import to_json_schema

API = "gemini"
ENDPOINT = "gemini"

_OPAQUE = frozenset({"args", "response", "parametersJsonSchema", "responseJsonSchema", "example", "default", "enum"})
"""Keys whose values are user data: their inner keys keep their spelling."""
_NAME_MAPS = frozenset({"properties"})
"""Keys whose values map user-chosen names to structures (names kept, structures camelized)."""


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def camelize(value: Any) -> Any:
    """Proto-JSON field names in camelCase, user data left as it is."""
    if isinstance(value, list):
        return [camelize(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        key = camel(k) if isinstance(k, str) and "_" in k else k
        if key in _OPAQUE:
            out[key] = v
        elif key in _NAME_MAPS and isinstance(v, dict):
            out[key] = {name: camelize(sub) for name, sub in v.items()}
        else:
            out[key] = camelize(v)
    return out


# ---- body models ---------------------------------------------------------------------

T = TypeVar("T")


def _one_or_many(value: Any) -> Any:
    # Proto-JSON takes a lone value for a repeated field (recorded traffic sends ``"tools": {…}``).
    return [value] if isinstance(value, dict) else value


Repeated = Annotated[list[T], BeforeValidator(_one_or_many)]


class PartParam(Body):
    """One part: exactly one data field, plus the thought markers."""

    text: str | None = None
    inlineData: dict[str, Any] | None = None
    fileData: dict[str, Any] | None = None
    functionCall: FunctionCallParam | None = None
    functionResponse: FunctionResponseParam | None = None
    executableCode: dict[str, Any] | None = None
    codeExecutionResult: dict[str, Any] | None = None
    thought: bool | None = None
    thoughtSignature: str | None = None


class FunctionCallParam(Body):
    name: str = Field(min_length=1)
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponseParam(Body):
    name: str = Field(min_length=1)
    response: dict[str, Any] | None = None
    id: str | None = None


class ContentParam(Body):
    role: str | None = None
    parts: Repeated[PartParam] = Field(default_factory=list)


class FunctionDeclarationParam(Body):
    name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parametersJsonSchema: dict[str, Any] | None = None


class ToolParam(Body):
    """A tool entry; kinds other than function declarations (search, code execution …) are tolerated."""

    functionDeclarations: Repeated[FunctionDeclarationParam] | None = None


class FunctionCallingConfigParam(Body):
    mode: Literal["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"] | None = None
    allowedFunctionNames: list[str] | None = None


class ToolConfigParam(Body):
    functionCallingConfig: FunctionCallingConfigParam | None = None


class ThinkingConfigParam(Body):
    includeThoughts: bool | None = None
    thinkingBudget: int | None = None
    thinkingLevel: str | None = None


class GenerationConfigParam(Body):
    temperature: float | None = Field(default=None, ge=0, le=2)
    topP: float | None = Field(default=None, ge=0, le=1)
    topK: float | None = Field(default=None, ge=0)
    candidateCount: int | None = Field(default=None, ge=1, le=8)
    maxOutputTokens: int | None = Field(default=None, ge=1)
    stopSequences: list[str] | None = Field(default=None, max_length=5)
    seed: int | None = None
    responseLogprobs: bool | None = None
    logprobs: int | None = Field(default=None, ge=0, le=20)
    responseMimeType: str | None = None
    responseSchema: dict[str, Any] | None = None
    responseJsonSchema: dict[str, Any] | None = None
    responseModalities: list[str] | None = None
    thinkingConfig: ThinkingConfigParam | None = None


class GenerateContentBody(Body):
    """``POST …:generateContent`` / ``:streamGenerateContent`` (and countTokens' inner request)."""

    model: str | None = None
    contents: Repeated[ContentParam] = Field(default_factory=list)
    systemInstruction: ContentParam | str | None = None
    tools: Repeated[ToolParam] | None = None
    toolConfig: ToolConfigParam | None = None
    generationConfig: GenerationConfigParam | None = None
    safetySettings: list[dict[str, Any]] | None = None
    cachedContent: str | None = None


PartParam.model_rebuild()


# ---- errors ----------------------------------------------------------------------------

_UNION_TAGS = ("function-", "tagged-union", "list[", "dict[", "literal[")
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "ContentParam"})


def invalid(field: str, message: str) -> ApiError:
    """An INVALID_ARGUMENT error naming ``field`` (dotted, proto-JSON spelling)."""
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"Invalid value at '{field}': {message}" if message else f"Invalid value at '{field}'.",
        param=field,
    )


def field_error(exc: pydantic.ValidationError, prefix: str = "") -> ApiError:
    err = exc.errors(include_url=False)[0]
    loc = [str(x) for x in err["loc"] if not str(x).startswith(_UNION_TAGS) and str(x) not in _TYPE_TAGS]
    field = ".".join([prefix, *loc] if prefix else loc) or "body"
    if err["type"] == "missing":
        return ApiError(ErrorKind.INVALID_REQUEST, f"* GenerateContentRequest.{field}: required field", param=field)
    got = err.get("input")
    shown = json.dumps(got)[:80] if isinstance(got, str | int | float | bool | type(None)) else type(got).__name__
    return invalid(field, f"{err['msg']} (got {shown})")


def load_body(call: Call) -> dict[str, Any]:
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "Invalid JSON payload received. Expected an object.")
    return camelize(data)


def validate_body(data: dict[str, Any], prefix: str = "") -> GenerateContentBody:
    try:
        return GenerateContentBody.model_validate(data)
    except pydantic.ValidationError as exc:
        raise field_error(exc, prefix) from None


# ---- to the neutral model ------------------------------------------------------------------

_ROLES = {"user": "user", "model": "assistant", "function": "tool", "tool": "tool", "system": "system"}


def _part_text(part: PartParam) -> str:
    if part.text is not None:
        return part.text
    if part.functionCall is not None:
        return json.dumps({"name": part.functionCall.name, "args": part.functionCall.args or {}})
    if part.functionResponse is not None:
        return json.dumps({"name": part.functionResponse.name, "response": part.functionResponse.response or {}})
    if part.executableCode is not None:
        return str(part.executableCode.get("code", ""))
    if part.codeExecutionResult is not None:
        return str(part.codeExecutionResult.get("output", ""))
    return ""


def _message(content: ContentParam, index: int) -> Message:
    role = content.role or "user"
    if role not in _ROLES:
        raise invalid(f"contents[{index}].role", f'Please use a valid role: user, model. (got "{role}")')
    is_tool = role == "user" and content.parts and all(p.functionResponse is not None for p in content.parts)
    text = "".join(_part_text(p) for p in content.parts if not p.thought)
    # A result's content is what the tool returned (the ``response`` object), as the other APIs' results are,
    # so one rule's JSON paths and placeholders read every API's results alike.
    results = tuple(
        ToolResult(p.functionResponse.id or "", p.functionResponse.name, json.dumps(p.functionResponse.response or {}))
        for p in content.parts
        if p.functionResponse is not None
    )
    return Message("tool" if is_tool else _ROLES[role], text, results)


def _system(value: ContentParam | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return "\n".join(p.text for p in value.parts if p.text)


def _tools(tools: Repeated[ToolParam] | None) -> tuple[Tool, ...]:
    out: list[Tool] = []
    for i, t in enumerate(tools or []):
        for j, fn in enumerate(t.functionDeclarations or []):
            if fn.parametersJsonSchema is not None and fn.parameters is not None:
                raise invalid(
                    f"tools[{i}].function_declarations[{j}]",
                    "parameters and parameters_json_schema cannot both be set.",
                )
            if fn.parametersJsonSchema is not None:
                schema: dict[str, Any] = dict(fn.parametersJsonSchema)
            elif fn.parameters is not None:
                schema = to_json_schema(fn.parameters)
            else:
                schema = {"type": "object", "properties": {}}
            out.append(Tool(fn.name, fn.description or "", schema))
    return tuple(out)


def _tool_choice(config: ToolConfigParam | None, tools: tuple[Tool, ...]) -> ToolChoice:
    fcc = config.functionCallingConfig if config else None
    if fcc is None:
        return ToolChoice()
    names = tuple(fcc.allowedFunctionNames or ())
    known = {t.name for t in tools}
    for i, name in enumerate(names):
        if name not in known:
            raise invalid(
                f"tool_config.function_calling_config.allowed_function_names[{i}]",
                f"Function '{name}' is not declared in tools.",
            )
    if fcc.mode == "ANY":
        return ToolChoice("required", names)
    if fcc.mode == "NONE":
        return ToolChoice("none")
    return ToolChoice("auto", names)


def _output(gc: GenerationConfigParam | None) -> OutputFormat:
    if gc is None:
        return OutputFormat()
    if gc.responseSchema is not None and gc.responseJsonSchema is not None:
        raise invalid("generation_config", "response_schema and response_json_schema cannot both be set.")
    schema = gc.responseJsonSchema if gc.responseJsonSchema is not None else None
    if schema is None and gc.responseSchema is not None:
        schema = to_json_schema(gc.responseSchema)
    if schema is not None:
        if gc.responseMimeType not in ("application/json", "text/x.enum"):
            raise invalid(
                "generation_config.response_mime_type",
                "response_mime_type must be application/json or text/x.enum when a response schema is set.",
            )
        return OutputFormat("json_schema", schema)
    if gc.responseMimeType == "application/json":
        return OutputFormat("json")
    return OutputFormat()


def to_request(
    body: GenerateContentBody, model: str, raw: dict[str, Any], *, stream: bool, wire: dict[str, Any]
) -> Request:
    messages = tuple(_message(c, i) for i, c in enumerate(body.contents))
    tools = _tools(body.tools)
    gc = body.generationConfig
    thinking = bool(gc and gc.thinkingConfig and gc.thinkingConfig.includeThoughts)
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=model,
        messages=messages,
        system=_system(body.systemInstruction),
        tools=tools,
        tool_choice=_tool_choice(body.toolConfig, tools),
        output=_output(gc),
        max_tokens=gc.maxOutputTokens if gc else None,
        stop=tuple(gc.stopSequences or ()) if gc else (),
        stream=stream,
        n=(gc.candidateCount or 1) if gc else 1,
        thinking=thinking,
        effort=_effort(gc.thinkingConfig if gc else None),
        caching="automatic",
        logprobs=bool(gc and gc.responseLogprobs),
        top_logprobs=(gc.logprobs or 0) if gc else 0,
        seed=gc.seed if gc else None,
        body=raw,
        wire=wire,
    )


def _effort(tc: ThinkingConfigParam | None) -> str | int | None:
    """A thinking budget (0 turns thinking off, -1 lets the model decide) or level, for the neutral request."""
    if tc is None:
        return None
    if tc.thinkingBudget is not None:
        return "off" if tc.thinkingBudget == 0 else tc.thinkingBudget
    return tc.thinkingLevel.lower() if tc.thinkingLevel else None


def model_name(call: Call) -> str:
    """The model id from the path, without a ``models/`` prefix."""
    model = call.params.get("model", "")
    return model.removeprefix("models/")


def parse_generate(call: Call) -> Request:
    """``:generateContent`` / ``:streamGenerateContent`` → Request (``wire["sse"]`` records ``alt=sse``)."""
    raw = load_body(call)
    body = validate_body(raw)
    if not body.contents:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            "* GenerateContentRequest.contents: contents is not specified",
            param="contents",
        )
    stream = call.path.endswith(":streamGenerateContent")
    wire = {"sse": call.query.get("alt") == "sse"} if stream else {}
    return to_request(body, model_name(call), raw, stream=stream, wire=wire)


def parse_count_tokens(call: Call) -> Request:
    """``:countTokens``: ``{contents}`` or ``{generateContentRequest: {…}}``."""
    raw = load_body(call)
    inner = raw.get("generateContentRequest")
    if inner is not None:
        if not isinstance(inner, dict):
            raise invalid("generate_content_request", "expected an object.")
        if raw.get("contents"):
            raise invalid("contents", "contents and generate_content_request cannot both be set.")
        body = validate_body(inner, "generate_content_request")
        data = inner
    else:
        body = validate_body(raw)
        data = raw
    return to_request(body, model_name(call), data, stream=False, wire={})
