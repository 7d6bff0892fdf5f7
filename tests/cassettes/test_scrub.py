"""Secret scrubbing of recorded exchanges."""

from __future__ import annotations

import json

import msgpack
import pytest

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.scrub import DEFAULT_SECRET_HEADERS, Scrubber, ScrubConfig

# Fake keys in the providers' shapes, split so that no literal in the repository looks like a real key.
OPENAI_KEY = "sk-" + "proj-AbCdEfGhIjKlMnOpQrStUv0123456789"
ANTHROPIC_KEY = "sk-" + "ant-api03-ZyXwVuTsRqPoNmLkJiHg-_9876543210"
GOOGLE_KEY = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"


def _request(**kw: object) -> RecordedRequest:
    base: dict[str, object] = {
        "method": "POST",
        "path": "/v1/chat/completions",
        "query": (("key", GOOGLE_KEY), ("alt", "sse")),
        "headers": (
            ("authorization", f"Bearer {OPENAI_KEY}"),
            ("x-api-key", ANTHROPIC_KEY),
            ("x-goog-api-key", GOOGLE_KEY),
            ("api-key", "0123456789abcdef0123456789abcdef"),
            ("cookie", "session=abc"),
            ("openai-organization", "org-123"),
            ("content-type", "application/json"),
        ),
        "body": json.dumps({"model": "m", "user": "alice@example.com", "metadata": {"email": "a@b.c"}}).encode(),
    }
    base.update(kw)
    return RecordedRequest(**base)  # type: ignore[arg-type]


def test_default_headers_and_query_replaced_names_kept() -> None:
    req = Scrubber(ScrubConfig(personal=False)).request(_request())
    headers = dict(req.headers)
    for name in ("authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "openai-organization"):
        assert headers[name] == "REDACTED"
    assert headers["content-type"] == "application/json"
    assert req.query == (("key", "REDACTED"), ("alt", "sse"))
    assert req.body == _request().body  # nothing matched: exact bytes kept
    assert "anthropic-organization-id" in DEFAULT_SECRET_HEADERS


def test_header_names_any_case() -> None:
    req = Scrubber().request(_request(headers=(("Authorization", "Bearer x"), ("X-Api-Key", "y"))))
    assert req.headers == (("Authorization", "REDACTED"), ("X-Api-Key", "REDACTED"))


def test_response_headers() -> None:
    resp = RecordedResponse(
        200,
        (("set-cookie", "__cf_bm=abc; path=/"), ("anthropic-organization-id", "7c1e"), ("x-request-id", "req_1")),
        body=b"{}",
    )
    out = Scrubber().response(resp)
    assert out.headers == (
        ("set-cookie", "REDACTED"),
        ("anthropic-organization-id", "REDACTED"),
        ("x-request-id", "req_1"),
    )


def test_safety_net_finds_keys_anywhere() -> None:
    body = json.dumps({"messages": [{"content": f"my key is {OPENAI_KEY} and {GOOGLE_KEY}"}]}).encode()
    req = Scrubber(ScrubConfig(headers=(), query=())).request(
        _request(
            path=f"/v1beta/models/x:generateContent/{GOOGLE_KEY}",
            headers=(
                ("x-custom-auth", f"Bearer {OPENAI_KEY}"),
                ("x-other", "token ya29." + "a0AfH6SMBx-abcdefghijklmnopqrstuvwxyz"),
            ),
            query=(("apikey", ANTHROPIC_KEY),),
            body=body,
        )
    )
    packed = msgpack.packb(Interaction(req, RecordedResponse(200, body=b"")).to_obj(), use_bin_type=True)
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY, "ya29.a0AfH6"):
        assert secret.encode() not in packed
    assert json.loads(req.body)["messages"][0]["content"] == "my key is REDACTED and REDACTED"
    assert dict(req.headers)["x-custom-auth"] == "Bearer REDACTED"


def test_any_bearer_token_in_a_header() -> None:
    req = Scrubber(ScrubConfig(headers=())).request(
        _request(headers=(("authorization", "Bearer vllm-local-token-42"),))
    )
    assert req.headers == (("authorization", "Bearer REDACTED"),)


def test_body_paths() -> None:
    cfg = ScrubConfig(body_paths=("user", "metadata.email", "messages.*.name", "missing.path"))
    body = json.dumps(
        {"user": "alice", "metadata": {"email": "a@b.c", "k": 1}, "messages": [{"name": "bob"}, {"role": "user"}]}
    ).encode()
    doc = json.loads(Scrubber(cfg).request(_request(body=body)).body)
    assert doc == {
        "user": "REDACTED",
        "metadata": {"email": "REDACTED", "k": 1},
        "messages": [{"name": "REDACTED"}, {"role": "user"}],
    }


