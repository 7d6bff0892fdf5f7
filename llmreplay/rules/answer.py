"""A rule's answer, compiled once: a neutral :class:`Reply` built per request and rendered by the codec of the
API that asked, exactly as a synthetic reply is (streams, usage, ids, stop reasons all the codec's).

Everything a rule can get wrong about a request it matched (a tool it does not offer, no schema to generate
from) is the client's 400 in its provider's envelope, never a 500.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import b64url_id, fingerprint, hex_id
from llmreplay.model import (
    Answer,
    Candidate,
    Finish,
    Frame,
    Opaque,
    Part,
    Reply,
    Request,
    Text,
    Thinking,
    Usage,
    refusal,
)
from llmreplay.model import ToolCall as ToolCallPart
from llmreplay.rules.matchers import View
from llmreplay.rules.spec import ReplySpec, UsageSpec
from llmreplay.rules.template import Template, value_template
from llmreplay.shaping import outcomes
from llmreplay.shaping.outcomes import Outcome
from llmreplay.synth import prompt_schema, tokens
from llmreplay.synth.requested import value_for

_LATENCY = (
    ("ttft_ms", "initial_delay_ms"),
    ("gap_ms", "delay_ms"),
    ("jitter_ms", "jitter_ms"),
    ("chunk_size", "chunk_size"),
)
"""A rule's timing names, and the live latency fields they stand for."""
_FINISH = {"stop": Finish.STOP, "length": Finish.LENGTH, "content_filter": Finish.CONTENT_FILTER}
GENERATE = "generate"


class Step:
    """One answer of a rule, its templates and outcome parsed."""

    def __init__(self, rule: str, spec: ReplySpec, recorded: Reply | None = None) -> None:
        self.rule, self.spec = rule, spec
        self.outcome: Outcome | None = outcomes.parse(spec.outcome) if spec.outcome is not None else None
        lat = spec.latency
        self.latency: Mapping[str, float] = (
            {live: v for ours, live in _LATENCY if (v := getattr(lat, ours)) is not None} if lat is not None else {}
        )
        self.writes = spec.writes
        self.recorded = recorded
        """The cassette's reply, for a step that replays one (loaded with the rules)."""
        self.text = Template(spec.text) if spec.text is not None else None
        self.thinking = Template(spec.thinking) if spec.thinking is not None else None
        self.refusal = Template(spec.refusal) if spec.refusal is not None else None
        self.calls = [
            (c.name, value_template(c.arguments) if c.arguments is not None else None, c.id)
            for c in spec.tool_calls or ()
        ]
        json_value = spec.json_
        self.generate = json_value == GENERATE
        self.json: Callable[[View], Any] | None = (
            value_template(json_value) if json_value is not None and not self.generate else None
        )

    def applies_without_request(self) -> bool:
        """Whether it can answer a call with no neutral request: an outcome alone, or a fixed JSON body."""
        return not self.writes or (self.json is not None and self.spec.thinking is None and not self.calls)

    def answer(self, ex: Exchange, view: View, clock: Callable[[], float] = time.time) -> Answer:
        """The unshaped answer to ``ex``; sets what the exchange says of it (reply, tokens)."""
        if self.latency.get("chunk_size") is not None:
            ex.opts = replace(ex.opts, chunk_size=int(self.latency["chunk_size"]))
        req = ex.request
        if req is None:
            return self._raw(view)
        reply = self.reply(req, view, ex.rng, clock, ex.input_tokens)
        ex.reply = reply
        ex.input_tokens, ex.output_tokens = reply.usage.input_tokens, reply.usage.output_tokens
        return ex.route.codec.render(reply, req, ex.opts)

    def _raw(self, view: View) -> Answer:
        assert self.json is not None  # the book asks this step only where it applies
        body = json.dumps(self.json(view), ensure_ascii=False).encode()
        return Answer(200, (("content-type", "application/json"),), (Frame(body),))

    def reply(
        self, req: Request, view: View, rng: random.Random, clock: Callable[[], float], prompt: int | None = None
    ) -> Reply:
        if self.recorded is not None:
            return replace(self.recorded, id=hex_id(rng, 24), created=int(clock()))
        parts: list[Part] = []
        if self.thinking is not None:
            parts.append(Thinking(self.thinking.fill(view), signature=b64url_id(rng, 64)))
        finish = _FINISH[self.spec.finish] if self.spec.finish is not None else Finish.STOP
        if self.refusal is not None:
            parts.append(refusal(self.refusal.fill(view)))
            finish = Finish.REFUSAL
        if self.text is not None:
            parts.append(Text(self.text.fill(view)))
        if self.json is not None or self.generate:
            value = self.json(view) if self.json is not None else self._generated(req, rng)
            parts.append(Text(json.dumps(value, ensure_ascii=False)))
        for name, args, call_id in self.calls:
            arguments = args(view) if args is not None else self._arguments(req, name, rng)
            parts.append(ToolCallPart(call_id or hex_id(rng, 24), name, json.dumps(arguments, ensure_ascii=False)))
        if self.calls and self.spec.finish is None:
            finish = Finish.TOOL_CALLS
        cand = Candidate(tuple(parts), finish)
        out, reasoning = tokens.candidate_tokens(cand)
        out += sum(tokens.count(p.data["refusal"]) for p in parts if isinstance(p, Opaque))
        cand = Candidate(cand.parts, finish, None, out)
        n = max(1, req.n)
        usage = self.spec.usage
        counted = tokens.prompt_tokens(req) if prompt is None else prompt
        return Reply(
            id=hex_id(rng, 24),
            model=req.model,
            created=int(clock()),
            candidates=(cand,) * n,
            usage=_usage(counted, out * n, reasoning * n, usage),
            fingerprint=fingerprint(req.model),
        )

    def _arguments(self, req: Request, name: str, rng: random.Random) -> Any:
        tool = next((t for t in req.tools if t.name == name), None)
        if tool is None:
            raise ApiError(
                ErrorKind.INVALID_REQUEST,
                f"llmreplay rule {self.rule!r} calls tool {name!r}, which this request does not offer, and gives no "
                "arguments to call it with (give them in the rule, or match on tools).",
                param="tools",
            )
        return value_for(tool.schema, rng, f"the parameters of tool {name!r}", "tools")

    def _generated(self, req: Request, rng: random.Random) -> Any:
        schema = req.output.schema if req.output.kind == "json_schema" else None
        if schema is None:
            said = [req.system, *(m.text for m in req.messages if m.role in ("user", "system"))]
            schema = prompt_schema.schema_in(said)
        if schema is None:
            raise ApiError(
                ErrorKind.INVALID_REQUEST,
                f"llmreplay rule {self.rule!r} answers JSON generated from the request's schema, but this request "
                "has none (no structured output format, no schema in its prompt).",
                param="response_format",
            )
        return value_for(schema, rng, "the output schema", "response_format")


def _usage(counted: int, out: int, reasoning: int, given: UsageSpec | None) -> Usage:
    if given is None:
        return Usage(counted, out, reasoning)
    return Usage(
        counted if given.input_tokens is None else given.input_tokens,
        out if given.output_tokens is None else given.output_tokens,
        reasoning if given.reasoning_tokens is None else given.reasoning_tokens,
    )
