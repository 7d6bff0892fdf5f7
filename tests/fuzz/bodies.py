"""Malformed and odd request bodies: hypothesis strategies shared by the fuzz tests and ``benchmarks.fuzz``."""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

EXAMPLES = int(os.environ.get("LLMREPLAY_FUZZ_EXAMPLES", "1000"))
"""Bodies per provider API (CI: 1,000; the issue's figure: 10,000)."""

_TEXT = {"type": "string", "maxLength": 40}
_CONTENT = {"anyOf": [_TEXT, {"type": "array", "maxItems": 3}]}
_MESSAGES = {
    "type": "array",
    "maxItems": 4,
    "items": {
        "type": "object",
        "properties": {
            "role": {"enum": ["system", "user", "assistant", "tool", "developer", "x"]},
            "content": _CONTENT,
        },
    },
}
_TOOLS = {
    "type": "array",
    "maxItems": 2,
    "items": {
        "type": "object",
        "properties": {
            "type": {"enum": ["function", "custom", "x"]},
            "name": _TEXT,
            "function": {"type": "object", "properties": {"name": _TEXT, "parameters": {"type": "object"}}},
            "input_schema": {"type": "object"},
        },
    },
}
_SMALL_INT = {"type": "integer", "minimum": -3, "maximum": 64}
_GEN = {
    "type": "object",
    "properties": {
        "contents": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"enum": ["user", "model", "x"]},
                    "parts": {
                        "type": "array",
                        "maxItems": 3,
                        "items": {"type": "object", "properties": {"text": _TEXT}},
                    },
                },
            },
        },
        "generationConfig": {
            "type": "object",
            "properties": {"maxOutputTokens": _SMALL_INT, "candidateCount": _SMALL_INT, "temperature": {}},
        },
        "tools": {"type": "array", "maxItems": 2},
        "systemInstruction": {},
    },
}


@dataclass(frozen=True)
class Api:
    """One provider route: where to POST, its error envelope, a loose schema, and a well-formed body."""

    name: str
    path: str
    shape: str
    schema: dict[str, Any]
    good: dict[str, Any]


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props}


GEMINI_BASE = "/v1beta/models/gemini-2.0-flash"
GEMINI_GOOD = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}

APIS: list[Api] = [
    Api(
        "chat-completions",
        "/v1/chat/completions",
        "openai",
        _obj(
            {
                "model": _TEXT,
                "messages": _MESSAGES,
                "stream": {"type": "boolean"},
                "max_tokens": _SMALL_INT,
                "n": _SMALL_INT,
                "tools": _TOOLS,
                "tool_choice": {},
                "temperature": {"type": "number"},
                "response_format": {"type": "object"},
            }
        ),
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
    ),
    Api(
        "responses",
        "/v1/responses",
        "openai",
        _obj(
            {
                "model": _TEXT,
                "input": {"anyOf": [_TEXT, _MESSAGES]},
                "instructions": _TEXT,
                "stream": {"type": "boolean"},
                "max_output_tokens": _SMALL_INT,
                "tools": _TOOLS,
                "text": {"type": "object"},
            }
        ),
        {"model": "gpt-4o-mini", "input": "hi"},
    ),
    Api(
        "completions",
        "/v1/completions",
        "openai",
        _obj(
            {
                "model": _TEXT,
                "prompt": {"anyOf": [_TEXT, {"type": "array", "maxItems": 3}]},
                "stream": {"type": "boolean"},
                "max_tokens": _SMALL_INT,
                "n": _SMALL_INT,
                "echo": {"type": "boolean"},
            }
        ),
        {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
    ),
    Api(
        "embeddings",
        "/v1/embeddings",
        "openai",
        _obj(
            {
                "model": _TEXT,
                "input": {"anyOf": [_TEXT, {"type": "array", "maxItems": 4}]},
                "dimensions": _SMALL_INT,
                "encoding_format": {"enum": ["float", "base64", "x"]},
            }
        ),
        {"model": "text-embedding-3-small", "input": "hi"},
    ),
    Api(
        "messages",
        "/v1/messages",
        "anthropic",
        _obj(
            {
                "model": _TEXT,
                "messages": _MESSAGES,
                "max_tokens": _SMALL_INT,
                "stream": {"type": "boolean"},
                "system": {},
                "tools": _TOOLS,
                "tool_choice": {},
                "thinking": {"type": "object"},
            }
        ),
        {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]},
    ),
    Api(
        "count-tokens",
        "/v1/messages/count_tokens",
        "anthropic",
        _obj({"model": _TEXT, "messages": _MESSAGES, "system": {}, "tools": _TOOLS}),
        {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]},
    ),
    Api("generate-content", GEMINI_BASE + ":generateContent", "gemini", _GEN, GEMINI_GOOD),
    Api("stream-generate-content", GEMINI_BASE + ":streamGenerateContent?alt=sse", "gemini", _GEN, GEMINI_GOOD),
    Api("count-tokens-gemini", GEMINI_BASE + ":countTokens", "gemini", _GEN, GEMINI_GOOD),
    Api(
        "embed-content",
        "/v1beta/models/text-embedding-004:embedContent",
        "gemini",
        _obj({"content": {"type": "object"}, "outputDimensionality": _SMALL_INT, "taskType": _TEXT}),
        {"content": {"parts": [{"text": "hi"}]}},
    ),
]

