"""The legacy OpenAI Completions API: ``POST /v1/completions``.

One prompt (or a list of them) in, ``text_completion`` objects out. A list of ``k``
prompts with ``n`` asks for ``k·n`` choices, prompt by prompt, as the real API does.
``max_tokens`` defaults to 16. Streams are ``data:`` chunks (each a ``text_completion``
whose choice carries the new text), a last chunk per choice with ``finish_reason``,
an optional usage chunk (``choices:[]``), then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.ids import with_prefix
from llmreplay.model import Answer, Call, Candidate, Finish, Frame, Message, Quota, Reply, Request, Text
from llmreplay.providers import openai_chat_content as chat
from llmreplay.providers import openai_common
from llmreplay.providers.base import (
    Body,
    Codec,
    RenderOptions,
    Route,
    StreamEvent,
    content_steps,
    dumps,
    json_answer,
    load_json,
)
from llmreplay.providers.base import split as split_text
from llmreplay.providers.openai_chat_request import StreamOptions, validate_body
from llmreplay.providers.openai_chat_stream import DONE, encode_events, parse_events
from llmreplay.sse import encode_sse
from llmreplay.synth.tokens import pieces

API = "openai-completions"
ENDPOINT = "completions"
PREFIX = "cmpl-"
DEFAULT_MAX_TOKENS = 16
MAX_PROMPTS = 2048
"""Most prompts in one request's list (OpenAI's own batch limit for its list inputs)."""
MAX_CHOICES = 2048
"""Most choices one request may ask for, ``n`` times the prompts: each costs ~25–50 µs of the event loop, so
2048 hold it under 0.1 s, where 2,000 prompts × ``n: 128`` took 13.7 s (issue 19)."""
MAX_ECHO_CHARS = 50_000
"""Most prompt characters ``echo`` may repeat, over all choices (the prompts' length × ``n``): three times what
the instruct model's 4,096-token context holds, and each echoed character is streamed and given logprobs like
generated text, so a 100 KB prompt × ``n: 16`` was a 39 MB stream and 1.8 s of the event loop."""

_FINISH: dict[Finish, str] = {
    Finish.LENGTH: "length",
    Finish.CONTENT_FILTER: "content_filter",
    Finish.BLOCKED: "content_filter",
}


class CompletionsBody(Body):
    """The body of ``POST /v1/completions``."""

    model: str
    prompt: str | list[str] | list[int] | list[list[int]] | None = None
    max_tokens: int | None = Field(default=DEFAULT_MAX_TOKENS, ge=0)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: int | None = Field(default=None, ge=1, le=128)
    best_of: int | None = Field(default=None, ge=1, le=20)
    stop: str | list[str] | None = None
    logprobs: int | None = Field(default=None, ge=0, le=5)
    echo: bool | None = None
    suffix: str | None = None
    seed: int | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None


def _prompts(prompt: Any) -> list[str]:
    """Each prompt as text (token-id prompts become their ids, which is what they count as)."""
    if prompt is None:
        return ["<|endoftext|>"]
    if isinstance(prompt, str):
        return [prompt]
    if prompt and all(isinstance(x, int) for x in prompt):
        return [" ".join(str(x) for x in prompt)]
    return [p if isinstance(p, str) else " ".join(str(x) for x in p) for p in prompt] or [""]


def _check_choices(prompts: list[str], n: int, echo: bool) -> None:
    """The provider's 400 for a prompt list, a choice count or an echo over the caps, before any is generated."""
    count = len(prompts)
    if count > MAX_PROMPTS:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'prompt' : maximum batch size is {MAX_PROMPTS}, got {count}.",
            param="prompt",
        )
    if count * n > MAX_CHOICES:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'n' : {n} choices for each of {count} prompts is {count * n}; at most {MAX_CHOICES} in all.",
            param="n",
        )
    echoed = sum(map(len, prompts)) * n if echo else 0
    if echoed > MAX_ECHO_CHARS:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'echo' : the prompts would be repeated as {echoed} characters; at most {MAX_ECHO_CHARS}.",
            param="echo",
        )


