"""``cut-json``: structured output cut off mid-object at the output limit."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llmreplay.model import Finish, Reply, Request, Text
from llmreplay.shaping.faultkinds.content import ContentFault, output_schema, reply
from llmreplay.synth.requested import value_for

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

UNASKED: dict[str, Any] = {"answer": "The figures for the last quarter", "items": ["revenue", "costs", "margin"]}
"""The JSON cut when the request asks for no schema."""


class CutJson(ContentFault):
    name = "cut-json"
    description = (
        "JSON output (from the request's schema) cut off mid-object with the length finish: OpenAI "
        "finish_reason length (Responses: incomplete, max_output_tokens), Anthropic max_tokens, Gemini MAX_TOKENS."
    )

    def make(self, ex: Exchange, req: Request) -> Reply:
        schema = output_schema(req)
        value = value_for(schema, ex.rng, "the output schema", "response_format") if schema else UNASKED
        text = json.dumps(value, ensure_ascii=False)
        return reply(ex, req, (Text(text[: max(1, len(text) // 2)]),), Finish.LENGTH)
