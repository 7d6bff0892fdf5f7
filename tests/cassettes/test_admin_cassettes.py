"""Cassettes loaded, listed, unloaded and reloaded through the admin API of a running server, and replayed to
the OpenAI SDK (``/api/cassettes``)."""

from __future__ import annotations

from pathlib import Path

import httpx2
import openai
import pytest

from llmreplay.cassettes.store import load
from llmreplay.server import BackgroundServer
from tests.cassettes.recorded_kit import ask, client, replayer
from tests.conftest import settings

pytestmark = pytest.mark.sdk


def test_a_shared_server_loads_a_cassette_and_replays_it(tmp_path: Path, alpha_beta: Path) -> None:
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        sdk = client(f"{server.url}/v1")
        with pytest.raises(openai.BadRequestError) as missed:
            ask(sdk)
        assert missed.value.code == "cassette_miss"

        r = admin.post("/api/cassettes", json={"path": str(alpha_beta / "alpha.msgpack")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["loaded"] == ["alpha"] and body["interactions"] == 1
        assert [c["name"] for c in body["cassettes"]] == ["alpha"]

        text, headers = ask(sdk)
        assert text == "Alpha answers."
        assert headers["x-llmreplay-cassette"] == "alpha#0"

        assert admin.delete("/api/cassettes/alpha").json()["cassettes"] == []
        with pytest.raises(openai.BadRequestError):
            ask(sdk)


def test_a_file_loads_under_a_name_and_a_folder_loads_every_cassette(tmp_path: Path, alpha_beta: Path) -> None:
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        r = admin.post("/api/cassettes", json={"path": str(alpha_beta / "beta.msgpack"), "name": "my-test"})
        assert r.json()["loaded"] == ["my-test"]
        _, headers = ask(client(f"{server.url}/v1", **{"x-llmreplay-cassette": "my-test"}))
        assert headers["x-llmreplay-cassette"] == "my-test#0"

        r = admin.post("/api/cassettes", json={"path": str(alpha_beta)})
        assert sorted(r.json()["loaded"]) == ["alpha", "beta"]
        listed = {c["name"]: c for c in admin.get("/api/cassettes").json()["cassettes"]}
        assert sorted(listed) == ["alpha", "beta", "my-test"]
        assert listed["alpha"]["interactions"] == 1 and listed["alpha"]["path"] == str(alpha_beta / "alpha.msgpack")


def test_a_name_alone_loads_that_cassette_from_the_servers_folder(tmp_path: Path, alpha_beta: Path) -> None:
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        (tmp_path / "gamma.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
        assert admin.post("/api/cassettes", json={"name": "gamma"}).json()["loaded"] == ["gamma"]
        assert ask(client(f"{server.url}/v1", **{"x-llmreplay-cassette": "gamma"}))[0] == "Alpha answers."


def test_reload_reads_the_file_again(tmp_path: Path, alpha_beta: Path) -> None:
    target = tmp_path / "cassettes"
    target.mkdir()
    (target / "live.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    with replayer(target) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        sdk = client(f"{server.url}/v1")
        assert ask(sdk)[0] == "Alpha answers."
        (target / "live.msgpack").write_bytes((alpha_beta / "beta.msgpack").read_bytes())
        assert ask(sdk)[0] == "Alpha answers."  # read once, until asked to read it again
        assert admin.post("/api/cassettes/live/reload").json()["reloaded"] == ["live"]
        assert ask(sdk)[0] == "Beta answers."
        (target / "live.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
        assert admin.post("/api/cassettes/reload").json()["reloaded"] == ["live"]
        assert ask(sdk)[0] == "Alpha answers."


def test_bad_requests_get_field_errors_and_nothing_changes(tmp_path: Path, alpha_beta: Path) -> None:
    (tmp_path / "broken.msgpack").write_bytes(b"not a cassette")
    with replayer(tmp_path / "none") as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        cases = [
            ({}, ["body"], "give a path, a name, or both"),
            ({"path": str(tmp_path / "missing.msgpack")}, ["body", "path"], "no such file or folder"),
            ({"path": str(tmp_path / "broken.msgpack")}, ["body", "path"], "not an llmreplay cassette"),
            ({"path": str(alpha_beta / "alpha.msgpack"), "name": "a/b"}, ["body", "name"], "must not contain"),
            ({"path": str(alpha_beta), "name": "x"}, ["body", "path"], "a folder's cassettes take their file names"),
            ({"path": 3}, ["body", "path"], "string"),
            ({"path": "x", "extra": 1}, ["body", "extra"], "Extra inputs"),
        ]
        for data, loc, msg in cases:
            r = admin.post("/api/cassettes", json=data)
            assert r.status_code == 422, (data, r.text)
            first = r.json()["detail"][0]
            assert first["loc"][: len(loc)] == loc and msg in first["msg"], (data, first)
        assert admin.post("/api/cassettes", content=b"[1, 2]").status_code == 422
        assert admin.get("/api/cassettes").json()["cassettes"] == []
        assert admin.delete("/api/cassettes/nope").status_code == 404
        assert admin.post("/api/cassettes/nope/reload").status_code == 404


def test_a_reload_that_cannot_read_keeps_what_is_in_play(tmp_path: Path, alpha_beta: Path) -> None:
    (tmp_path / "live.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        (tmp_path / "live.msgpack").write_bytes(b"\x00garbage")
        r = admin.post("/api/cassettes/reload")
        assert r.status_code == 422 and "not reloaded" in r.json()["message"]
        assert ask(client(f"{server.url}/v1"))[0] == "Alpha answers."


def test_a_server_without_cassettes_says_how_to_get_some(make_server) -> None:
    server = make_server()
    with httpx2.Client(base_url=server.url, timeout=10) as admin:
        r = admin.post("/api/cassettes", json={"name": "x"})
        assert r.status_code == 409 and "--cassettes DIR" in r.json()["message"]
        assert admin.get("/api/cassettes").status_code == 409


def test_a_cassette_named_but_not_loaded_is_a_miss_that_says_so(tmp_path: Path, alpha_beta: Path) -> None:
    with replayer(alpha_beta) as server:
        with pytest.raises(openai.BadRequestError) as missed:
            ask(client(f"{server.url}/v1", **{"x-llmreplay-cassette": "gone"}))
        assert "no cassette named 'gone' is loaded" in missed.value.message and "alpha, beta" in missed.value.message
        with pytest.raises(openai.BadRequestError) as bad:
            ask(client(f"{server.url}/v1", **{"x-llmreplay-cassette": "../etc"}))
        assert "Invalid header x-llmreplay-cassette" in bad.value.message


def test_new_episodes_records_into_the_cassette_a_request_names(tmp_path: Path) -> None:
    upstream = settings(synthetic={"default_response": "Live answer.", "tool_call_probability": 0})
    with BackgroundServer(upstream) as up:
        cs = {"dir": str(tmp_path), "upstream": up.url, "record_mode": "new_episodes", "speed": 0}
        with BackgroundServer(settings(cassettes=cs)) as server:
            sdk = client(f"{server.url}/v1", **{"x-llmreplay-cassette": "per-test"})
            text, headers = ask(sdk)
            assert text == "Live answer." and headers["x-llmreplay-source"].endswith("upstream")
            assert headers["x-llmreplay-cassette"] == "per-test"
            # Recorded, and replayable at once from that cassette.
            assert ask(sdk)[1]["x-llmreplay-cassette"] == "per-test#0"
    assert len(load(tmp_path / "per-test.msgpack").interactions) == 1
    assert not (tmp_path / "recorded.msgpack").exists() or not load(tmp_path / "recorded.msgpack").interactions
