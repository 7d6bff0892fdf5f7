"""Match keys, the replay index and the closest-miss report."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmreplay.cassettes import keys
from llmreplay.cassettes.differences import differences
from llmreplay.cassettes.keys import MatchConfig, key_of, normalise_body, verbatim_key
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from llmreplay.model import Call

CHAT = "/v1/chat/completions"


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def chat(content: str = "hi", model: str = "gpt-4o", **extra: Any) -> bytes:
    return body(model=model, messages=[{"role": "user", "content": content}], **extra)


def interaction(
    req_body: bytes, path: str = CHAT, api: str | None = "openai-chat", reply: bytes = b"{}", **req: Any
) -> Interaction:
    return Interaction(RecordedRequest("POST", path, body=req_body, **req), RecordedResponse(200, body=reply), api)


def call(req_body: bytes, path: str = CHAT, method: str = "POST", **kw: Any) -> Call:
    return Call(method, path, body=req_body, **kw)


# ---- keys ------------------------------------------------------------------------


def test_normalise_sorts_keys_and_drops_volatile_fields() -> None:
    a = b'{"model":"m","messages":[{"role":"user","content":"x"}]}'
    b = body(
        messages=[{"content": "x", "role": "user"}],
        user="u-1",
        metadata={"run": "7"},
        stream_options={"include_usage": True},
        store=True,
        service_tier="auto",
        prompt_cache_key="k",
        safety_identifier="s",
        model="m",
    )
    assert normalise_body(a) == normalise_body(b) == '{"messages":[{"content":"x","role":"user"}],"model":"m"}'


def test_bodies_orjson_cannot_write_still_get_one_stable_key() -> None:
    # Integers past 64 bits and lone surrogates go through the standard library's encoder instead.
    for raw in (b'{"model":"m","seed":123456789012345678901234567890}', b'{"model":"m","content":"\\ud800"}'):
        assert normalise_body(raw) == normalise_body(raw)
        assert not normalise_body(raw).startswith("sha256:")
        index = Index([("c", interaction(raw))])
        assert index.lookup(call(raw)) is not None


def test_seed_and_previous_response_id_still_matter() -> None:
    assert normalise_body(chat(seed=1)) != normalise_body(chat(seed=2))
    assert normalise_body(chat(previous_response_id="a")) != normalise_body(chat(previous_response_id="b"))


def test_non_json_body_is_hashed() -> None:
    assert normalise_body(b"\x00\x01binary").startswith("sha256:")
    assert normalise_body(b"\x00\x01binary") != normalise_body(b"\x00\x02binary")
    assert normalise_body(b"") == normalise_body(b"")


def test_stream_in_key_off_lets_stream_and_plain_meet() -> None:
    cfg = MatchConfig()
    assert key_of(call(chat(stream=True)), cfg) == key_of(call(chat(stream=False)), cfg) == key_of(call(chat()), cfg)


def test_stream_in_key_on_separates_them() -> None:
    cfg = MatchConfig(stream_in_key=True)
    assert key_of(call(chat(stream=True)), cfg) != key_of(call(chat(stream=False)), cfg)


def test_gemini_stream_path_and_alt_are_neutral_unless_keyed() -> None:
    b = body(contents=[{"role": "user", "parts": [{"text": "hi"}]}])
    plain = call(b, "/v1beta/models/gemini-2.0-flash:generateContent")
    stream = call(b, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", query={"alt": "sse", "key": "secret"})
    cfg = MatchConfig(match_on=("method", "path", "query", "body"))
    assert key_of(plain, cfg) == key_of(stream, cfg)
    keyed = MatchConfig(match_on=("method", "path", "query", "body"), stream_in_key=True)
    assert key_of(plain, keyed) != key_of(stream, keyed)


def test_call_and_recorded_request_give_the_same_key() -> None:
    cfg = MatchConfig(match_on=("method", "path", "query", "body", "headers:anthropic-beta"))
    rec = RecordedRequest(
        "POST", "/v1/messages", (("beta", "true"),), (("anthropic-beta", "x"),), body(model="c", max_tokens=5)
    )
    got = Call(
        "post", "/v1/messages", query={"beta": "true", "key": "sk"}, headers={"anthropic-beta": "x"}, body=rec.body
    )
    assert key_of(rec, cfg) == key_of(got, cfg)
    other = Call("POST", "/v1/messages", query={"beta": "true"}, headers={"anthropic-beta": "y"}, body=rec.body)
    assert key_of(rec, cfg) != key_of(other, cfg)


def test_query_only_counts_when_asked() -> None:
    assert key_of(call(chat(), query={"a": "1"}), MatchConfig()) == key_of(call(chat()), MatchConfig())
    cfg = MatchConfig(match_on=("method", "path", "query", "body"))
    assert key_of(call(chat(), query={"a": "1"}), cfg) != key_of(call(chat()), cfg)


def test_model_part_reads_body_or_gemini_path() -> None:
    cfg = MatchConfig(match_on=("method", "model"))
    assert key_of(call(chat("a")), cfg) == key_of(call(chat("b")), cfg)
    assert key_of(call(chat(model="x")), cfg) != key_of(call(chat(model="y")), cfg)
    g1 = call(b"{}", "/v1beta/models/gemini-a:generateContent")
    g2 = call(b"{}", "/v1beta/models/gemini-b:generateContent")
    assert key_of(g1, cfg) != key_of(g2, cfg)


def test_dotted_ignore_with_wildcard() -> None:
    cfg = MatchConfig(ignore=("messages.*.name", "tools.0"))
    a = body(messages=[{"role": "user", "content": "x", "name": "alice"}], tools=[1, 2])
    b = body(messages=[{"role": "user", "content": "x", "name": "bob"}], tools=[9, 2])
    assert key_of(call(a), cfg) == key_of(call(b), cfg)
    assert key_of(call(a), MatchConfig()) != key_of(call(b), MatchConfig())


def test_unknown_match_part_is_rejected() -> None:
    with pytest.raises(ValueError, match="match_on: unknown part 'bodyy'"):
        MatchConfig(match_on=("bodyy",))
    with pytest.raises(ValueError, match="repeat"):
        MatchConfig(repeat="sometimes")  # type: ignore[arg-type]


def test_verbatim_key_compares_json_and_keeps_the_query() -> None:
    a = call(b'{"a":1,"b":2}', "/v1/conversations")
    b = call(b'{ "b": 2,\n "a": 1 }', "/v1/conversations")
    assert verbatim_key(a) == verbatim_key(b) != verbatim_key(call(b'{"a":1,"b":3}', "/v1/conversations"))
    assert verbatim_key(call(b"\x00ab", "/v1/files")) != verbatim_key(call(b"\x00abc", "/v1/files"))
    assert verbatim_key(call(b"", "/v1/responses/resp_1", "GET", query={"x": "1"})) != verbatim_key(
        call(b"", "/v1/responses/resp_1", "GET")
    )


# ---- the index ---------------------------------------------------------------------


def _three() -> list[tuple[str, Interaction]]:
    return [("c", interaction(chat(), reply=f'{{"n":{i}}}'.encode())) for i in range(3)]


def _n(it: Interaction | None) -> int | None:
    return None if it is None else json.loads(it.response.body or b"")["n"]


def test_identical_requests_replay_in_order_then_repeat_last() -> None:
    idx = Index(_three())
    got = [_n(idx.lookup(call(chat()))) for _ in range(5)]
    assert got == [0, 1, 2, 2, 2]


def test_repeat_cycle_and_none() -> None:
    cyc = Index(_three(), MatchConfig(repeat="cycle"))
    assert [_n(cyc.lookup(call(chat()))) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    none = Index(_three(), MatchConfig(repeat="none"))
    assert [_n(none.lookup(call(chat()))) for _ in range(4)] == [0, 1, 2, None]


def test_reset_rewinds() -> None:
    idx = Index(_three())
    idx.lookup(call(chat()))
    idx.lookup(call(chat()))
    idx.reset()
    assert _n(idx.lookup(call(chat()))) == 0


def test_keys_keep_separate_cursors_and_volatile_fields_match() -> None:
    idx = Index([("c", interaction(chat("a"), reply=b'{"n":1}')), ("c", interaction(chat("b"), reply=b'{"n":2}'))])
    assert _n(idx.lookup(call(chat("b", user="someone", stream=True)))) == 2
    assert _n(idx.lookup(call(chat("a", metadata={"x": "y"})))) == 1
    assert idx.lookup(call(chat("c"))) is None
    assert idx.lookup_named(call(chat("a"))) is not None
    named = idx.lookup_named(call(chat("a")))
    assert named is not None and named[0] == "c"


def test_a_call_sent_again_is_keyed_from_its_kept_view_and_a_hit_needs_no_exact_key(monkeypatch) -> None:
    idx = Index([("c", interaction(chat("a"), reply=b'{"n":1}'))])
    made: list[bool] = []
    real = keys.view_of

    def counted(req: Any, cfg: MatchConfig, verbatim: bool = False) -> keys.View:
        made.append(verbatim)
        return real(req, cfg, verbatim)

    monkeypatch.setattr(keys, "view_of", counted)
    assert [_n(idx.lookup(call(chat("a")))) for _ in range(3)] == [1, 1, 1]
    # One view of the codec's for the three calls (a load test sends the same request again and again), and no
    # exact key, which only a codec-key miss needs.
    assert made == [False]
    assert idx.lookup(call(chat("b"))) is None and made == [False, False, True]


def test_with_the_query_in_the_key_calls_of_the_same_bytes_still_differ() -> None:
    cfg = MatchConfig(match_on=("method", "path", "query", "body"))
    idx = Index([("c", interaction(chat(), reply=b'{"n":1}', query=(("a", "1"),)))], cfg)
    assert _n(idx.lookup(call(chat(), query={"a": "1"}))) == 1
    assert idx.lookup(call(chat(), query={"a": "2"})) is None


def test_add_makes_new_recordings_findable() -> None:
    idx = Index()
    assert len(idx) == 0 and idx.lookup(call(chat())) is None
    idx.add("new", interaction(chat(), reply=b'{"n":5}'))
    assert _n(idx.lookup(call(chat()))) == 5 and len(idx) == 1


def test_verbatim_interactions_match_on_query_and_json() -> None:
    raw = b'{"items":[],"b":1}'
    it = interaction(raw, "/v1/conversations", api=None, reply=b'{"n":9}', query=(("limit", "2"),))
    idx = Index([("c", it)])
    assert _n(idx.lookup(call(raw, "/v1/conversations", query={"limit": "2"}))) == 9
    assert idx.lookup(call(raw, "/v1/conversations")) is None
    # Same JSON in another key order is the same request; another value is not.
    assert _n(idx.lookup(call(b'{"b":1,"items":[]}', "/v1/conversations", query={"limit": "2"}))) == 9
    assert idx.lookup(call(b'{"b":2,"items":[]}', "/v1/conversations", query={"limit": "2"})) is None
    assert _n(idx.lookup(call(raw, "/v1/conversations", query={"limit": "2"}), verbatim=True)) == 9
    assert idx.lookup(call(raw, "/v1/conversations", query={"limit": "2"}), verbatim=False) is None


# ---- closest and differences -----------------------------------------------------


def test_closest_prefers_same_path_and_fewest_differences() -> None:
    idx = Index(
        [
            ("one", interaction(chat("hello", model="gpt-4o"))),
            ("two", interaction(chat("something else entirely", model="gpt-3.5"))),
            ("three", interaction(chat("hello", model="gpt-4o-mini"), path="/v1/other")),
        ]
    )
    near = idx.closest(call(chat("hello", model="gpt-4o-mini")))
    assert near is not None
    name, _, diffs = near
    assert name == "one"
    assert diffs == ["model: recorded 'gpt-4o', got 'gpt-4o-mini'"]


def test_closest_falls_back_to_any_path() -> None:
    idx = Index([("c", interaction(chat(), path="/v1/elsewhere"))])
    near = idx.closest(call(chat()))
    assert near is not None
    assert near.differences == ["path: recorded '/v1/elsewhere', got '/v1/chat/completions'"]
    assert Index().closest(call(chat())) is None


def test_differences_lines() -> None:
    cfg = MatchConfig(stream_in_key=True)
    rec = RecordedRequest("POST", CHAT, body=chat("what is 2+2?", stream=True, tools=[{"a": 1}]))
    got = call(chat("what is 3+3?", stream=False, temperature=0.5))
    lines = differences(rec, got, cfg)
    assert "messages.0.content: recorded 'what is 2+2?', got 'what is 3+3?'" in lines
    assert "stream: recorded true, got false" in lines
    assert "temperature: recorded (absent), got 0.5" in lines
    assert 'tools: recorded [{"a": 1}], got (absent)' in lines
    assert not any(line.startswith("stream") for line in differences(rec, got, MatchConfig()))


def test_differences_are_capped_and_values_truncated() -> None:
    rec = RecordedRequest("POST", CHAT, body=body(**{f"f{i}": i for i in range(9)}, text="a" * 200))
    got = call(body(**{f"f{i}": -i - 1 for i in range(9)}, text="b" * 200))
    idx = Index([("c", Interaction(rec, RecordedResponse(200, body=b"{}"), "openai-chat"))])
    near = idx.closest(got)
    assert near is not None and len(near.differences) == 5
    assert all(len(line) < 160 for line in near.differences)
    long = differences(rec, got, MatchConfig())
    text_line = next(line for line in long if line.startswith("text:"))
    assert "…" in text_line and len(text_line) < 2 * 60 + 30


def test_differences_non_json_and_method() -> None:
    rec = RecordedRequest("PUT", "/v1/files", body=b"\x00abc")
    lines = differences(rec, call(b"\x00abcd", "/v1/files"), MatchConfig())
    assert lines[0] == "method: recorded PUT, got POST"
    assert lines[1] == "body: recorded 4 bytes, got 5 bytes (not JSON)"


def test_verbatim_closest_reports_exact_differences() -> None:
    it = interaction(b'{"a":1,"b":2}', "/v1/conversations", api=None, query=(("limit", "2"),))
    idx = Index([("c", it)])
    assert idx.lookup(call(b'{"b":2, "a":1}', "/v1/conversations", query={"limit": "2"})) is it
    near = idx.closest(call(b'{"b":2,"a":1,"c":0}', "/v1/conversations", query={"limit": "2"}))
    assert near is not None and near.differences == ["c: recorded (absent), got 0"]
    near = idx.closest(call(b'{"a":1,"b":2}', "/v1/conversations", query={"limit": "3"}))
    assert near is not None and near.differences[0].startswith('query: recorded [["limit", "2"]]')


def test_closest_compares_a_bounded_number_of_recordings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A miss among thousands of recordings names a close one without comparing them all (each comparison builds a
    recording's view: 10,000 of them held the loop 0.2-0.5 s), the latest first."""
    from llmreplay.cassettes import matching

    compared: list[object] = []
    real = matching.differences
    monkeypatch.setattr(
        matching, "differences", lambda rec, got, *a, **k: (compared.append(rec), real(rec, got, *a, **k))[1]
    )
    idx = Index([("c", interaction(chat(f"question {i}"))) for i in range(1000)])
    near = idx.closest(call(chat("question 999!")))
    assert near is not None and near.differences[0].startswith("messages.0.content: recorded 'question ")
    assert len(compared) == matching.CLOSEST_SCAN
    assert near.interaction.request in compared and idx.position(near.interaction) >= 1000 - matching.CLOSEST_SCAN
