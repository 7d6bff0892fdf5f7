"""The synthetic source: a plausible :class:`Reply` for any :class:`Request`.

Tool calls follow the request's tool choice (forced, forbidden, or drawn with the
configured probability) and their arguments are generated from each tool's JSON
Schema; structured output is generated from the output schema by the same faker.
Everything is drawn from the ``rng`` passed in, so a seeded generator makes the
reply reproducible, ids included.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from llmreplay import offload
from llmreplay.catalogue import Catalogue, shipped
from llmreplay.config import SyntheticSettings
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.ids import b64url_id, fingerprint, hex_id
from llmreplay.model import (
    Answer,
    Candidate,
    Finish,
    Part,
    Reply,
    Request,
    Text,
    Thinking,
    Tool,
    ToolCall,
    ToolChoice,
    Usage,
)
from llmreplay.sources.base import Play
from llmreplay.synth import prompt_schema, reasoning, tokens
from llmreplay.synth import text as texts
from llmreplay.synth.prompt_cache import PromptCache
from llmreplay.synth.requested import one_budget, value_for

_PARALLEL_PROBABILITY = 0.25
"""How often, when parallel calls are allowed and several tools offered, a second tool is called too."""


class SyntheticSource:
    """Generates replies from the synthetic settings."""

    name = "synthetic"

    def __init__(
        self, settings: SyntheticSettings, clock: Callable[[], float] = time.time, catalogue: Catalogue | None = None
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.catalogue = catalogue if catalogue is not None else shipped()
        self.cache = PromptCache()
        """The prompt prefixes this server has seen lately, for the cache reads and writes usage reports."""

    def find(self, ex: Exchange) -> Play | None:
        """Every call the codec could read has a synthetic answer; a path no codec knows has none."""
        if ex.route.op is None and ex.request is None:
            return None

        async def play() -> Answer:
            if offload.answered_off_loop(ex.call, ex.request):
                # A prompt of thousands of messages is read again here (a token count, the schemas a message asks
                # for, the cached prefixes), and a big schema is checked: off the loop, with one budget for the
                # values it fakes.
                return await offload.run(one_budget, self.answer, ex)
            if ex.route.op is not None:
                return ex.route.op(ex.call, ex.opts)
            reply = self._reply_to(ex)
            if offload.streams_many(reply, ex.request, ex.opts.chunk_size):
                # A small request may ask for tens of thousands of frames (issue 19, case 7): made off the loop.
                return await offload.run(self._render, ex, reply)
            return self._render(ex, reply)

        return play

    def answer(self, ex: Exchange) -> Answer:
        if ex.route.op is not None:
            return ex.route.op(ex.call, ex.opts)
        return self._render(ex, self._reply_to(ex))

    @staticmethod
    def _render(ex: Exchange, reply: Reply) -> Answer:
        assert ex.request is not None
        return ex.route.codec.render(reply, ex.request, ex.opts)

    def _reply_to(self, ex: Exchange) -> Reply:
        """The exchange's reply, kept on it with its usage (the request too, with a tool the headers force)."""
        assert ex.request is not None
        d = ex.directives
        req = ex.request = _with_tool_choice(ex.request, d.tool_call)
        force = d.tool_call if isinstance(d.tool_call, bool) else None
        reply = ex.reply = self.reply(req, ex.rng, force, ex.input_tokens)
        ex.input_tokens, ex.output_tokens = reply.usage.input_tokens, reply.usage.output_tokens
        return reply

    def reply(
        self, req: Request, rng: random.Random, force_tool: bool | None = None, prompt_tokens: int | None = None
    ) -> Reply:
        """A reply to ``req``; ``force_tool`` True/False overrides the drawn tool decision; ``prompt_tokens``, the
        request's count when the caller has it already (it is a pass over the whole prompt)."""
        # Read once per request, not per candidate: a scan of every message per choice was quadratic in
        # /v1/completions' prompt lists (issue 19, case 6).
        asked = _asked_schema(req)
        prompt = tokens.prompt_tokens(req) if prompt_tokens is None else prompt_tokens
        # A reasoning model's unseen reasoning comes out of the same output limit as its answer.
        hidden = reasoning.hidden_tokens(req, self.catalogue.lookup(req.model).reasoning, prompt)
        shown = req
        if hidden and req.max_tokens is not None:
            hidden = min(hidden, req.max_tokens // 2)
            shown = dataclasses.replace(req, max_tokens=req.max_tokens - hidden)
        n = max(1, req.n)
        if n == 1:
            candidates: tuple[Candidate, ...] = (self._candidate(shown, rng, force_tool, asked),)
        else:
            candidates = tuple(self._candidate(shown, rng, force_tool, asked) for _ in range(n))
        if reasoning.shows_item(req, hidden):
            # Its reasoning is listed, not shown: an empty part, so what it counts is the unseen figure alone.
            candidates = tuple(
                dataclasses.replace(c, parts=(Thinking("", signature=b64url_id(rng, 64)), *c.parts)) for c in candidates
            )
        out = sum(c.output_tokens for c in candidates) + hidden * n
        # Only a request that asks for thinking gets its text (a listed item's part is empty).
        thought = (
            sum(tokens.count(p.text) for c in candidates for p in c.parts if isinstance(p, Thinking))
            if req.thinking
            else 0
        )
        usage = Usage(prompt, out, thought + hidden * n, *self.cache.use(req, prompt))
        return Reply(
            id=hex_id(rng, 24),
            model=req.model,
            created=int(self._clock()),
            candidates=candidates,
            usage=usage,
            fingerprint=fingerprint(req.model),
        )

    def draws_alike(self, req: Request, reply: Reply) -> bool:
        """Whether ``reply`` to ``req`` is the common reply (one text, ended whole; nothing hidden, cached or
        called) and every other reply to ``req`` would be too, made by the draws of :meth:`draw_again` alone: no
        tools to call, no thinking, no structured output, no stop sequence and no limit the text could reach."""
        if req.n > 1 or req.thinking or req.stop or req.output.kind != "text" or self._callable_tools(req):
            return False
        if req.max_tokens is not None and req.max_tokens < texts.most_tokens(self.settings.default_response):
            return False
        usage = reply.usage
        if usage.reasoning_tokens or usage.cached_input_tokens or usage.cache_write_tokens:
            return False
        (candidate,) = reply.candidates
        if candidate.finish != Finish.STOP or len(candidate.parts) != 1 or not isinstance(candidate.parts[0], Text):
            return False
        return _asked_schema(req) is None

    def draw_again(self, rng: random.Random) -> tuple[str, int, str]:
        """The text, its tokens and the reply's id of another reply to a request :meth:`draws_alike` says yes to,
        drawn as :meth:`reply` draws them, in its order."""
        text, counted = texts.counted_reply(rng, self.settings.default_response)
        return text, counted, hex_id(rng, 24)

    def _candidate(
        self, req: Request, rng: random.Random, force_tool: bool | None, asked: Mapping[str, Any] | None
    ) -> Candidate:
        parts: list[Part] = []
        if req.thinking:
            parts.append(Thinking(texts.thinking_text(rng), signature=b64url_id(rng, 64)))
        tools = self._callable_tools(req)
        if tools and self._wants_tool(req, rng, force_tool):
            calls = [tools[rng.randrange(len(tools))]]
            others = [t for t in tools if t is not calls[0]]
            if req.parallel_tool_calls and others and rng.random() < _PARALLEL_PROBABILITY:
                calls.append(others[rng.randrange(len(others))])
            for tool in calls:
                args = value_for(tool.schema, rng, f"the parameters of tool '{tool.name}'", "tools")
                parts.append(ToolCall(hex_id(rng, 24), tool.name, json.dumps(args, ensure_ascii=False)))
            return _finish(parts, Finish.TOOL_CALLS)
        return self._text_candidate(req, rng, parts, asked)

    def _text_candidate(
        self, req: Request, rng: random.Random, parts: list[Part], asked: Mapping[str, Any] | None
    ) -> Candidate:
        if req.output.kind == "json_schema" and req.output.schema is not None:
            value = value_for(req.output.schema, rng, "the output schema", "response_format")
            body = json.dumps(value, ensure_ascii=False)
        elif asked is not None and (prompted := _prompted(asked, rng)) is not None:
            body = prompted
        elif req.output.kind == "json":
            body = json.dumps({"answer": texts.reply_text(rng, self.settings.default_response)}, ensure_ascii=False)
        else:
            body, counted = texts.counted_reply(rng, self.settings.default_response)
            # A model stops *at* a stop sequence; structured output is left whole so it stays valid JSON.
            for i, stop in sorted(((body.find(s), s) for s in req.stop if s and s in body), key=lambda x: x[0])[:1]:
                parts.append(Text(body[:i]))
                return _finish(parts, Finish.STOP_SEQUENCE, stop)
            if not parts and (req.max_tokens is None or counted <= req.max_tokens):
                # The common reply, whose tokens the text's maker counted once for every reply it makes.
                return Candidate((Text(body),), Finish.STOP, None, counted)
        if req.max_tokens is not None and tokens.count(body) > req.max_tokens:
            parts.append(Text(tokens.truncate(body, req.max_tokens)))
            return _finish(parts, Finish.LENGTH)
        parts.append(Text(body))
        return _finish(parts, Finish.STOP)

    @staticmethod
    def _callable_tools(req: Request) -> list[Tool]:
        if req.tool_choice.mode == "none":
            return []
        names = set(req.tool_choice.names)
        return [t for t in req.tools if not names or t.name in names]

    def _wants_tool(self, req: Request, rng: random.Random, force: bool | None) -> bool:
        if force is not None:
            return force
        if req.tool_choice.mode == "required" or req.tool_choice.names:
            return True
        if req.messages and req.messages[-1].role == "tool":
            # The tool has answered: a model answers its result in text, and an agent loop ends.
            p = self.settings.tool_call_after_result_probability
            return p > 0 and rng.random() < p
        return rng.random() < self.settings.tool_call_probability


def _asked_schema(req: Request) -> Mapping[str, Any] | None:
    """A schema the prompt carries, where JSON is asked for (the API's JSON mode, or words that name JSON and a
    schema beside it)."""
    said = [req.system, *(m.text for m in req.messages if m.role in ("user", "system"))]
    return prompt_schema.schema_in(said) if req.output.kind == "json" else prompt_schema.asked_schema(said)


def _prompted(schema: Mapping[str, Any], rng: random.Random) -> str | None:
    """JSON following the prompt's ``schema``; None when the faker has no value for it (the app sent no schema
    field, so its prompt's schema is no cause for a 400)."""
    try:
        return json.dumps(value_for(schema, rng, "the prompt's schema", "messages"), ensure_ascii=False)
    except ApiError:
        return None


def _with_tool_choice(req: Request, tool_call: bool | str | None) -> Request:
    """A tool named by ``x-llmreplay-tool-call`` is forced, as a named tool choice would."""
    if not isinstance(tool_call, str):
        return req
    if not any(t.name == tool_call for t in req.tools):
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"Invalid header x-llmreplay-tool-call: no tool named {tool_call!r} in the request.",
            param="x-llmreplay-tool-call",
        )
    return dataclasses.replace(req, tool_choice=ToolChoice("required", (tool_call,)))


def _finish(parts: list[Part], finish: Finish, stop: str | None = None) -> Candidate:
    held = tuple(parts)
    out, _ = tokens.parts_tokens(held)
    return Candidate(held, finish, stop, out)
