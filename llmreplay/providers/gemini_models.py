"""Gemini's ``GET /{ver}/models`` and ``GET /{ver}/models/{model}``.

A fixed catalogue paged with ``pageSize``/``pageToken``; ``nextPageToken`` is left
out on the last page (the SDK pager stops on its absence). Any model name is
answered by ``get``: unknown ones get a plausible entry.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from llmreplay.catalogue import shipped
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.gemini_render import json_body

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_GENERATE = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
_EMBED = ("embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One listed model; its limits and whether it thinks are the model catalogue's (the ones enforced)."""

    id: str
    display_name: str
    description: str
    version: str = "001"

    def as_json(self) -> dict[str, Any]:
        family = shipped().lookup(self.id)
        embedding = family.embedding if family.known else "embedding" in self.id
        default_window, default_out = (2048, 1) if embedding else (1048576, 65536)
        out: dict[str, Any] = {
            "name": f"models/{self.id}",
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": family.context_window or default_window,
            "outputTokenLimit": family.max_output_tokens or default_out,
            "supportedGenerationMethods": list(_EMBED if embedding else _GENERATE),
        }
        if not embedding:
            out.update({"temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2})
            if family.reasons or not family.known:
                out["thinking"] = True
        return out


CATALOGUE: tuple[ModelInfo, ...] = (
    ModelInfo("gemini-2.5-pro", "Gemini 2.5 Pro", "Stable release (June 17th, 2025) of Gemini 2.5 Pro"),
    ModelInfo(
        "gemini-2.5-flash", "Gemini 2.5 Flash", "Stable version of Gemini 2.5 Flash, our mid-size multimodal model."
    ),
    ModelInfo(
        "gemini-2.5-flash-lite",
        "Gemini 2.5 Flash-Lite",
        "Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
    ),
    ModelInfo("gemini-2.0-flash", "Gemini 2.0 Flash", "Gemini 2.0 Flash"),
    ModelInfo("gemini-2.0-flash-lite", "Gemini 2.0 Flash-Lite", "Gemini 2.0 Flash-Lite"),
    ModelInfo("gemini-3-pro-preview", "Gemini 3 Pro Preview", "Gemini 3 Pro Preview", version="3-pro-preview-11-2025"),
    ModelInfo(
        "gemini-3-flash-preview", "Gemini 3 Flash Preview", "Gemini 3 Flash Preview", version="3-flash-preview-12-2025"
    ),
    ModelInfo("text-embedding-004", "Text Embedding 004", "Obtain a distributed representation of a text.", "004"),
    ModelInfo("gemini-embedding-001", "Gemini Embedding 001", "Obtain a distributed representation of a text."),
)
_BY_ID = {m.id: m for m in CATALOGUE}


def lookup(model: str) -> ModelInfo:
    """The listed entry, or a plausible one made up from the name (its limits the catalogue's, where it knows the
    family)."""
    model = model.removeprefix("models/")
    if model in _BY_ID:
        return _BY_ID[model]
    title = " ".join(w.capitalize() if not w[:1].isdigit() else w for w in model.split("-"))
    return ModelInfo(model, title, title)


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, num = text.partition(":")
        if kind != "offset":
            raise ValueError(token)
        return int(num)
    except ValueError:
        raise ApiError(ErrorKind.INVALID_REQUEST, "Invalid page token.", param="pageToken") from None


def list_models(call: Call, opts: RenderOptions) -> Answer:
    raw = call.query.get("pageSize") or call.query.get("page_size")
    try:
        size = int(raw) if raw else DEFAULT_PAGE_SIZE
    except ValueError:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"",
            param="page_size",
        ) from None
    size = DEFAULT_PAGE_SIZE if size <= 0 else min(size, MAX_PAGE_SIZE)
    token = call.query.get("pageToken") or call.query.get("page_token") or ""
    start = _offset(token) if token else 0
    page = CATALOGUE[start : start + size]
    body: dict[str, Any] = {"models": [m.as_json() for m in page]}
    if start + size < len(CATALOGUE):
        body["nextPageToken"] = _page_token(start + size)
    return json_body(200, body)


def get_model(call: Call, opts: RenderOptions) -> Answer:
    model = call.params.get("model", "")
    if not model:
        raise ApiError(ErrorKind.NOT_FOUND, "Model name is required.", param="name")
    return json_body(200, lookup(model).as_json())
