"""Stale recordings: the server's usage report (``GET /api/cassette-usage``, ``--usage-report`` at shutdown) and
``llmreplay cassettes stale``, on the repository's example cassette and on cassettes the tests write."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import httpx
import openai

from llmreplay.cassettes import store, usage
from llmreplay.cassettes.usage import MAX_MISSES, Usage
from tests import serverproc
from tests.cassettes.test_cli_cassettes import imported, run

EXAMPLES = Path(__file__).parents[2] / "cassettes"
EXAMPLE = EXAMPLES / "example.msgpack"
QUESTION = [{"role": "user", "content": "What is llmreplay?"}]


def _write(path: Path, report: dict) -> Path:
    path.write_text(json.dumps(report))
    return path


def test_usage_counts_merge_and_keep_misses_bounded() -> None:
    u = Usage()
    u.play("example", 0)
    u.play("example", 0)
    u.miss("POST", "/v1/chat/completions", "chat-completions", "gpt-4o", "*", "synthetic")
    u.miss("POST", "/v1/chat/completions", "chat-completions", "gpt-4o", "*", "synthetic")
    report = u.report()
    assert report["played"] == {"example": {"0": 2}}
    assert report["misses"] == [
        {
            "method": "POST",
            "path": "/v1/chat/completions",
            "endpoint": "chat-completions",
            "model": "gpt-4o",
            "cassette": "*",
            "answered_by": "synthetic",
            "count": 2,
        }
    ]
    merged = usage.merge([report, report])
    assert merged["played"] == {"example": {"0": 4}} and merged["misses"][0]["count"] == 4

    many = Usage()
    for i in range(MAX_MISSES + 5):
        many.miss("POST", f"/p/{i}", "other", None, "*", "error")
    assert len(many.report()["misses"]) == MAX_MISSES and many.report()["misses_left_out"] == 5


def test_stale_lists_the_example_recordings_a_run_never_played_and_its_misses(tmp_path: Path) -> None:
    u = Usage()
    u.play("example", 0)
    u.play("example", 2)
    u.miss("POST", "/v1/chat/completions", "chat-completions", "gpt-4o", "*", "synthetic")
    report = _write(tmp_path / "usage.json", u.report())
    code, out, _ = run("stale", str(EXAMPLES), "--usage", str(report))
    at = [it.recorded_at for it in store.load(EXAMPLE).interactions]
    assert code == 1
    assert out.splitlines() == [
        "example: 2 of 4 recordings never used",
        f"  #1 POST /v1/chat/completions gpt-4o-mini (recorded {at[1]})",
        f"  #3 POST /v1/models/gemini-2.5-flash:streamGenerateContent gemini-2.5-flash (recorded {at[3]})",
        "missed: 1 request no recording matched",
        "  1x POST /v1/chat/completions gpt-4o (any cassette; answered by synthetic)",
    ]
    for i in (1, 3):
        u.play("example", i)
    clean = _write(tmp_path / "all.json", {**u.report(), "misses": []})
    code, out, _ = run("stale", str(EXAMPLE), "--usage", str(clean))
    assert (code, out.splitlines()) == (0, ["example: all 4 recordings used", "missed: none"])


def test_stale_on_a_cassette_the_tests_wrote_and_its_errors(tmp_path: Path) -> None:
    path = imported(tmp_path)  # my_test.msgpack, two recordings imported from vcr
    report = _write(tmp_path / "u.json", Usage().report())
    code, out, _ = run("stale", str(path), "--usage", str(report))
    assert code == 1 and out.splitlines()[0] == "my_test: 2 of 2 recordings never used"
    assert "(recorded at an unknown time; imported from vcr)" in out
    bad = _write(tmp_path / "bad.json", {"format": "other"})
    for args in (
        ("stale", str(path), "--usage", str(bad)),
        ("stale", str(tmp_path / "nope"), "--usage", str(report)),
        ("stale", str(path), "--usage", str(tmp_path / "none.json")),
    ):
        code, _, err = run(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("llmreplay: error:"), args
    code, _, err = run("stale", str(path))
    assert code == 2 and "--usage" in err


def test_a_server_counts_what_it_played_and_missed(make_server, tmp_path: Path) -> None:
    srv = make_server(cassettes={"dir": str(EXAMPLES), "speed": 0, "on_miss": "synthetic"})
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="k", max_retries=0)
    assert client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION).choices[0].message.content
    missed = [{"role": "user", "content": "Not recorded"}]
    assert client.chat.completions.create(model="gpt-4o", messages=missed).choices  # synthetic: a miss
    report = httpx.get(srv.url + "/api/cassette-usage").json()
    assert report["played"] == {"example": {"0": 1}}
    assert [(m["path"], m["model"], m["answered_by"], m["count"]) for m in report["misses"]] == [
        ("/v1/chat/completions", "gpt-4o", "synthetic", 1)
    ]
    code, out, _ = run("stale", str(EXAMPLES), "--usage", str(_write(tmp_path / "u.json", report)))
    assert code == 1 and out.splitlines()[0] == "example: 3 of 4 recordings never used"
    assert "  1x POST /v1/chat/completions gpt-4o (" in out


def test_a_server_without_cassettes_has_no_usage_report(server) -> None:
    resp = httpx.get(server.url + "/api/cassette-usage")
    assert resp.status_code == 409 and "--cassettes" in resp.json()["message"]


def test_usage_report_is_written_when_the_server_stops(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    shutil.copyfile(EXAMPLE, folder / "example.msgpack")
    report = tmp_path / "usage.json"
    srv = serverproc.start("--cassettes", str(folder), "--speed", "0", "--usage-report", str(report))
    try:
        body = json.dumps({"model": "gpt-4o-mini", "messages": QUESTION}).encode()
        assert serverproc.request(srv.port, "POST", "/v1/chat/completions", body)[0] == 200
        srv.signal(signal.SIGTERM)
        assert srv.wait() == 0
    finally:
        serverproc.stop(srv)
    assert usage.load(report)["played"] == {"example": {"0": 1}}


def test_a_miss_answered_by_the_error_is_counted_with_the_cassette_searched(make_server) -> None:
    srv = make_server(cassettes={"dir": str(EXAMPLES), "speed": 0})
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="k", max_retries=0)
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Not recorded"}])
    except openai.BadRequestError as exc:
        assert exc.code == "cassette_miss"
    else:
        raise AssertionError("a miss should be the provider's 400")
    (miss,) = httpx.get(srv.url + "/api/cassette-usage").json()["misses"]
    assert (miss["model"], miss["answered_by"], miss["cassette"], miss["count"]) == ("gpt-4o-mini", "error", "*", 1)
