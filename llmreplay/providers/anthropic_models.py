"""Anthropic's ``GET /v1/models`` and ``GET /v1/models/{model}``.

The list is a fixed catalogue, newest first, paged with ``limit``/``after_id``/
``before_id`` as the real API pages it (the SDK follows ``has_more`` and
``last_id``). A single model is answered for any id: every model name is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from llmreplay.catalogue import shipped
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers.anthropic_messages import base_headers
from llmreplay.providers.base import RenderOptions, json_answer

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One catalogue entry."""

    id: str
    display_name: str
    created_at: str
    """RFC 3339, as the API sends it (not epoch seconds)."""

    def as_json(self) -> dict[str, Any]:
        # The limits are the model catalogue's (the ones enforced); an id it does not know shows a recent model's.
        family = shipped().lookup(self.id)
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "lifecycle": "active",
            "max_input_tokens": family.context_window or UNKNOWN_MAX_INPUT,
            "max_tokens": family.max_output_tokens or UNKNOWN_MAX_TOKENS,
        }


UNKNOWN_MAX_INPUT = 200000
UNKNOWN_MAX_TOKENS = 64000


CATALOGUE: tuple[ModelInfo, ...] = (
    ModelInfo("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24T00:00:00Z"),
    ModelInfo("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
    ModelInfo("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
    ModelInfo("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
    ModelInfo("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
    ModelInfo("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
    ModelInfo("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z"),
    ModelInfo("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
    ModelInfo("claude-3-haiku-20240307", "Claude Haiku 3", "2024-03-07T00:00:00Z"),
)
"""Newest first, as the real list is ordered."""

_BY_ID = {m.id: m for m in CATALOGUE}
_DATE_SUFFIX = re.compile(r"-\d{8}$")


def display_name(model_id: str) -> str:
    """A readable name for any id: ``claude-sonnet-4-5-20250929`` → ``Claude Sonnet 4.5``."""
    words: list[str] = []
    for part in _DATE_SUFFIX.sub("", model_id).split("-"):
        if part.isdigit() and words and words[-1][-1:].isdigit():
            words[-1] += "." + part
        elif part:
            words.append(part if part.isdigit() else part[:1].upper() + part[1:])
    return " ".join(words) or model_id


def model_info(model_id: str) -> ModelInfo:
    """The catalogue entry of ``model_id``, or a made-up one (unknown names are accepted too)."""
    return _BY_ID.get(model_id) or ModelInfo(model_id, display_name(model_id), "2025-01-01T00:00:00Z")


def _limit(call: Call) -> int:
    raw = call.query.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(ErrorKind.INVALID_REQUEST, "limit: Input should be a valid integer", param="limit") from None
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"limit: Input should be between 1 and {MAX_LIMIT}",
            param="limit",
        )
    return value


def _index(cursor: str, name: str) -> int:
    for i, m in enumerate(CATALOGUE):
        if m.id == cursor:
            return i
    raise ApiError(ErrorKind.INVALID_REQUEST, f"{name}: no model with id '{cursor}' in the list", param=name)


def page(call: Call) -> tuple[list[ModelInfo], bool]:
    """(the models of the page the query asks for, whether more lie beyond it in that direction)."""
    limit = _limit(call)
    after, before = call.query.get("after_id"), call.query.get("before_id")
    if before:
        end = _index(before, "before_id")
        start = max(0, end - limit)
        return list(CATALOGUE[start:end]), start > 0
    start = _index(after, "after_id") + 1 if after else 0
    return list(CATALOGUE[start : start + limit]), start + limit < len(CATALOGUE)


def list_models(call: Call, opts: RenderOptions) -> Answer:
    """``GET /v1/models`` in Anthropic's shape: ``data``, ``has_more``, ``first_id``, ``last_id``."""
    models, more = page(call)
    body = {
        "data": [m.as_json() for m in models],
        "has_more": more,
        "first_id": models[0].id if models else None,
        "last_id": models[-1].id if models else None,
    }
    return json_answer(200, body, base_headers(opts))


def get_model(call: Call, opts: RenderOptions) -> Answer:
    """``GET /v1/models/{model}``: the bare model object, for any id."""
    return json_answer(200, model_info(call.params.get("model", "")).as_json(), base_headers(opts))
