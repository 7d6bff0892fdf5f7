"""/api/requests over HTTP, on an app whose journal the test fills by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmreplay.app import create_app
from llmreplay.cassettes.scrub import DEFAULT_SECRET_HEADERS
from llmreplay.runtime import RUNTIME
from tests.conftest import settings
from tests.journal.entries import FAKE_KEY, T0, call, entry


@pytest.fixture
async def client(aiohttp_client: Any) -> Any:
    app = create_app(settings())
    journal = app[RUNTIME].journal
    for n, (test_id, endpoint, model, source) in enumerate(
        [
            ("a", "chat-completions", "gpt-4o", "synthetic"),
            ("b", "messages", "claude", "rule"),
            ("a", "messages", "claude", "cassette"),
            (None, "chat-completions", "gpt-4o", None),
        ],
        start=1,
    ):
        journal.add(entry(n, test_id=test_id, endpoint=endpoint, model=model, source=source))
    return await aiohttp_client(app)


async def ids(client: Any, query: str = "") -> list[int]:
    r = await client.get("/api/requests" + query)
    assert r.status == 200, await r.text()
    return [int(d["id"][4:], 16) for d in await r.json()]


async def test_lists_oldest_first_with_each_filter(client: Any) -> None:
    assert await ids(client) == [1, 2, 3, 4]
    assert await ids(client, "?test_id=a") == [1, 3]
    assert await ids(client, "?endpoint=messages") == [2, 3]
    assert await ids(client, "?model=gpt-4o") == [1, 4]
    assert await ids(client, "?source=cassette") == [3]
    assert await ids(client, "?limit=2") == [3, 4]
    assert await ids(client, f"?since={T0 + 3}") == [3, 4]
    assert await ids(client, "?since=2025-01-01T00:00:02Z") == [2, 3, 4]
    assert await ids(client, "?since=2025-01-01T01:00:02%2B01:00") == [2, 3, 4]
    assert await ids(client, "?since=2025-01-01T00:00:03") == [3, 4]  # no zone: UTC
    assert await ids(client, "?test_id=a&endpoint=messages&limit=5") == [3]


@pytest.mark.parametrize(
    ("query", "field"),
    [("since=yesterday", "since"), ("limit=-1", "limit"), ("limit=many", "limit"), ("testid=a", "testid")],
)
async def test_a_bad_filter_is_422_naming_it(client: Any, query: str, field: str) -> None:
    r = await client.get("/api/requests?" + query)
    assert r.status == 422
    body = await r.json()
    assert body["message"].startswith(f"query.{field}: ")
    assert body["detail"][0]["loc"] == ["query", field]


async def test_one_entry_by_id_or_404(client: Any) -> None:
    r = await client.get(f"/api/requests/{entry(2).id}")
    assert r.status == 200
    d = await r.json()
    assert d["id"] == entry(2).id and d["source"] == "rule" and d["neutral"]["model"] == "claude"
    r = await client.get("/api/requests/req_unknown")
    assert r.status == 404 and "req_unknown" in (await r.json())["message"]


async def test_delete_one_test_then_everything(client: Any) -> None:
    r = await client.delete("/api/requests?test_id=a")
    assert r.status == 200 and await r.json() == {"removed": 2, "test_id": "a"}
    assert await ids(client) == [2, 4]
    r = await client.delete("/api/requests")
    assert await r.json() == {"removed": 2, "test_id": None}
    assert await ids(client) == []
    r = await client.delete("/api/requests?test=a")
    assert r.status == 422


async def test_no_secret_reaches_the_output(aiohttp_client: Any) -> None:
    app = create_app(settings())
    headers = {name: FAKE_KEY for name in DEFAULT_SECRET_HEADERS} | {"authorization": f"Bearer {FAKE_KEY}"}
    e = entry(1, call=call(headers=headers, key=FAKE_KEY))
    app[RUNTIME].journal.add(e)
    client = await aiohttp_client(app)
    listed = await (await client.get("/api/requests")).text()
    one = await (await client.get(f"/api/requests/{e.id}")).text()
    assert FAKE_KEY not in listed and FAKE_KEY not in one
    assert json.loads(one)["request"]["headers"]["x-api-key"] == "[redacted]"


async def test_the_openapi_document_lists_the_filters(client: Any) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    params = {p["name"]: p for p in doc["paths"]["/api/requests"]["get"]["parameters"]}
    assert set(params) == {"test_id", "endpoint", "model", "source", "since", "limit"}
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 0} and params["limit"]["in"] == "query"
    assert [p["name"] for p in doc["paths"]["/api/requests"]["delete"]["parameters"]] == ["test_id"]
    assert "404" in doc["paths"]["/api/requests/{id}"]["get"]["responses"]
