"""The admin REST API under /api, driven over HTTP against real servers.

Read-only checks use the shared ``server``; anything that changes configuration,
metrics, quotas or scenarios starts its own with ``make_server``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from llmreplay.control.admin import ROUTES
from llmreplay.control.live import ENDPOINTS
from llmreplay.control.original import endpoint_ids
from llmreplay.server import BackgroundServer

CHAT = "/v1/chat/completions"
HELLO = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**HELLO, "stream": True}

MakeServer = Callable[..., BackgroundServer]


def client_of(server: BackgroundServer) -> httpx2.Client:
    return httpx2.Client(base_url=server.url, timeout=10)


@pytest.fixture
def shared(server: BackgroundServer) -> Iterator[httpx2.Client]:
    """A client of the shared server: read-only requests only."""
    with client_of(server) as c:
        yield c


@pytest.fixture
def api(make_server: MakeServer) -> Iterator[httpx2.Client]:
    """A client of a fresh server this test may change at will."""
    with client_of(make_server()) as c:
        yield c


def chat(c: httpx2.Client, body: dict[str, Any] = HELLO, **headers: str) -> httpx2.Response:
    return c.post(CHAT, json=body, headers=headers)


def data_lines(r: httpx2.Response) -> int:
    return sum(1 for line in r.text.splitlines() if line.startswith("data:"))


def assert_field_error(r: httpx2.Response, loc: list[str | int]) -> None:
    assert r.status_code == 422, r.text
    body = r.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["detail"], list) and body["detail"]
    for err in body["detail"]:
        assert set(err) == {"loc", "msg", "type"}
    # A union field reports one error per member, under loc + [member]: match by prefix.
    assert any(e["loc"][: len(loc)] == loc for e in body["detail"]), body["detail"]


# ---- configuration ---------------------------------------------------------------------------------------------


def test_get_config_has_global_and_endpoints(shared: httpx2.Client) -> None:
    r = shared.get("/api/config")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"global", "endpoints"}
    own = {"enabled", "latency", "rate_limit", "failures", "tool_call_probability", "default_response"}
    # llmreplay's fields, and beside them the original server's (control/original.py; tests/compat).
    assert own <= set(body["global"]) and "streamDelayMs" in body["global"]
    assert {"initial_delay_ms", "delay_ms", "jitter_ms", "chunk_size"} <= set(body["global"]["latency"])
    # The conftest's FAST settings reach the live configuration.
    assert body["global"]["latency"]["delay_ms"] == 0


def test_patch_global_is_partial_and_applies_to_the_next_stream(api: httpx2.Client) -> None:
    before = api.get("/api/config").json()["global"]
    counts = {}
    for size in (1, 1_000_000):
        r = api.patch("/api/config/global", json={"latency": {"chunk_size": size}})
        assert r.status_code == 200, r.text
        assert r.json()["latency"]["chunk_size"] == size
        reply = chat(api, STREAM, **{"x-llmreplay-seed": "7"})
        assert reply.status_code == 200
        counts[size] = data_lines(reply)
    # Same seed, same text: one character per chunk makes many more chunks than one chunk for all.
    assert counts[1] > counts[1_000_000] + 10
    after = api.get("/api/config").json()["global"]
    # Only chunk_size moved; its siblings and other sections were kept.
    assert after["latency"] == {**before["latency"], "chunk_size": 1_000_000}
    moved = {"latency", "streamChunkSize"}  # the same field in the original's name
    assert after["streamChunkSize"] == 1_000_000
    assert {k: v for k, v in after.items() if k not in moved} == {k: v for k, v in before.items() if k not in moved}


def test_patch_global_failures_take_effect(api: httpx2.Client) -> None:
    assert chat(api).status_code == 200
    r = api.patch("/api/config/global", json={"failures": {"error_rate": 1.0, "kinds": {"503": 1.0}}})
    assert r.status_code == 200, r.text
    assert r.json()["failures"]["kinds"] == {"503": 1.0}
    assert chat(api).status_code == 503
    api.patch("/api/config/global", json={"failures": {"error_rate": 0.0}})
    assert chat(api).status_code == 200


BAD_GLOBAL: list[tuple[str, bytes, list[str | int]]] = [
    ("wrong type", b'{"latency": {"chunk_size": "big"}}', ["latency", "chunk_size"]),
    ("wrong type section", b'{"latency": 5}', ["latency"]),
    ("below range", b'{"latency": {"chunk_size": 0}}', ["latency", "chunk_size"]),
    ("above range", b'{"failures": {"error_rate": 1.5}}', ["failures", "error_rate"]),
    ("negative", b'{"latency": {"delay_ms": -1}}', ["latency", "delay_ms"]),
    ("unknown strategy", b'{"rate_limit": {"strategy": "nope"}}', ["rate_limit", "strategy"]),
    ("bad fault kind", b'{"failures": {"kinds": {"disconnect@x": 1}}}', ["failures", "kinds"]),
    ("unknown field", b'{"nope": 1}', ["nope"]),
    ("unknown nested field", b'{"latency": {"nope": 1}}', ["latency", "nope"]),
    ("non-object JSON", b"[1, 2]", ["body"]),
    ("JSON string", b'"latency"', ["body"]),
    ("malformed JSON", b'{"latency": ', ["body"]),
    ("not UTF-8", b"\xff\xfe{", ["body"]),
]


@pytest.mark.parametrize(("raw", "loc"), [(raw, loc) for _, raw, loc in BAD_GLOBAL], ids=[c[0] for c in BAD_GLOBAL])
def test_patch_global_bad_body_is_422_and_changes_nothing(api: httpx2.Client, raw: bytes, loc: list[str | int]) -> None:
    before = api.get("/api/config").json()
    r = api.patch("/api/config/global", content=raw, headers={"content-type": "application/json"})
    assert_field_error(r, loc)
    assert api.get("/api/config").json() == before


def test_patch_global_mixed_good_and_bad_changes_nothing(api: httpx2.Client) -> None:
    before = api.get("/api/config").json()
    r = api.patch("/api/config/global", json={"latency": {"chunk_size": 3}, "failures": {"error_rate": 2}})
    assert_field_error(r, ["failures", "error_rate"])
    assert api.get("/api/config").json() == before


@pytest.mark.parametrize(
    "raw",
    [b'{"failures": {"retry_after_ms": Infinity}}', b'{"failures": {"kinds": {"500": Infinity}}}'],
    ids=["retry_after_ms", "kind weight"],
)
def test_patch_global_rejects_infinity(api: httpx2.Client, raw: bytes) -> None:
    before = api.get("/api/config").json()
    r = api.patch("/api/config/global", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert api.get("/api/config").json() == before


def test_get_endpoints_lists_every_endpoint(shared: httpx2.Client) -> None:
    r = shared.get("/api/config/endpoints")
    assert r.status_code == 200
    body = r.json()
    assert list(body) == endpoint_ids() and set(ENDPOINTS) <= set(body)
    glob = shared.get("/api/config").json()["global"]
    for entry in body.values():
        assert {"overrides", "effective"} <= set(entry)
        assert set(entry["effective"]) == {"enabled", "latency", "rate_limit", "failures"}
        assert entry["effective"]["latency"] == glob["latency"]


def test_patch_endpoint_overrides_only_that_endpoint(api: httpx2.Client) -> None:
    r = api.patch("/api/config/endpoints/chat-completions", json={"failures": {"error_rate": 1, "kinds": {"502": 1}}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["endpoint"] == "chat-completions"
    assert body["overrides"] == {"failures": {"error_rate": 1, "kinds": {"502": 1}}}
    assert body["effective"]["failures"]["error_rate"] == 1
    assert chat(api).status_code == 502
    # Other endpoints and the global section are untouched.
    assert api.get("/api/config").json()["global"]["failures"]["error_rate"] == 0
    emb = api.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "hi"})
    assert emb.status_code == 200
    listing = api.get("/api/config/endpoints").json()
    assert listing["chat-completions"]["effective"]["failures"]["kinds"] == {"502": 1}
    assert listing["embeddings"]["overrides"] == {}
    listed = api.get("/api/config").json()["endpoints"]
    assert set(listed) == {"chat-completions", "openai-chat"}  # its llmreplay name and the original's id
    assert {k: v for k, v in listed["chat-completions"].items() if k in body["overrides"]} == body["overrides"]


def test_patch_endpoint_merges_with_earlier_overrides(api: httpx2.Client) -> None:
    api.patch("/api/config/endpoints/messages", json={"latency": {"chunk_size": 4}})
    r = api.patch("/api/config/endpoints/messages", json={"latency": {"jitter_ms": 2}})
    assert r.json()["overrides"] == {"latency": {"chunk_size": 4, "jitter_ms": 2}}


def test_global_change_reaches_endpoints_without_their_own_override(api: httpx2.Client) -> None:
    api.patch("/api/config/endpoints/messages", json={"latency": {"chunk_size": 4}})
    api.patch("/api/config/global", json={"latency": {"chunk_size": 9, "jitter_ms": 3}})
    listing = api.get("/api/config/endpoints").json()
    assert listing["messages"]["effective"]["latency"]["chunk_size"] == 4
    assert listing["messages"]["effective"]["latency"]["jitter_ms"] == 3
    assert listing["gemini"]["effective"]["latency"]["chunk_size"] == 9


def assert_unknown_endpoint(r: httpx2.Response, name: str) -> None:
    """The original server's answer (400, ``error``), with llmreplay's ``message`` naming the known ids."""
    assert r.status_code == 400, r.text
    assert r.json()["error"] == f"Unknown endpoint: {name}"
    assert name in r.json()["message"] and "chat-completions" in r.json()["message"]


def test_patch_unknown_endpoint_is_400(api: httpx2.Client) -> None:
    before = api.get("/api/config").json()
    r = api.patch("/api/config/endpoints/nope", json={"latency": {"chunk_size": 2}})
    assert_unknown_endpoint(r, "nope")
    assert api.get("/api/config").json() == before


BAD_ENDPOINT: list[tuple[str, bytes, list[str | int]]] = [
    ("wrong type", b'{"latency": {"delay_ms": "slow"}}', ["latency", "delay_ms"]),
    ("out of range", b'{"rate_limit": {"probability": 2}}', ["rate_limit", "probability"]),
    ("unknown field", b'{"colour": "red"}', ["colour"]),
    ("global only", b'{"tool_call_probability": 0.1}', ["tool_call_probability"]),
    ("non-object JSON", b"3", ["body"]),
    ("malformed JSON", b"{,}", ["body"]),
]


@pytest.mark.parametrize(("raw", "loc"), [(raw, loc) for _, raw, loc in BAD_ENDPOINT], ids=[c[0] for c in BAD_ENDPOINT])
def test_patch_endpoint_bad_body_is_422_and_changes_nothing(
    api: httpx2.Client, raw: bytes, loc: list[str | int]
) -> None:
    api.patch("/api/config/endpoints/responses", json={"latency": {"chunk_size": 3}})
    before = (api.get("/api/config").json(), api.get("/api/config/endpoints").json())
    r = api.patch("/api/config/endpoints/responses", content=raw, headers={"content-type": "application/json"})
    assert_field_error(r, loc)
    assert (api.get("/api/config").json(), api.get("/api/config/endpoints").json()) == before


def test_delete_endpoint_clears_its_overrides(api: httpx2.Client) -> None:
    api.patch("/api/config/endpoints/chat-completions", json={"failures": {"error_rate": 1, "kinds": {"500": 1}}})
    assert chat(api).status_code == 500
    r = api.delete("/api/config/endpoints/chat-completions")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("endpoint", "overrides")} == {"endpoint": "chat-completions", "overrides": {}}
    assert body["config"]["failures"]["error_rate"] == 0
    assert api.get("/api/config").json()["endpoints"] == {}
    assert chat(api).status_code == 200
    # Clearing an endpoint without overrides is fine; an unknown one is not.
    assert api.delete("/api/config/endpoints/gemini").status_code == 200
    assert_unknown_endpoint(api.delete("/api/config/endpoints/nope"), "nope")


def test_reset_config_restores_the_start(api: httpx2.Client) -> None:
    start = api.get("/api/config").json()
    api.patch("/api/config/global", json={"latency": {"chunk_size": 2}, "tool_call_probability": 0.0})
    api.patch("/api/config/endpoints/embeddings", json={"latency": {"delay_ms": 5}})
    assert api.get("/api/config").json() != start
    r = api.post("/api/config/reset")
    assert r.status_code == 200
    assert {k: r.json()[k] for k in ("global", "endpoints")} == start == r.json()["config"]
    assert api.get("/api/config").json() == start


# ---- metrics ---------------------------------------------------------------------------------------------------


def test_metrics_count_requests_per_endpoint_and_status(api: httpx2.Client) -> None:
    for _ in range(3):
        assert chat(api).status_code == 200
    assert chat(api, **{"x-llmreplay-status": "429"}).status_code == 429
    assert api.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 200
    r = api.get("/api/metrics")
    assert r.status_code == 200
    m = r.json()
    assert {"uptime_s", "started_at", "totals", "endpoints"} <= set(m)
    cc = m["endpoints"]["chat-completions"]
    assert cc["requests"] == 4
    assert cc["status_codes"] == {"200": 3, "429": 1}
    assert cc["faults"] == {"429": 1}
    assert m["endpoints"]["embeddings"]["requests"] == 1
    assert m["totals"]["requests"] == 5
    assert m["totals"]["errors"] == 1


def test_latency_percentiles(api: httpx2.Client) -> None:
    chat(api)
    chat(api, STREAM)
    r = api.get("/api/metrics/latency/chat-completions")
    assert r.status_code == 200
    body = r.json()
    assert body["endpoint"] == "chat-completions" and body["count"] == 2
    for part in ("ttfb", "total"):
        for p in ("p50", "p90", "p95", "p99"):
            assert isinstance(body[part][p], float) and body[part][p] >= 0
        assert body[part]["p50"] <= body[part]["p99"]


def test_latency_of_unknown_endpoint_is_400(shared: httpx2.Client) -> None:
    assert_unknown_endpoint(shared.get("/api/metrics/latency/nope"), "nope")


def test_reset_metrics(api: httpx2.Client) -> None:
    chat(api)
    assert api.get("/api/metrics").json()["totals"]["requests"] == 1
    r = api.post("/api/metrics/reset")
    assert r.status_code == 200
    m = api.get("/api/metrics").json()
    assert m["totals"]["requests"] == 0
    assert all(e["requests"] == 0 for e in m["endpoints"].values())


def test_detailed_metrics(api: httpx2.Client) -> None:
    chat(api, STREAM)
    r = api.get("/api/detailed-metrics")
    assert r.status_code == 200
    body = r.json()
    assert {"totals", "endpoints", "histograms", "series"} <= set(body)
    assert body["endpoints"]["chat-completions"]["requests"] == 1


def test_export_json(api: httpx2.Client) -> None:
    chat(api)
    r = api.get("/api/detailed-metrics/export/json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"] and ".json" in r.headers["content-disposition"]
    body = json.loads(r.content)
    assert body["totals"]["requests"] == 1 and "series" in body


def test_export_csv(api: httpx2.Client) -> None:
    empty = list(csv.reader(io.StringIO(api.get("/api/detailed-metrics/export/csv").text)))
    assert empty and "endpoint" in empty[0]
    chat(api)
    chat(api)
    r = api.get("/api/detailed-metrics/export/csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows
    assert {"second", "endpoint", "requests"} <= set(rows[0])
    cc = [row for row in rows if row["endpoint"] == "chat-completions"]
    assert sum(int(row["requests"]) for row in cc) == 2
    width = len(empty[0])
    assert all(len(row) == width for row in csv.reader(io.StringIO(r.text)))


# ---- rate limits -----------------------------------------------------------------------------------------------

FIXED_TWO = {"rate_limit": {"enabled": True, "strategy": "fixed-window", "requests": 2, "window_ms": 600_000}}


def _exhaust(api: httpx2.Client) -> None:
    assert [chat(api).status_code for _ in range(3)] == [200, 200, 429]


def test_rate_limit_reset_all_lets_the_next_request_through(api: httpx2.Client) -> None:
    assert api.patch("/api/config/global", json=FIXED_TWO).status_code == 200
    _exhaust(api)
    r = api.post("/api/rate-limit/reset")
    assert r.status_code == 200 and r.json()["reset"] == "all"
    assert chat(api).status_code == 200


def test_rate_limit_reset_one_endpoint(api: httpx2.Client) -> None:
    assert api.patch("/api/config/global", json=FIXED_TWO).status_code == 200
    _exhaust(api)
    # Resetting another endpoint leaves this one's window exhausted.
    assert api.post("/api/rate-limit/reset/embeddings").status_code == 200
    assert chat(api).status_code == 429
    r = api.post("/api/rate-limit/reset/chat-completions")
    assert r.status_code == 200 and r.json()["reset"] == "chat-completions"
    assert chat(api).status_code == 200


def test_rate_limit_reset_unknown_endpoint_is_400(shared: httpx2.Client) -> None:
    assert_unknown_endpoint(shared.post("/api/rate-limit/reset/nope"), "nope")


def test_rate_limit_strategies(shared: httpx2.Client) -> None:
    r = shared.get("/api/rate-limit/strategies")
    assert r.status_code == 200
    body = r.json()
    names = [s["name"] for s in body]
    assert sorted(names) == sorted(
        ["none", "fixed-window", "sliding-window", "token-bucket", "leaky-bucket", "after-n", "random", "always"]
    )
    for s in body:
        assert s["description"] and isinstance(s["parameters"], list)


# ---- failure modes and scenarios -------------------------------------------------------------------------------


def test_failure_modes(shared: httpx2.Client) -> None:
    r = shared.get("/api/failure-modes")
    assert r.status_code == 200
    modes = {m["name"]: m for m in r.json()}
    for name in ("429", "529", "timeout", "disconnect", "stall", "malformed", "stream-error", "truncate"):
        assert name in modes, name
    for m in modes.values():
        assert set(m) >= {"name", "description", "syntax"}
        assert m["description"] and m["syntax"]
    assert "@" in modes["disconnect"]["syntax"] and "@" in modes["stall"]["syntax"]


def test_named_scenario_lifecycle(api: httpx2.Client) -> None:
    assert api.get("/api/scenarios").json() == []
    r = api.put("/api/scenarios/flaky", json={"steps": "429,503,ok"})
    assert r.status_code == 200
    assert r.json() == {"name": "flaky", "steps": ["429", "503", "ok"]}
    assert api.get("/api/scenarios").json() == [{"name": "flaky", "steps": ["429", "503", "ok"]}]

    def step(key: str) -> int:
        return chat(api, **{"x-llmreplay-scenario": "@flaky", "x-llmreplay-scenario-key": key}).status_code

    assert [step("a") for _ in range(4)] == [429, 503, 200, 200]
    assert step("b") == 429  # keys are independent
    assert api.post("/api/scenarios/reset").json() == {"reset": True}
    assert step("a") == 429

    # Replacing a scenario restarts its keys on the new steps; a list is accepted too.
    assert api.put("/api/scenarios/flaky", json={"steps": ["500", "ok"]}).status_code == 200
    assert [step("a"), step("a")] == [500, 200]

    r = api.delete("/api/scenarios/flaky")
    assert r.status_code == 200 and r.json() == {"deleted": "flaky"}
    assert api.get("/api/scenarios").json() == []
    gone = chat(api, **{"x-llmreplay-scenario": "@flaky"})
    assert gone.status_code == 400 and "flaky" in gone.text
    assert api.delete("/api/scenarios/flaky").status_code == 404


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"steps": "429,bogus"}', ["steps"]),
        (b'{"steps": ""}', ["steps"]),
        (b'{"steps": []}', ["steps"]),
        (b'{"steps": 5}', ["steps"]),
        (b"{}", ["steps"]),
        (b'{"steps": "ok", "extra": 1}', ["extra"]),
        (b"[]", ["body"]),
        (b"{oops", ["body"]),
    ],
)
def test_put_scenario_bad_body_is_422(api: httpx2.Client, raw: bytes, loc: list[str | int]) -> None:
    api.put("/api/scenarios/keep", json={"steps": "429"})
    r = api.put("/api/scenarios/keep", content=raw, headers={"content-type": "application/json"})
    assert_field_error(r, loc)
    assert api.get("/api/scenarios").json() == [{"name": "keep", "steps": ["429"]}]


# ---- OpenAPI document ------------------------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_openapi_document(shared: httpx2.Client) -> None:
    r = shared.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    listed = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert listed == {(m, p) for m, p, _, _ in ROUTES}
    op_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(op_ids) == len(set(op_ids)), "operationIds must be unique"
    bodies = 0
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "200" in op["responses"]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            if "requestBody" in op:
                bodies += 1
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.startswith("#/components/schemas/")
                assert _resolve(doc, ref)["type"] == "object"
    assert bodies == 6  # config global and endpoint, scenario, rules (PUT and POST), cassettes (POST)
    refs = list(_refs(doc))
    assert refs
    for ref in refs:
        _resolve(doc, ref)


def test_openapi_document_passes_a_validator(shared: httpx2.Client) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(shared.get("/api/openapi.json").json())


# ---- unknown paths, wrong methods, never a 500 ----------------------------------------------------------------


def test_unknown_api_path_is_json_404(shared: httpx2.Client) -> None:
    for path in ("/api/nope", "/api/config/nope/deeper", "/api/metrics/latency"):
        r = shared.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/json")
        assert "message" in r.json()


def test_wrong_method_is_json_405(shared: httpx2.Client) -> None:
    for method, path in (("POST", "/api/config"), ("DELETE", "/api/metrics"), ("GET", "/api/config/reset")):
        r = shared.request(method, path)
        assert r.status_code == 405, (method, path)
        assert r.headers["content-type"].startswith("application/json")
        assert method in r.json()["message"]


def _concrete(path: str) -> str:
    return path.replace("{endpoint}", "chat-completions").replace("{name}", "probe")


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_no_route_answers_500(make_server: MakeServer, method: str) -> None:
    junk = [b"", b"\xff\x00garbage", b"null", b'{"latency": {"chunk_size": null}}', b'{"steps": null}']
    with client_of(make_server()) as c:
        for path in sorted({p for _, p, _, _ in ROUTES}):
            for raw in junk:
                r = c.request(method, _concrete(path), content=raw, headers={"content-type": "application/json"})
                assert r.status_code < 500, (method, path, raw, r.text)
                if not r.headers["content-type"].startswith("text/csv"):
                    r.json()
