"""What the content faults share: a reply made here, in place of the sources', rendered by the codec of the
API that asked, so each provider's own fields say what went wrong (docs/shaping.md, content faults).

A content fault is decided at admission like any outcome. Its reply is neutral (:class:`~llmreplay.model.Reply`)
and timed as a reply (time to first token, gaps), not as a refusal; an error it answers with instead (a
prompt over the window, a filtered prompt on OpenAI) is a refusal, due at once. A call no codec reads (an
unknown path, an embeddings or count_tokens call) is answered normally.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from llmreplay.errors import ApiError
from llmreplay.ids import fingerprint, hex_id
from llmreplay.model import Answer, Candidate, Finish, Part, Reply, Request, Text, Tool, ToolCall, Usage
from llmreplay.shaping.faultkinds.base import FaultKind, When, error_answer
from llmreplay.synth import tokens

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome

NO_TOOL = "lookup"
"""The tool a tool fault calls when the request offers none."""


class ContentFault(FaultKind):
    """A fault in what the model says: :meth:`make` builds the reply (or the provider's error) for a request."""

    when: ClassVar[When] = "in the reply"

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        req = ex.request
        if req is None or ex.route.op is not None:
            return None
        try:
            made = self.make(ex, req)
        except ApiError as err:  # a schema no value satisfies: the client's 400, as the synthetic source says
            made = err
        if isinstance(made, ApiError):
            return error_answer(ex, made)
        ex.reply = made
        ex.input_tokens, ex.output_tokens = made.usage.input_tokens, made.usage.output_tokens
        # Imported here: the configuration's models read the outcome grammar, which lists this kind.
        from llmreplay.shaping.timing import TimingStage

        # Timed here as a reply is: the shaper times an answer decided at admission as a refusal otherwise.
        return TimingStage().shape(ex, ex.route.codec.render(made, req, ex.opts))

    def make(self, ex: Exchange, req: Request) -> Reply | ApiError:
        raise NotImplementedError


def prompt_of(ex: Exchange, req: Request) -> int:
    """The request's prompt tokens, counted once per exchange."""
    if ex.input_tokens is None:
        ex.input_tokens = tokens.prompt_tokens(req)
    return ex.input_tokens


def reply(ex: Exchange, req: Request, parts: tuple[Part, ...], finish: Finish) -> Reply:
    """A reply of ``parts`` ending ``finish`` (one candidate per ``n``), its usage the synthetic estimate."""
    out = sum(tokens.count(p.text) for p in parts if isinstance(p, Text))
    out += sum(tokens.count(p.name) + tokens.count(p.arguments) for p in parts if isinstance(p, ToolCall))
    out += sum(tokens.count(str(p.data.get("refusal", ""))) for p in parts if not isinstance(p, (Text, ToolCall)))
    n = max(1, req.n)
    return Reply(
        id=hex_id(ex.rng, 24),
        model=req.model,
        created=int(time.time()),
        candidates=(Candidate(parts, finish, None, out),) * n,
        usage=Usage(prompt_of(ex, req), out * n),
        fingerprint=fingerprint(req.model),
    )


def first_tool(req: Request) -> Tool:
    """The tool a tool fault calls: the request's first, or :data:`NO_TOOL` when it offers none."""
    return req.tools[0] if req.tools else Tool(NO_TOOL)


def call(ex: Exchange, name: str, arguments: str) -> ToolCall:
    return ToolCall(hex_id(ex.rng, 24), name, arguments)


def output_schema(req: Request) -> Mapping[str, Any] | None:
    """The structured output's schema, when the request asks for one."""
    return req.output.schema if req.output.kind == "json_schema" else None
