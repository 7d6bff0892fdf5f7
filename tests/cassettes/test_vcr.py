"""vcrpy YAML import: every real recording, in vcrpy's and pydantic-ai's forms, and a cassette vcrpy wrote itself."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from llmreplay.cassettes.summary import problems, reply_of
from llmreplay.cassettes.vcr import (
    Timing,
    VcrError,
    cassette_name,
    import_file,
    match_route,
    pattern_regex,
    split_events,
)
from tests.real_fixtures import REAL

if not REAL.is_dir():
    REAL = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real"
FIXTURES = sorted(REAL.glob("*/*.json"))
HOSTS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}


def _host(api: str) -> str:
    return HOSTS[api.split("-")[0]]


def to_vcr(fx: dict[str, Any], parsed: bool) -> dict[str, Any]:
    """A fixture as one vcrpy interaction; ``parsed`` writes pydantic-ai's ``parsed_body`` form."""
    rq, rs = fx["request"], fx["response"]
    uri = _host(fx["api"]) + rq["path"] + ("?" + urlencode(rq["query"]) if rq["query"] else "")
    request: dict[str, Any] = {
        "method": rq["method"],
        "uri": uri,
        "headers": {k: [v] for k, v in rq["headers"].items()},
    }
    response: dict[str, Any] = {
        "status": {"code": rs["status"], "message": "OK"},
        "headers": {k: v if isinstance(v, list) else [v] for k, v in rs["headers"].items()},
    }
    if parsed:
        request["parsed_body"] = rq["body"]
        try:
            response["parsed_body"] = json.loads(rs["body_text"])
        except ValueError:
            response["body"] = {"string": rs["body_text"]}
    else:
        request["body"] = json.dumps(rq["body"])
        response["body"] = {"string": rs["body_text"]}
    return {"request": request, "response": response}