# ---------------------------------------------------------------- strategies

_ODD_TEXT = st.sampled_from(
    ["", "\x00", "\u202e", "\ufeff", "\U0001f600" * 50, "\ud800", "a" * 10_000, "\\u0000", "null", "𝕏" * 7]
)
_ODD_NUMBERS = st.sampled_from(
    [0, -1, 2**63, -(2**63) - 1, 10**30, 1e308, -1e308, 5e-324, 0.5, 1.7976931348623157e308, 2**31 - 1]
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | _ODD_TEXT
    | _ODD_NUMBERS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _wrong_types(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """A body shaped by ``schema`` with one value somewhere swapped for a random JSON value."""
    body = draw(from_schema(schema))
    node: Any = body
    for _ in range(draw(st.integers(0, 3))):
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and isinstance(node[key], dict | list) and node[key]:
            node = node[key]
            continue
        node[key] = draw(JSON_VALUES)
        break
    return body


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def _truncated(draw: st.DrawFn, good: dict[str, Any]) -> bytes:
    raw = json.dumps(good).encode()
    return raw[: draw(st.integers(0, len(raw) - 1))]


@st.composite
def _nested(draw: st.DrawFn, good: dict[str, Any]) -> bytes:
    depth = draw(st.sampled_from([50, 500, 5000, 100_000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    deep = (opener * depth + "1" + closer * depth).encode()
    key = draw(st.sampled_from([*good, "extra"]))
    raw = json.dumps({**good, key: "@@"}).encode()
    return raw.replace(b'"@@"', deep) if draw(st.booleans()) else deep


@st.composite
def _tokens(draw: st.DrawFn, good: dict[str, Any]) -> bytes:
    """Not-quite-JSON numbers and literals where a value goes: NaN, Infinity, 1e999999, -0, 01 …"""
    token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999999", "-0", "01", "1.", ".5", "0x10", "True"]))
    key = draw(st.sampled_from([*good, "max_tokens", "temperature", "n"]))
    return json.dumps({**good, key: "@@"}).encode().replace(b'"@@"', token.encode())


def bodies(api: Api) -> st.SearchStrategy[bytes]:
    """Every kind of odd body for ``api``."""
    good = api.good
    return st.one_of(
        _wrong_types(api.schema).map(_encode),
        JSON_VALUES.map(_encode),
        st.dictionaries(st.sampled_from([*good, "stream", "model"]), JSON_VALUES, max_size=4).map(
            lambda d: _encode({**good, **d})
        ),
        st.binary(max_size=200),
        _truncated(good),
        _nested(good),
        _tokens(good),
        st.text(max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.just(b"\xef\xbb\xbf" + json.dumps(good).encode()),  # a byte-order mark
        st.just(json.dumps(good).encode("utf-16")),
    )


# ---------------------------------------------------------------- the client


class Client:
    """One persistent HTTP/1.1 connection (reopened when the server closes it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
        hdrs = {"content-type": "application/json", **(headers or {})}
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self._conn.request("POST", path, body=body, headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if resp.will_close:
                self.close()
            return resp.status, data, resp.getheader("content-type") or ""
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def check_envelope(api: Api, status: int, data: bytes, ctype: str) -> None:
    """No 5xx, no traceback; a 4xx is the provider's JSON error envelope."""
    assert status < 500, (status, data[:500])
    assert b"Traceback" not in data, data[:500]
    if status < 400:
        return
    assert ctype.startswith("application/json"), (status, ctype, data[:300])
    err = json.loads(data)
    if api.shape == "anthropic":
        assert err["type"] == "error" and isinstance(err["error"]["type"], str), err
        assert isinstance(err["error"]["message"], str), err
    elif api.shape == "gemini":
        assert err["error"]["code"] == status and isinstance(err["error"]["message"], str), err
        assert isinstance(err["error"]["status"], str), err
    else:
        assert isinstance(err["error"]["message"], str) and "type" in err["error"], err


def check_good(api: Api, status: int, data: bytes) -> None:
    """A well-formed request got a real answer."""
    assert status == 200, (api.name, status, data[:300])
    if api.path.endswith("alt=sse"):
        assert data.startswith(b"data: "), data[:200]
        return
    body = json.loads(data)
    expected = {
        "chat-completions": "choices",
        "responses": "output",
        "completions": "choices",
        "embeddings": "data",
        "messages": "content",
        "count-tokens": "input_tokens",
        "generate-content": "candidates",
        "count-tokens-gemini": "totalTokens",
        "embed-content": "embedding",
    }[api.name]
    assert expected in body, (api.name, body)
