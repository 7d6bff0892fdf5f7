"""/api/rules: list, replace, add, clear and reset, validated whole (422 with field errors, nothing changed)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from llmreplay.server import BackgroundServer

HELLO = {"name": "hello", "match": {"last_user": "hello"}, "reply": {"text": "Hi!"}}
OTHER = {"name": "other", "reply": {"text": "Other."}}


@pytest.fixture
def api(make_server) -> Iterator[httpx2.Client]:
    server: BackgroundServer = make_server()
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        yield c


def _names(api: httpx2.Client, test_id: str | None = None) -> list[str]:
    r = api.get("/api/rules", params={"test_id": test_id} if test_id else None)
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()["rules"]]


def test_put_replaces_post_adds_first_delete_clears(api):
    r = api.put("/api/rules", json={"rules": [HELLO]})
    assert r.status_code == 200 and [x["name"] for x in r.json()["rules"]] == ["hello"]
    assert api.post("/api/rules", json=[OTHER]).status_code == 200  # a bare list too
    assert _names(api) == ["other", "hello"]
    assert api.put("/api/rules", json=[OTHER]).status_code == 200
    assert _names(api) == ["other"]
    r = api.delete("/api/rules")
    assert r.status_code == 200 and r.json() == {"cleared": "all"}
    assert _names(api) == []


def test_test_scoped_rules(api):
    api.put("/api/rules", json={"rules": [OTHER]})
    assert api.post("/api/rules", params={"test_id": "t1"}, json={"rules": [HELLO]}).status_code == 200
    assert api.post("/api/rules", json={"test_id": "t2", "rules": [HELLO]}).status_code == 200
    assert _names(api, "t1") == ["hello", "other"]
    listed = api.get("/api/rules").json()["rules"]
    assert [(x["name"], x["test_id"]) for x in listed] == [("other", None), ("hello", "t1"), ("hello", "t2")]
    assert api.delete("/api/rules", params={"test_id": "t1"}).json() == {"cleared": "t1"}
    assert _names(api, "t1") == ["other"]
    assert _names(api, "t2") == ["hello", "other"]


def test_a_bad_body_is_422_with_every_problem_and_changes_nothing(api):
    api.put("/api/rules", json={"rules": [HELLO]})
    bad = {"rules": [{"name": "a", "match": {"model": 5}, "reply": {"text": "x"}}, {"reply": {}}]}
    r = api.put("/api/rules", json=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["message"].startswith("body.rules.0.match.model: expected a string or a test")
    assert [d["loc"] for d in body["detail"]] == [["body", "rules", 0, "match", "model"], ["body", "rules", 1, "reply"]]
    assert all(set(d) == {"loc", "msg", "type"} for d in body["detail"])
    assert _names(api) == ["hello"]
    for junk in (b"{", b'"x"', b"3"):
        r = api.post("/api/rules", content=junk, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
    r = api.put("/api/rules", params={"test_id": "a"}, json={"test_id": "b", "rules": []})
    assert r.status_code == 422 and "differs" in r.json()["message"]
    r = api.get("/api/rules", params={"test_id": ""})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "test_id"]
    assert _names(api) == ["hello"]


def test_counts_and_reset(api):
    api.put("/api/rules", json={"rules": [{"name": "s", "steps": [{"text": "one"}, {"text": "two"}]}]})
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    texts = [api.post("/v1/chat/completions", json=chat).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert texts == ["one", "two", "two"]
    assert api.get("/api/rules").json()["rules"][0]["matches"] == 3
    assert api.post("/api/rules/reset").json() == {"reset": "all"}
    assert api.get("/api/rules").json()["rules"][0]["matches"] == 0
    assert api.post("/v1/chat/completions", json=chat).json()["choices"][0]["message"]["content"] == "one"
