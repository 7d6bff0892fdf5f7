"""Bedrock Converse request bodies (``/model/{modelId}/converse`` and ``/converse-stream``) → the neutral Request.

The model is in the path; the body holds ``messages`` of content blocks (each a one-key union: ``text``,
``toolUse``, ``toolResult``, ``image`` …), ``system`` blocks, ``inferenceConfig`` and ``toolConfig``.
A bad field is a ``ValidationException`` naming it, as Bedrock's own are.
"""

from __future__ import annotations

import json
from typing import Any

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Message, OutputFormat, Request, Tool, ToolChoice, ToolResult
from llmreplay.providers.base import load_json

API = "bedrock-converse"
ENDPOINT = "bedrock-converse"
STREAM_SUFFIX = "/converse-stream"


def invalid(where: str, why: str) -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, f"1 validation error detected: Value at '{where}' {why}", param=where)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(where, "must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(where, "must be a list")
    return value


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


def _result_text(content: Any) -> str:
    texts = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block, dict) and "json" in block:
            texts.append(_json(block["json"]))
    return "\n".join(texts)


def _block_text(block: dict[str, Any], where: str, names: dict[str, str], results: list[ToolResult]) -> str:
    if "text" in block:
        if not isinstance(block["text"], str):
            raise invalid(f"{where}.text", "must be a string")
        return str(block["text"])
    if "toolUse" in block:
        use = _obj(block["toolUse"], f"{where}.toolUse")
        if not isinstance(use.get("toolUseId"), str) or not isinstance(use.get("name"), str):
            raise invalid(f"{where}.toolUse", "must have a toolUseId and a name")
        names[use["toolUseId"]] = use["name"]
        return _json({"name": use["name"], "input": use.get("input", {})})
    if "toolResult" in block:
        res = _obj(block["toolResult"], f"{where}.toolResult")
        call_id = res.get("toolUseId")
        if not isinstance(call_id, str):
            raise invalid(f"{where}.toolResult.toolUseId", "failed to satisfy constraint: Member must not be null")
        text = _result_text(res.get("content"))
        results.append(ToolResult(call_id, names.get(call_id, ""), text))
        return text
    if "reasoningContent" in block:
        reasoning = (block["reasoningContent"] or {}).get("reasoningText") or {}
        return str(reasoning.get("text", "")) if isinstance(reasoning, dict) else ""
    # Images, documents, cache points and guard content carry no text we count.
    return ""


def _messages(raw: Any) -> tuple[Message, ...]:
    names: dict[str, str] = {}
    out: list[Message] = []
    for i, m in enumerate(_list(raw, "messages")):
        where = f"messages.{i + 1}.member"
        m = _obj(m, where)
        role = m.get("role")
        if role not in ("user", "assistant", "system"):
            raise invalid(f"{where}.role", "failed to satisfy constraint: Member must satisfy enum value set")
        texts: list[str] = []
        results: list[ToolResult] = []
        for j, block in enumerate(_list(m.get("content"), f"{where}.content")):
            text = _block_text(_obj(block, f"{where}.content.{j + 1}.member"), where, names, results)
            if text:
                texts.append(text)
        # A user turn carrying tool results is the tools' turn, as for every other API.
        out.append(Message("tool" if results and role == "user" else role, "\n".join(texts), tuple(results)))
    return tuple(out)


def _system(raw: Any) -> str:
    blocks = _list(raw, "system")
    return "\n".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))


def _tools(config: dict[str, Any]) -> tuple[Tool, ...]:
    out: list[Tool] = []
    for i, t in enumerate(_list(config.get("tools"), "toolConfig.tools")):
        spec = _obj(t, f"toolConfig.tools.{i + 1}.member").get("toolSpec")
        if spec is None:
            continue  # a cache point or a system tool: nothing the model is asked to call
        where = f"toolConfig.tools.{i + 1}.member.toolSpec"
        spec = _obj(spec, where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise invalid(f"{where}.name", "failed to satisfy constraint: Member must not be null")
        schema = _obj(spec.get("inputSchema"), f"{where}.inputSchema").get("json", {"type": "object"})
        out.append(Tool(name, str(spec.get("description") or ""), _obj(schema, f"{where}.inputSchema.json")))
    return tuple(out)


def _tool_choice(config: dict[str, Any]) -> ToolChoice:
    choice = config.get("toolChoice")
    if choice is None:
        return ToolChoice()
    choice = _obj(choice, "toolConfig.toolChoice")
    if "any" in choice:
        return ToolChoice("required")
    if "tool" in choice:
        name = _obj(choice["tool"], "toolConfig.toolChoice.tool").get("name")
        if not isinstance(name, str):
            raise invalid("toolConfig.toolChoice.tool.name", "failed to satisfy constraint: Member must not be null")
        return ToolChoice("required", (name,))
    return ToolChoice("auto")


def _output(body: dict[str, Any]) -> OutputFormat:
    fmt = (
        ((body.get("outputConfig") or {}).get("textFormat") or {}) if isinstance(body.get("outputConfig"), dict) else {}
    )
    schema = ((fmt.get("structure") or {}).get("jsonSchema") or {}) if isinstance(fmt, dict) else {}
    if not isinstance(schema, dict) or "schema" not in schema:
        return OutputFormat()
    try:
        parsed = json.loads(schema["schema"]) if isinstance(schema["schema"], str) else schema["schema"]
    except ValueError:
        raise invalid("outputConfig.textFormat.structure.jsonSchema.schema", "must be a JSON schema") from None
    return OutputFormat("json_schema", _obj(parsed, "outputConfig.textFormat.structure.jsonSchema.schema"))


def _inference(body: dict[str, Any]) -> tuple[int | None, tuple[str, ...]]:
    cfg = _obj(body.get("inferenceConfig") or {}, "inferenceConfig")
    max_tokens = cfg.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise invalid("inferenceConfig.maxTokens", "failed to satisfy constraint: Member must be greater than 0")
    stops = _list(cfg.get("stopSequences"), "inferenceConfig.stopSequences")
    if not all(isinstance(s, str) for s in stops):
        raise invalid("inferenceConfig.stopSequences", "must be a list of strings")
    return max_tokens, tuple(stops)


def parse_converse(call: Call) -> Request:
    """``POST /model/{modelId}/converse(-stream)`` → Request; the path alone says whether it streams."""
    body = load_json(call) if call.body.strip() else {}
    if not isinstance(body, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    messages = _messages(body.get("messages"))
    if not messages:
        raise invalid("messages", "failed to satisfy constraint: Member must not be null")
    tool_config = _obj(body.get("toolConfig") or {}, "toolConfig")
    max_tokens, stops = _inference(body)
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=call.params.get("model", ""),
        messages=messages,
        system=_system(body.get("system")),
        tools=_tools(tool_config),
        tool_choice=_tool_choice(tool_config),
        output=_output(body),
        max_tokens=max_tokens,
        stop=stops,
        stream=call.path.endswith(STREAM_SUFFIX),
        body=body,
    )


__all__ = ["API", "ENDPOINT", "STREAM_SUFFIX", "invalid", "parse_converse"]
