"""``llmreplay cassettes`` subcommands, their output and their error exits."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from llmreplay.cassettes import store
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cli_cassettes import PROGRESS_ITEMS, cassettes
from tests.cassettes.test_store import plain

CHUNKS = [
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]},
    {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
     "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
     "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
]  # fmt: skip
SSE = "".join(f"data: {json.dumps(c)}\n\n" for c in CHUNKS) + "data: [DONE]\n\n"
PLAIN = {
    "id": "c2", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}  # fmt: skip


def vcr_yaml(path: Path) -> Path:
    def inter(body: dict[str, object], resp: str, ctype: str) -> dict[str, object]:
        return {
            "request": {"method": "POST", "uri": "https://api.openai.com/v1/chat/completions", "body": json.dumps(body),
                        "headers": {"Authorization": ["Bearer sk-" + "abcdefghijklmnop"]}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {"Content-Type": [ctype]},
                         "body": {"string": resp}},
        }  # fmt: skip

    doc = {
        "interactions": [
            inter({"model": "gpt-4o", "stream": True, "messages": []}, SSE, "text/event-stream"),
            inter({"model": "gpt-4o-mini", "messages": []}, json.dumps(PLAIN), "application/json"),
        ],
        "version": 1,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cassettes, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r.exit_code, r.stdout, r.stderr


def imported(tmp_path: Path) -> Path:
    code, out, _ = run("import-vcr", str(vcr_yaml(tmp_path / "my_test.yaml")), "--cassettes", str(tmp_path / "c"))
    assert code == 0, out
    return tmp_path / "c" / "my_test.msgpack"


def test_import_vcr_show_verify_list(tmp_path: Path) -> None:
    path = imported(tmp_path)
    c = store.load(path)
    assert len(c.interactions) == 2 and c.header.upstream == "https://api.openai.com"
    assert [e.at_us for e in c.interactions[0].response.events or ()] == [300_000, 320_000, 340_000]

    code, out, _ = run("show", str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["#", "endpoint", "model"]
    assert lines[2].split()[:9] == ["0", "chat-completions", "gpt-4o", "200", "yes", "3", "300", "340", "100.0"]
    assert lines[3].split()[:7] == ["1", "chat-completions", "gpt-4o-mini", "200", "no", "-", "300"]

    code, out, _ = run("verify", str(path))
    assert (code, out.strip()) == (0, "ok: 2 interactions")

    code, out, _ = run("list", str(tmp_path / "c"))
    assert code == 0 and "my_test" in out and "https://api.openai.com" in out and " 2 " in out


def test_import_vcr_timing_options_and_many_files(tmp_path: Path) -> None:
    a = vcr_yaml(tmp_path / "a.yaml")
    b = vcr_yaml(tmp_path / "b.yml")
    code, out, _ = run(
        "import-vcr", str(a), str(b), "--cassettes", str(tmp_path / "c"), "--ttft-ms", "50", "--gap-ms", "1"
    )
    assert code == 0, out
    assert sorted(p.name for p in store.list_cassettes(tmp_path / "c")) == ["a.msgpack", "b.msgpack"]
    events = store.load(tmp_path / "c" / "b.msgpack").interactions[0].response.events or ()
    assert [e.at_us for e in events] == [50_000, 51_000, 52_000]


def test_verify_reports_problems(tmp_path: Path) -> None:
    req = RecordedRequest("POST", "/v1/chat/completions", body=b'{"model":"m","stream":true}')
    broken = RecordedResponse(200, (), None, (RecordedEvent(5, b"data: {not json\n\n"), RecordedEvent(1, b"x")), 0, 0)
    path = tmp_path / "bad.msgpack"
    store.save(path, store.new_header("x"), [Interaction(req, broken, "openai-chat", "chat-completions")])
    code, out, err = run("verify", str(path))
    assert code == 1
    assert "#0 POST /v1/chat/completions: event times go backwards" in out
    assert "problem" in err


def test_verify_reports_recordings_skipped_at_load(tmp_path: Path) -> None:
    from tests.cassettes.test_fields import bad_object, recording, write_cassette

    path = write_cassette(tmp_path / "c.msgpack", [recording(0).to_obj(), bad_object(1, "status", 100)])
    code, out, err = run("verify", str(path))
    assert code == 1
    assert f"{path}: recording #1 skipped: status 100 is not a final HTTP status (200-599)" in out.splitlines()
    assert "problem(s) in c.msgpack" in err


def test_export_and_import_json_round_trip(tmp_path: Path) -> None:
    path = imported(tmp_path)
    out_file = tmp_path / "out.json"
    code, _, _ = run("export", str(path), "--format", "json", "-o", str(out_file))
    assert code == 0
    code, stdout, _ = run("export", str(path))
    assert code == 0 and json.loads(stdout) == json.loads(out_file.read_text())
    code, out, _ = run("import-json", str(out_file), "--cassettes", str(tmp_path / "back"))
    assert code == 0, out
    again = store.load(tmp_path / "back" / "out.msgpack")
    original = store.load(path)
    assert again.header == original.header and again.interactions == original.interactions


def test_error_exits(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.msgpack")
    for args in (["show", missing], ["verify", missing], ["export", missing], ["list", missing]):
        code, _, err = run(*args)
        assert code == 2 and err.startswith("llmreplay: error:") and len(err.strip().splitlines()) == 1, args
    not_cassette = tmp_path / "x.msgpack"
    not_cassette.write_bytes(b"hello")
    code, _, err = run("show", str(not_cassette))
    assert code == 2 and "x.msgpack" in err and len(err.strip().splitlines()) == 1
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("interactions: [\n")
    code, _, err = run("import-vcr", str(bad_yaml), "--cassettes", str(tmp_path / "c"))
    assert code == 2 and "bad.yaml: not valid YAML" in err
    code, _, err = run("import-vcr", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file" in err
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[]")
    code, _, err = run("import-json", str(bad_json), "--cassettes", str(tmp_path / "c"))
    assert code == 2 and "not an exported llmreplay cassette" in err
    code, _, _ = run("export", str(not_cassette), "--format", "yaml")
    assert code == 2


def test_empty_folder(tmp_path: Path) -> None:
    code, out, _ = run("list", str(tmp_path))
    assert code == 0 and "no cassettes" in out


def test_long_operations_show_progress_short_ones_do_not(tmp_path: Path) -> None:
    big, small = tmp_path / "big.msgpack", tmp_path / "small.msgpack"
    store.save(big, store.new_header("u"), [plain(i) for i in range(PROGRESS_ITEMS + 1)])
    store.save(small, store.new_header("u"), [plain(i) for i in range(3)])
    for command, label in (("verify", "verifying"), ("show", "reading")):
        long = CliRunner().invoke(cassettes, [command, str(big)])
        short = CliRunner().invoke(cassettes, [command, str(small)])
        assert label in long.stderr, long.stderr
        assert label not in short.stderr, short.stderr