def test_body_paths_leave_non_json_alone() -> None:
    cfg = ScrubConfig(body_paths=("user",))
    assert Scrubber(cfg).request(_request(body=b"not json user")).body == b"not json user"


def test_patterns_in_bodies_events_headers_and_query() -> None:
    cfg = ScrubConfig(patterns=(r"org-[A-Za-z0-9]+", r"[\w.]+@example\.com"), placeholder="<hidden>")
    s = Scrubber(cfg)
    req = s.request(
        _request(
            headers=(("x-org", "org-Abc123"),),
            query=(("who", "carol@example.com"),),
            body=b'{"user": "carol@example.com"}',
        )
    )
    assert req.headers == (("x-org", "<hidden>"),)
    assert req.query == (("who", "<hidden>"),)
    assert req.body == b'{"user": "<hidden>"}'
    events = (
        RecordedEvent(10, b'data: {"o": "org-Zz9"}\r\n\r\n'),
        RecordedEvent(25, b"data: dave@example.com\n\n"),
        RecordedEvent(30, b"data: [DONE]\n\n"),
    )
    resp = s.response(RecordedResponse(200, (("openai-organization", "org-1"),), events=events))
    assert resp.events == (
        RecordedEvent(10, b'data: {"o": "<hidden>"}\r\n\r\n'),
        RecordedEvent(25, b"data: <hidden>\n\n"),
        RecordedEvent(30, b"data: [DONE]\n\n"),
    )
    assert resp.body is None


def test_bad_pattern_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="not a valid regex"):
        Scrubber(ScrubConfig(patterns=("(",)))


def test_interaction_keeps_the_rest() -> None:
    it = Interaction(_request(), RecordedResponse(200, body=b"{}", headers_us=5, end_us=9), "openai-chat", "chat", "t")
    out = Scrubber().interaction(it)
    assert (out.api, out.endpoint, out.recorded_at, out.response.end_us) == ("openai-chat", "chat", "t", 9)
    assert OPENAI_KEY.encode() not in msgpack.packb(out.to_obj(), use_bin_type=True)


def test_safety_net_leaves_words_alone() -> None:
    body = b'{"tool": "run_ta' + b"sk-" + b'abcdefghijklmnopqrstuvwxyz", "di' + b"sk-" + b'0123456789abcdefghij": 1}'
    assert Scrubber().request(_request(body=body)).body == body


def test_events_without_a_key_shape_are_kept_as_they_are_and_one_with_a_key_is_scrubbed() -> None:
    clean = tuple(RecordedEvent(1000 * i, b'data: {"content":"job-%d AIz ya29"}\n\n' % i) for i in range(5))
    resp = RecordedResponse(200, (("content-type", "text/event-stream"),), None, clean, 10, 6000)
    assert Scrubber().response(resp).events is clean  # no key's fixed start anywhere: not even copied
    near = (RecordedEvent(0, b'data: {"content":"task-1 sk- ya29."}\n\n'),)  # the starts, but no key
    assert Scrubber().response(RecordedResponse(200, (), None, near, 1, 2)).events == near
    key = b"sk-" + b"A1b2C3d4" * 4
    dirty = (*clean, RecordedEvent(7000, b'data: {"content":"' + key + b'"}\n\n'))
    out = Scrubber().response(RecordedResponse(200, (), None, dirty, 10, 8000)).events
    assert out is not None and out[:5] == clean and key not in out[5].data and b"REDACTED" in out[5].data
    # With a pattern of the user's, every event is searched.
    custom = Scrubber(ScrubConfig(patterns=(r"job-\d",))).response(resp).events
    assert custom is not None and all(b"job-" not in e.data for e in custom)


def test_a_header_or_path_scrubbed_again_gives_the_same_and_only_clean_values_are_remembered() -> None:
    # Values found clean are remembered, to be taken as they are by the next recording: the same results, and
    # none of the remembered values is a secret.
    scrub = Scrubber()
    path = f"/v1/models/{GOOGLE_KEY}:generateContent"
    req = _request(path=path, headers=(*_request().headers, ("x-custom", f"Bearer {OPENAI_KEY}"), ("accept", "*/*")))
    first, again = scrub.request(req), scrub.request(req)
    assert first == again
    assert dict(first.headers)["x-custom"] == "Bearer REDACTED"
    assert dict(first.headers)["accept"] == "*/*"
    assert first.path == "/v1/models/REDACTED:generateContent"
    remembered = {*scrub._clean_headers, *scrub._clean_paths}
    assert "*/*" in remembered and "application/json" in remembered
    assert not any(k in v for v in remembered for k in (OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY))
    assert scrub.request(_request()).path == "/v1/chat/completions" and "/v1/chat/completions" in scrub._clean_paths
