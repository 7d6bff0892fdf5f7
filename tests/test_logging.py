"""The banner says where everything is; --log-format json gives one JSON object per line, with what answered
and no secrets."""

from __future__ import annotations

import json

from tests.serverproc import CHAT, Server, request, start, stop


def _start(*args: str) -> Server:
    return start(*args, quiet=False)


def test_banner_names_mode_urls_and_dashboard():
    server = _start()
    try:
        banner = "\n".join(server.seen)
        url = f"http://127.0.0.1:{server.port}"
        assert "synthetic" in banner and f"{url}/v1" in banner and f"{url}/dashboard" in banner
        assert "\x1b[" not in banner, "no colour codes when stderr is not a terminal"
    finally:
        server.signal()
        server.wait()
        stop(server)


def test_json_log_lines_carry_the_request_and_no_secret():
    server = _start("--log-format", "json")
    try:
        path = "/v1/chat/completions?key=AIzaSECRETSECRET"
        status, _, _ = request(server.port, "POST", path, CHAT, {"authorization": "Bearer sk-SECRET"})
        assert status == 200
        line = server.wait_for(r'"llmreplay.access"')
        record = json.loads(line)
        assert record["method"] == "POST" and record["path"] == "/v1/chat/completions" and record["status"] == 200
        assert record["duration_ms"] >= 0 and record["level"] == "info"
        assert record["source"] == "synthetic"  # what answered, as x-llmreplay-source says it
        assert "SECRET" not in line
    finally:
        server.signal()
        server.wait()
        stop(server)


def test_banner_names_shared_state_without_its_password(capsys):
    from llmreplay import cli
    from llmreplay.config import Settings

    shared = Settings.model_validate({"server": {"state": "redis://:s3cret@127.0.0.1:6379/0", "workers": 2}})
    cli._banner(shared, "synthetic", "generated replies", pids=[101, 102])
    banner = capsys.readouterr().err
    assert "shared through redis://:***@127.0.0.1:6379/0" in banner and "s3cret" not in banner
    assert "per worker: the dashboard's event feed" in banner and "nothing is shared" not in banner

    alone = Settings.model_validate({"server": {"workers": 2}})
    cli._banner(alone, "synthetic", "generated replies", pids=[101, 102])
    banner = capsys.readouterr().err
    assert "state " not in banner and "nothing is shared between them: rate limits" in banner
