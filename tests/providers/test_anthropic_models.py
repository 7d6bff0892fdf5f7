"""Anthropic's models list and single model: shape, pagination, and the SDK's own types."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types import ModelInfo as SDKModelInfo

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call
from llmreplay.providers.anthropic_models import CATALOGUE, display_name, get_model, list_models
from llmreplay.providers.base import RenderOptions

OPTS = RenderOptions(request_id="ab" * 16)
IDS = [m.id for m in CATALOGUE]


def listing(**query: str) -> dict[str, Any]:
    answer = list_models(Call("GET", "/v1/models", query=query), OPTS)
    assert answer.status == 200 and dict(answer.headers)["request-id"].startswith("req_")
    return json.loads(answer.body)


def test_default_page_holds_everything():
    body = listing()
    assert [m["id"] for m in body["data"]] == IDS and len(IDS) >= 3
    assert body["has_more"] is False and (body["first_id"], body["last_id"]) == (IDS[0], IDS[-1])
    for m in body["data"]:
        info = SDKModelInfo.model_validate(m)
        assert info.type == "model" and info.display_name and info.created_at.year >= 2024


def test_pages_forward_and_back():
    first = listing(limit="2")
    assert [m["id"] for m in first["data"]] == IDS[:2] and first["has_more"] is True
    second = listing(limit="2", after_id=first["last_id"])
    assert [m["id"] for m in second["data"]] == IDS[2:4]
    last = listing(limit="3", after_id=IDS[-3])
    assert [m["id"] for m in last["data"]] == IDS[-2:] and last["has_more"] is False
    back = listing(limit="2", before_id=IDS[4])
    assert [m["id"] for m in back["data"]] == IDS[2:4] and back["has_more"] is True
    start = listing(limit="5", before_id=IDS[2])
    assert [m["id"] for m in start["data"]] == IDS[:2] and start["has_more"] is False
    empty = listing(after_id=IDS[-1])
    assert empty == {"data": [], "has_more": False, "first_id": None, "last_id": None}


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"after_id": "nope"}, "after_id"),
    ],
)
def test_bad_queries(query, param):
    with pytest.raises(ApiError) as info:
        list_models(Call("GET", "/v1/models", query=query), OPTS)
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.param == param


def test_any_model_id_is_answered():
    known = json.loads(get_model(Call("GET", "/v1/models/x", params={"model": IDS[0]}), OPTS).body)
    assert known == CATALOGUE[0].as_json()
    made_up = json.loads(get_model(Call("GET", "/v1/models/x", params={"model": "claude-custom"}), OPTS).body)
    assert SDKModelInfo.model_validate(made_up).id == "claude-custom" and made_up["display_name"] == "Claude Custom"


@pytest.mark.parametrize(
    ("model_id", "name"),
    [
        ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"),
        ("claude-opus-4-20250514", "Claude Opus 4"),
        ("claude-3-5-haiku-latest", "Claude 3.5 Haiku Latest"),
        ("my-model", "My Model"),
    ],
)
def test_display_names(model_id, name):
    assert display_name(model_id) == name


def test_sdk_auto_pagination_and_retrieve():
    seen: list[dict[str, str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/v1/models":
            seen.append(dict(request.url.params))
            answer = list_models(Call("GET", path, query=dict(request.url.params)), OPTS)
        else:
            answer = get_model(Call("GET", path, params={"model": path.rsplit("/", 1)[1]}), OPTS)
        return httpx2.Response(answer.status, headers=list(answer.headers), content=answer.body)

    http = anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(handler))
    client = anthropic.Anthropic(base_url="http://llmreplay.test", api_key="x", max_retries=0, http_client=http)
    assert [m.id for m in client.models.list(limit=2)] == IDS
    assert len(seen) == (len(IDS) + 1) // 2 and seen[1]["after_id"] == IDS[1]
    backwards = client.models.list(limit=2, before_id=IDS[-1])
    assert sorted(m.id for m in backwards) == sorted(IDS[:-1])
    model = client.models.retrieve("claude-sonnet-4-5-20250929")
    assert model.display_name == "Claude Sonnet 4.5" and model.created_at.year == 2025
