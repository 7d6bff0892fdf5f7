"""OpenAI's ``GET /v1/models`` and ``GET /v1/models/{model}``: a fixed catalogue, any id accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmreplay.model import Answer, Call
from llmreplay.providers.base import RenderOptions, json_answer
from llmreplay.providers.openai_common import base_headers


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    created: int
    owned_by: str = "system"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "model", "created": self.created, "owned_by": self.owned_by}


CATALOGUE: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-5.1", 1762800000),
    ModelInfo("gpt-5", 1754425777),
    ModelInfo("gpt-5-mini", 1754425928),
    ModelInfo("gpt-5-nano", 1754426384),
    ModelInfo("gpt-4.1", 1744316542),
    ModelInfo("gpt-4.1-mini", 1744318173),
    ModelInfo("gpt-4.1-nano", 1744321707),
    ModelInfo("gpt-4o", 1715367049),
    ModelInfo("gpt-4o-mini", 1721172741),
    ModelInfo("o4-mini", 1744225351),
    ModelInfo("o3", 1744225308),
    ModelInfo("o3-mini", 1737146383),
    ModelInfo("gpt-3.5-turbo", 1677610602, "openai"),
    ModelInfo("gpt-3.5-turbo-instruct", 1692901427),
    ModelInfo("text-embedding-3-small", 1705948997),
    ModelInfo("text-embedding-3-large", 1705953180),
    ModelInfo("text-embedding-ada-002", 1671217299, "openai-internal"),
)

_BY_ID = {m.id: m for m in CATALOGUE}
_UNKNOWN_CREATED = 1735689600
"""2025-01-01: the ``created`` of ids not in the catalogue (every model name is accepted)."""


def model_info(model_id: str) -> ModelInfo:
    return _BY_ID.get(model_id) or ModelInfo(model_id, _UNKNOWN_CREATED, "user")


def list_models(call: Call, opts: RenderOptions) -> Answer:
    body = {"object": "list", "data": [m.as_json() for m in CATALOGUE]}
    return json_answer(200, body, base_headers(opts))


def get_model(call: Call, opts: RenderOptions) -> Answer:
    return json_answer(200, model_info(call.params.get("model", "")).as_json(), base_headers(opts))