def parse_request(call: Call) -> Request:
    """``POST /v1/completions`` → Request (one user turn per prompt; ``n`` times the prompts choices)."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    body: CompletionsBody = validate_body(CompletionsBody, data)
    prompts = _prompts(body.prompt)
    _check_choices(prompts, body.n or 1, bool(body.echo))
    stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or ())
    stream = bool(body.stream)
    return Request(
        api=API,
        endpoint=ENDPOINT,
        model=body.model,
        messages=tuple(Message("user", p) for p in prompts),
        max_tokens=body.max_tokens,
        stop=tuple(s for s in stop if s),
        stream=stream,
        n=(body.n or 1) * len(prompts),
        logprobs=body.logprobs is not None,
        top_logprobs=body.logprobs or 0,
        include_usage=stream and bool(body.stream_options and body.stream_options.include_usage),
        seed=body.seed,
        body=data,
        wire={"echo": bool(body.echo), "prompts": tuple(prompts), "per_prompt": body.n or 1},
    )


# ---- rendering ----------------------------------------------------------------------------


def finish_reason(c: Candidate) -> str:
    return _FINISH.get(c.finish, "stop")


def _echo(request: Request, index: int) -> str:
    """The prompt a choice repeats when ``echo`` is set."""
    if not request.wire.get("echo"):
        return ""
    prompts = request.wire.get("prompts") or ()
    per = int(request.wire.get("per_prompt") or 1)
    i = index // per
    return str(prompts[i]) if i < len(prompts) else ""


class _Logprobs:
    """The legacy ``{tokens, token_logprobs, top_logprobs, text_offset}`` drawn per piece."""

    def __init__(self, seed: int, index: int, top: int) -> None:
        self._rng = random.Random(f"{seed}:completions:{index}")
        self._top = top
        self._offset = 0

    def piece(self, text: str) -> dict[str, Any]:
        out: dict[str, Any] = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
        for tok in pieces(text):
            lp = round(math.log(self._rng.uniform(0.35, 1.0)), 6)
            out["tokens"].append(tok)
            out["token_logprobs"].append(lp)
            top = {tok: lp}
            for alt in (" the", " a", ",", ".", " and")[: max(0, self._top - 1)]:
                top.setdefault(alt, round(lp - self._rng.uniform(0.5, 3.0), 6))
            out["top_logprobs"].append(top)
            out["text_offset"].append(self._offset)
            self._offset += len(tok)
        return out


def _extend(a: dict[str, Any], b: dict[str, Any]) -> None:
    """``b``'s lists added to ``a``'s in place (a new list per piece made a long echo's logprobs quadratic)."""
    for k in a:
        a[k].extend(b[k])


def _head(reply: Reply) -> dict[str, Any]:
    return {"id": with_prefix(PREFIX, reply.id), "object": "text_completion", "created": reply.created}


def render_body(reply: Reply, request: Request, opts: RenderOptions) -> dict[str, Any]:
    choices = []
    for i, c in enumerate(reply.candidates):
        text = _echo(request, i) + c.text
        logprobs = None
        if request.logprobs:
            lp = _Logprobs(opts.seed, i, request.top_logprobs)
            logprobs = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
            for piece in split_text(text, opts.chunk_size):
                _extend(logprobs, lp.piece(piece))
        choices.append({"text": text, "index": i, "logprobs": logprobs, "finish_reason": finish_reason(c)})
    obj = {**_head(reply), "model": reply.model, "choices": choices, "usage": _usage(reply)}
    if reply.fingerprint:
        obj["system_fingerprint"] = reply.fingerprint
    return obj


def _usage(reply: Reply) -> dict[str, int]:
    u = reply.usage
    return {"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens, "total_tokens": u.total_tokens}


def render_frames(reply: Reply, request: Request, opts: RenderOptions) -> tuple[Frame, ...]:
    head = _head(reply)
    tail: dict[str, Any] = {"model": reply.model}
    if reply.fingerprint:
        tail["system_fingerprint"] = reply.fingerprint

    def chunk(choice: dict[str, Any]) -> bytes:
        obj = {**head, "choices": [choice], **tail}
        if request.include_usage:
            obj["usage"] = None
        return encode_sse(dumps(obj))

    per_choice: list[list[Frame]] = []
    for i, c in enumerate(reply.candidates):
        lp = _Logprobs(opts.seed, i, request.top_logprobs) if request.logprobs else None
        frames = []
        for piece in split_text(_echo(request, i) + c.text, opts.chunk_size):
            logprobs = lp.piece(piece) if lp is not None else None
            frames.append(Frame(chunk({"text": piece, "index": i, "logprobs": logprobs, "finish_reason": None})))
        last = {"text": "", "index": i, "logprobs": None, "finish_reason": finish_reason(c)}
        frames.append(Frame(chunk(last), paced=False))
        per_choice.append(frames)
    out: list[Frame] = []
    for step in range(max((len(f) for f in per_choice), default=0)):
        out.extend(f[step] for f in per_choice if step < len(f))
    if request.include_usage:
        out.append(Frame(encode_sse(dumps({**head, "choices": [], **tail, "usage": _usage(reply)})), paced=False))
    out.append(Frame(DONE, paced=False))
    return tuple(out)


# ---- recorded bodies ------------------------------------------------------------------------


def _to_finish(reason: Any) -> Finish:
    return {"stop": Finish.STOP, "length": Finish.LENGTH, "content_filter": Finish.CONTENT_FILTER}.get(
        reason, Finish.OTHER
    )


def body_to_reply(obj: Any) -> Reply:
    if not isinstance(obj, dict) or "error" in obj or not isinstance(obj.get("choices"), list):
        raise ValueError("not a text_completion object")
    ordered = sorted(obj["choices"], key=lambda ch: int(ch.get("index", 0)))
    cands = [Candidate((Text(str(ch.get("text") or "")),), _to_finish(ch.get("finish_reason"))) for ch in ordered]
    return chat.to_reply(obj, cands)


def events_to_reply(events: list[StreamEvent]) -> Reply:
    head: dict[str, Any] = {}
    texts: dict[int, str] = {}
    finishes: dict[int, Any] = {}
    for ev in events:
        d = ev.data
        if ev.type != "chunk" or not isinstance(d, dict):
            continue
        if not head:
            head = {k: d.get(k) for k in ("id", "model", "created", "system_fingerprint")}
        if d.get("usage"):
            head["usage"] = d["usage"]
        for ch in d.get("choices") or ():
            i = int(ch.get("index", 0))
            texts[i] = texts.get(i, "") + str(ch.get("text") or "")
            if ch.get("finish_reason") is not None:
                finishes[i] = ch["finish_reason"]
    if not head:
        raise ValueError("no text_completion chunk in the stream")
    cands = [Candidate((Text(texts[i]),), _to_finish(finishes.get(i))) for i in sorted(texts)]
    return chat.to_reply(head, cands)


class OpenAICompletionsCodec(Codec):
    """``POST /v1/completions``: ``text_completion`` objects and chunk streams."""

    api = API
    endpoint = ENDPOINT
    credential_headers = openai_common.CREDENTIAL_HEADERS
    account_headers = openai_common.ACCOUNT_HEADERS
    volatile_fields = openai_common.VOLATILE_FIELDS
    significant_fields = ("model", "prompt", "suffix", "max_tokens", "echo", "best_of", *openai_common.SAMPLING_FIELDS)

    def parse_request(self, call: Call) -> Request:
        return parse_request(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        headers = openai_common.base_headers(opts)
        if not request.stream:
            answer = json_answer(200, render_body(reply, request, opts), headers)
            return Answer(answer.status, answer.headers, answer.frames, steps=content_steps(reply, opts.chunk_size))
        hs = (("content-type", "text/event-stream; charset=utf-8"), *headers.items())
        return Answer(200, hs, render_frames(reply, request, opts), stream=True)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return openai_common.render_error(error, opts)

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        return openai_common.quota_headers(quota)

    def prompt_filtered(self) -> ApiError | None:
        return openai_common.prompt_filtered()

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        return encode_sse(json.dumps({"error": openai_common.error_object(error)}, separators=(",", ":")))

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return parse_events(body)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return encode_events(events)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        return body_to_reply(json.loads(body))


CODEC = OpenAICompletionsCodec()

ROUTES = [Route("POST", "/v1/completions", "completions", CODEC)]

__all__ = [
    "CODEC",
    "DEFAULT_MAX_TOKENS",
    "MAX_CHOICES",
    "MAX_ECHO_CHARS",
    "MAX_PROMPTS",
    "ROUTES",
    "OpenAICompletionsCodec",
    "parse_request",
]