def write_yaml(path: Path, interactions: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def fixtures() -> list[dict[str, Any]]:
    if not FIXTURES:
        pytest.skip("no real fixtures")
    return [json.loads(p.read_text()) for p in FIXTURES]


@pytest.mark.parametrize("parsed", [False, True], ids=["body-string", "parsed_body"])
def test_every_real_fixture_imports_and_verifies(tmp_path: Path, fixtures: list[dict[str, Any]], parsed: bool) -> None:
    path = write_yaml(tmp_path / "all.yaml", [to_vcr(fx, parsed) for fx in fixtures])
    _, items = import_file(path, Timing(ttft_ms=250, gap_ms=10))
    assert len(items) == len(fixtures)
    bad: list[str] = []
    for i, (fx, it) in enumerate(zip(fixtures, items, strict=True)):
        assert it.api == ("anthropic-messages" if fx["api"] == "anthropic-count-tokens" else fx["api"]), fx["source"]
        assert it.request.path == fx["request"]["path"]
        # The scrubber may blank secret-looking runs inside long base64 data, so compare the shape.
        assert json.loads(it.request.body).keys() == fx["request"]["body"].keys()
        ctype = str(fx["response"]["headers"].get("content-type", ""))
        # An error answer to a stream request is a JSON body, not a stream.
        stream = fx["stream"] and (fx["response"]["status"] < 300 or "event-stream" in ctype)
        assert it.response.stream == stream, fx["source"]
        if stream:
            if b"REDACTED" not in it.response.raw:
                assert it.response.raw == fx["response"]["body_text"].encode()
            assert it.response.events and it.response.events[0].at_us == 250_000
            assert [e.at_us for e in it.response.events][1:2] in ([], [260_000])
        elif not parsed and b"REDACTED" not in (it.response.body or b""):
            assert it.response.body == fx["response"]["body_text"].encode()
        # A few simonw/llm recordings kept gzip bytes that were decoded to text lossily: nothing can parse them.
        if not fx["response"]["body_text"].startswith("\x1f"):
            bad.extend(problems(i, it))
    assert bad == []


def test_stream_events_have_synthetic_timing(tmp_path: Path, fixtures: list[dict[str, Any]]) -> None:
    fx = next(f for f in fixtures if f["stream"] and f["api"] == "gemini")
    _, [it] = import_file(write_yaml(tmp_path / "g.yaml", [to_vcr(fx, False)]), Timing(100, 5))
    events = it.response.events or ()
    assert [e.at_us for e in events] == [100_000 + 5_000 * i for i in range(len(events))]
    assert it.response.headers_us == 100_000 and it.response.end_us == events[-1].at_us
    assert dict(it.request.query) == {"alt": "sse"}
    assert reply_of(it) is not None


def test_plain_body_timing_is_ttft(tmp_path: Path, fixtures: list[dict[str, Any]]) -> None:
    fx = next(f for f in fixtures if not f["stream"] and f["api"] == "openai-chat")
    _, [it] = import_file(write_yaml(tmp_path / "c.yaml", [to_vcr(fx, False)]))
    assert it.response.headers_us == it.response.end_us == 300_000
    assert it.response.events is None


def _chat(stream: bool = False) -> tuple[str, bytes]:
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": stream})
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    return body, json.dumps(reply).encode()


def _raw_interaction(body: Any, headers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    req_body, _ = _chat()
    return {
        "request": {
            "method": "POST",
            "uri": "https://api.openai.com/v1/chat/completions?key=sekrit&x=1",
            "body": req_body,
            "headers": {"Authorization": ["Bearer sk-secret"], "Content-Type": ["application/json"]},
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"], **(headers or {})},
            "body": {"string": body},
        },
    }


@pytest.mark.parametrize("form", ["str", "bytes", "gzip", "base64", "base64-gzip"])
def test_body_forms(tmp_path: Path, form: str) -> None:
    _, payload = _chat()
    headers: dict[str, list[str]] = {}
    body: Any
    if form == "str":
        body = payload.decode()
    elif form == "bytes":
        body = payload
    elif form == "gzip":
        body, headers = gzip.compress(payload), {"Content-Encoding": ["gzip"], "Content-Length": ["99"]}
    elif form == "base64":
        body = base64.b64encode(payload).decode()
    else:
        body = base64.b64encode(gzip.compress(payload)).decode()
        headers = {"Content-Encoding": ["gzip"]}
    _, [it] = import_file(write_yaml(tmp_path / "f.yaml", [_raw_interaction(body, headers)]))
    assert it.response.body == payload
    names = {k for k, _ in it.response.headers}
    assert "content-encoding" not in names and "content-length" not in names
    reply = reply_of(it)
    assert reply is not None and reply.candidates[0].text == "Hello!"


def test_secrets_are_dropped(tmp_path: Path) -> None:
    _, payload = _chat()
    _, [it] = import_file(write_yaml(tmp_path / "s.yaml", [_raw_interaction(payload.decode())]))
    # The project's scrubber replaces secret values; the fallback drops them: either way they are gone.
    assert all("sk-secret" not in v for _, v in it.request.headers)
    assert "sekrit" not in str(it.request.query)
    assert ("x", "1") in it.request.query


def test_upstream_from_a_uri_with_credentials_hides_the_password(tmp_path: Path) -> None:
    _, payload = _chat()
    obj = _raw_interaction(payload.decode())
    obj["request"]["uri"] = "https://gate:pw-s3cret@proxy.example/v1/chat/completions"
    upstream, _ = import_file(write_yaml(tmp_path / "c.yaml", [obj]))
    assert upstream == "https://gate:***@proxy.example"


def test_unknown_path_is_kept_verbatim(tmp_path: Path) -> None:
    obj = _raw_interaction("plain text")
    obj["request"]["uri"] = "https://example.com/health"
    obj["request"]["method"] = "GET"
    _, [it] = import_file(write_yaml(tmp_path / "u.yaml", [obj]))
    assert it.api is None and it.endpoint == "other" and it.response.body == b"plain text"


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [unclosed\n")
    with pytest.raises(VcrError, match=r"bad\.yaml: not valid YAML"):
        import_file(bad)
    other = tmp_path / "other.yaml"
    other.write_text("just: a mapping\n")
    with pytest.raises(VcrError, match="not a vcrpy cassette"):
        import_file(other)
    with pytest.raises(VcrError, match="cannot read"):
        import_file(tmp_path / "missing.yaml")


def test_route_matching() -> None:
    rx = pattern_regex("/v1beta/models/{model:[^/:]+}:generateContent")
    assert rx.fullmatch("/v1beta/models/gemini-2.0-flash:generateContent")
    assert not rx.fullmatch("/v1beta/models/a/b:generateContent")
    found = match_route("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent")
    assert found is not None and found[0].codec.api == "gemini" and found[1] == {"model": "gemini-2.5-pro"}
    assert match_route("GET", "/v1/chat/completions") is None


def test_split_events_keeps_bytes() -> None:
    body = b'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n'
    assert split_events(body, None) == [b'data: {"a":1}\r\n\r\n', b'data: {"b":2}\r\n\r\n']
    assert split_events(b"", None) == []


def test_cassette_name() -> None:
    assert cassette_name("/x/test_foo.yaml") == "test_foo"
    assert cassette_name("a b..c.yml") == "a_b.c"


# ---- a cassette written by vcrpy itself ------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_vcrpy_recording_imports_to_the_same_reply(tmp_path: Path, stream: bool) -> None:
    vcr = pytest.importorskip("vcr")
    requests = pytest.importorskip("requests")
    from llmreplay.providers import openai_chat
    from llmreplay.server import BackgroundServer
    from tests.conftest import settings

    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}], "stream": stream})
    cassette = tmp_path / "recorded.yaml"
    with BackgroundServer(settings(synthetic={"seed": 7})) as server:
        recorder = vcr.VCR(record_mode="all", filter_headers=["authorization"])
        with recorder.use_cassette(str(cassette)):
            resp = requests.post(
                f"{server.url}/v1/chat/completions",
                data=body,
                headers={"authorization": "Bearer sk-test", "content-type": "application/json"},
                timeout=10,
            )
            original = resp.content
    assert resp.status_code == 200
    codec = openai_chat.CODEC
    want = codec.events_to_reply(codec.parse_events(original)) if stream else codec.body_to_reply(original)

    _, [it] = import_file(cassette)
    assert it.api == "openai-chat" and it.endpoint == "chat-completions"
    assert it.response.stream is stream
    assert it.response.raw == original
    got = reply_of(it)
    assert got is not None
    assert got.candidates[0].text == want.candidates[0].text != ""
    assert problems(0, it) == []
