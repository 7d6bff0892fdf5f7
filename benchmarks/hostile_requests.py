"""The hostile cases that are one kind of request to the synthetic server: schemas to fake (1–5, 14, 24), sizes to
multiply (6, 7, 9), scenario headers (10) and big bodies (8)."""

from __future__ import annotations

import json
import random
import re
from http.client import HTTPConnection
from typing import Any

from benchmarks.hostile_bench import Bench, Case, Outcome
from benchmarks.hostile_kit import Answer, call, chat, one_string, tally, tool_chat

CHAT = "/v1/chat/completions"
ANTHROPIC = [("anthropic-version", "2023-06-01")]


def timed(answers: list[Answer]) -> str:
    """The answers and each one's time."""
    return f"{tally(answers)} in {' / '.join(f'{a.seconds * 1000:,.0f}' for a in answers)} ms"


def tools(b: Bench, *schemas: dict[str, Any], **extra: Any) -> list[Answer]:
    port = b.target.port if b.target else b.serve().port
    return [call(port, "POST", CHAT, tool_chat(s, **extra)) for s in schemas]


def case1(b: Bench) -> Outcome:
    schema = one_string({"pattern": "^(a+)+$", "const": "a" * 22 + "!"})
    port = b.serve().port
    messages = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "f", "input_schema": schema}],
        "tool_choice": {"type": "any"},
    }
    got = [*tools(b, schema), call(port, "POST", "/v1/messages", messages, ANTHROPIC)]
    return Outcome("tool `pattern: ^(a+)+$`, `const` 22 a's and `!`; chat and messages", timed(got))


def case2(b: Bench) -> Outcome:
    patterns = ["^a{1000}$", "^a{10000}$", "^((a{300}){300})$"]
    got = tools(b, *(one_string({"pattern": p}) for p in patterns))
    return Outcome("tool patterns `^a{1000}$`, `^a{10000}$`, `^((a{300}){300})$`", timed(got))


def case3(b: Bench) -> Outcome:
    sizes = [60_000, 10**6] if b.quick else [60_000, 10**6, 4 * 10**6, 10**7]
    got = tools(b, *(one_string({"minLength": n}) for n in sizes))
    return Outcome(f"tool `minLength` {', '.join(f'{n:,}' for n in sizes)}", timed(got))


def _array(count: float) -> dict[str, Any]:
    array = {"type": "array", "items": {"type": "string"}, "minItems": count}
    return {"type": "object", "properties": {"a": array}, "required": ["a"]}


def case4(b: Bench) -> Outcome:
    got = tools(b, _array(10**5), _array(1e30)) + tools(b, _array(3000), n=128)
    return Outcome("tool `minItems` 1e5, 1e30; `n: 128` × `minItems` 3,000", timed(got))


def _defs(levels: int, width: int) -> dict[str, Any]:
    defs: dict[str, Any] = {f"l{levels}": {"type": "string"}}
    for level in range(levels):
        props = {f"p{i}": {"$ref": f"#/$defs/l{level + 1}"} for i in range(width)}
        defs[f"l{level}"] = {"type": "object", "properties": props, "required": list(props)}
    return {"$defs": defs, "$ref": "#/$defs/l0"}


def _any_of(levels: int, width: int) -> dict[str, Any]:
    defs: dict[str, Any] = {f"l{levels}": {"type": "string", "pattern": "^x$"}}
    for level in range(levels):
        branch = [
            {"type": "object", "properties": {f"k{i}": {"$ref": f"#/$defs/l{level + 1}"}}, "required": [f"k{i}"]}
            for i in range(width)
        ]
        defs[f"l{level}"] = {"anyOf": branch}
    return {"$defs": defs, "$ref": "#/$defs/l0"}


def case5(b: Bench) -> Outcome:
    got = tools(b, _defs(5, 10), _any_of(6, 10))
    return Outcome("`$defs` 5 levels × 10 required refs; `anyOf` 6 × 10", timed(got))


def case6(b: Bench) -> Outcome:
    port = b.serve().port
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["x"] * 2000, "n": 128}
    allowed = {"model": "gpt-3.5-turbo-instruct", "prompt": ["x"] * 16, "n": 128}
    got = [call(port, "POST", "/v1/completions", body), call(port, "POST", "/v1/completions", allowed)]
    return Outcome('`/v1/completions` `["x"]*2000`, `n: 128`; then 16 × 128 (2,048 choices, the cap)', timed(got))


def case7(b: Bench) -> Outcome:
    port = b.serve(env={"STREAM_CHUNK_SIZE": "1"}).port
    fast = [("x-llmreplay-gap-ms", "0"), ("x-llmreplay-chunk-size", "1")]
    many = call(port, "POST", CHAT, chat(stream=True, n=128), fast)
    long_arg = call(port, "POST", CHAT, tool_chat(one_string({"minLength": 60_000}), stream=True), fast)
    sizes = f"{len(many.body) / 1e6:.1f} MB, {len(long_arg.body) / 1e6:.1f} MB"
    return Outcome(
        "gap 0, chunk size 1: an `n: 128` stream; a streamed 60,000-character tool argument",
        f"{timed([many, long_arg])}; {sizes}",
    )


def case8(b: Bench) -> Outcome:
    mb = b.size(3, 30)
    port = b.serve().port
    text = "lorem ipsum " * (mb * 2**20 // 12)
    small = max(1, mb * 4000)
    bodies = {
        "one string": chat(text),
        f"{small:,} small messages": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": f"message {i} " + "x" * 200} for i in range(small)],
        },
    }
    got = []
    for body in bodies.values():
        got.append(call(port, "POST", CHAT, json.dumps(body).encode()))
    count = {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": text}]}
    got.append(call(port, "POST", "/v1/messages/count_tokens", count, ANTHROPIC))
    shapes = ", ".join(bodies) + ", one string to count_tokens"
    return Outcome(f"~{mb} MB bodies: {shapes}", timed(got))


def case9(b: Bench) -> Outcome:
    port = b.serve().port
    inputs = b.size(256, 2048)
    got = [
        call(port, "POST", "/v1/embeddings", {"model": "my-embedder", "input": "x", "dimensions": n})
        for n in (10_000_000, 50_000_000)
    ]
    big = {"model": "text-embedding-3-large", "input": ["x"] * inputs}
    got.append(call(port, "POST", "/v1/embeddings", big))
    return Outcome(
        f"embeddings `dimensions` 1e7, 5e7 (unknown model); then {inputs:,} inputs × 3,072 (the cap)",
        f"{timed(got)}; largest reply {max(len(a.body) for a in got) / 1e6:.0f} MB",
    )


def _spec(rng: random.Random, chars: int) -> str:
    """A scenario of about ``chars`` characters that no other shares, whose first step (the one its request
    takes, each request having its own key) answers at once."""
    parts, size = ["ok"], 2
    while size < chars - 4:
        parts.append(rng.choice(("ok", "429", "500", "503", "529")))
        size += len(parts[-1]) + 1
    return ",".join(parts)


def case10(b: Bench) -> Outcome:
    port = b.serve().port
    count = b.size(200, 1000)
    rng = random.Random(10)
    answers: list[Answer] = []
    body = json.dumps(chat()).encode()
    for chars in (15_000, 4_000):
        conn = HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(count):
            scenario = [("x-llmreplay-scenario", _spec(rng, chars)), ("x-llmreplay-scenario-key", f"c{i}")]
            answers.append(call(port, "POST", CHAT, body, scenario, conn=conn))
        conn.close()
    return Outcome(f"{count:,} distinct ~15 KB `x-llmreplay-scenario` headers, then {count:,} of ~4 KB", tally(answers))


def case14(b: Bench) -> Outcome:
    port = b.serve().port
    schemas = [
        {"type": "object", "properties": {"a": {"type": "number", "minimum": float("-inf")}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"type": "number", "maximum": float("-inf")}}, "required": ["a"]},
    ]
    # json.dumps writes -Infinity, as a careless client's encoder does.
    got = [call(port, "POST", CHAT, json.dumps(tool_chat(s)).encode()) for s in schemas]
    return Outcome("tool `minimum: -Infinity`; `maximum: -Infinity` on a number", timed(got))


PATTERNS = {
    "git SHA": "^[a-f0-9]{40}$",
    "SHA-256": "^[a-f0-9]{64}$",
    "ULID": "^[0-9A-HJKMNP-TV-Z]{26}$",
    "UUID": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}


def _valid(answer: Answer, pattern: str) -> bool:
    try:
        (call_,) = answer.json()["choices"][0]["message"]["tool_calls"]
        return re.fullmatch(pattern, json.loads(call_["function"]["arguments"])["a"]) is not None
    except (ValueError, KeyError, TypeError):
        return False


def case24(b: Bench) -> Outcome:
    port = b.serve().port
    got = [call(port, "POST", CHAT, tool_chat(one_string({"pattern": p}))) for p in PATTERNS.values()]
    valid = sum(_valid(a, p) for a, p in zip(got, PATTERNS.values(), strict=True))
    return Outcome(f"tool patterns: {', '.join(PATTERNS)}", f"{timed(got)}; {valid} of {len(got)} values valid")


CASES: dict[int, Case] = {
    1: case1,
    2: case2,
    3: case3,
    4: case4,
    5: case5,
    6: case6,
    7: case7,
    8: case8,
    9: case9,
    10: case10,
    14: case14,
    24: case24,
}
