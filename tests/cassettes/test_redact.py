"""Personal data: what is scrubbed by default, what is left alone, and that matching sees the same scrub."""

from __future__ import annotations

import json

import pytest

from llmreplay.cassettes.keys import MatchConfig
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.model import Call


@pytest.mark.parametrize(
    "text",
    [
        "bob@example.com",
        "Bob.Smith+tag@mail.example.co.uk",
        "555-123-4567",
        "(555) 123-4567",
        "+1 555 123 4567",
        "+44 20 7946 0958",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5500000000000004",
        "3782 822463 10005",
    ],
)
def test_personal_data_is_replaced(text: str) -> None:
    body = json.dumps({"content": f"line one\nreach me: {text}, thanks"}).encode()
    out = Scrubber().request(RecordedRequest("POST", "/v1/chat/completions", (), (), body)).body
    assert text.encode() not in out and json.loads(out)["content"] == "line one\nreach me: REDACTED, thanks"


@pytest.mark.parametrize(
    "text",
    [
        "-1.4634492981713265e-05",  # a log-probability
        "1712345678",  # epoch seconds
        "1765015200123",  # epoch milliseconds
        "1765015200123456",  # epoch microseconds
        "2026-12-06T10:00:00Z",
        "version 1.2.3",
        "call_abc123XYZ45",
        "123e4567-e89b-12d3-a456-426614174000",
    ],
)
def test_numbers_that_are_not_personal_are_kept(text: str) -> None:
    body = json.dumps({"content": text}).encode()
    assert Scrubber().request(RecordedRequest("POST", "/v1/x", (), (), body)).body == body


def test_a_setting_turns_personal_scrubbing_off() -> None:
    body = json.dumps({"content": "bob@example.com"}).encode()
    assert Scrubber(ScrubConfig(personal=False)).request(RecordedRequest("POST", "/v1/x", (), (), body)).body == body


def test_a_request_scrubbed_at_record_time_matches_as_sent() -> None:
    sent = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "mail bob@example.com, card 4111111111111111"}]},
        separators=(",", ":"),
    ).encode()
    cfg = MatchConfig(scrub=ScrubConfig(patterns=(r"order-\d+",)))
    stored = Scrubber(cfg.scrub).request(RecordedRequest("POST", "/v1/chat/completions", (), (), sent))
    assert b"bob@" not in stored.body and b"4111" not in stored.body
    it = Interaction(stored, RecordedResponse(200, (), b"{}", None, 0, 0), "openai-chat", "chat-completions")
    idx = Index([("c", it)], cfg)
    assert idx.lookup(Call("POST", "/v1/chat/completions", {}, {}, {}, sent)) is it
    other = sent.replace(b"bob@example.com", b"eve@example.com")
    assert idx.lookup(Call("POST", "/v1/chat/completions", {}, {}, {}, other)) is it  # both read REDACTED
    assert idx.lookup(Call("POST", "/v1/chat/completions", {}, {}, {}, sent.replace(b"mail", b"post"))) is None


def test_body_paths_scrubbed_at_record_time_match_too() -> None:
    sent = json.dumps({"model": "m", "messages": [], "user_name": "Alice"}).encode()
    cfg = MatchConfig(scrub=ScrubConfig(body_paths=("user_name",)))
    stored = Scrubber(cfg.scrub).request(RecordedRequest("POST", "/v1/chat/completions", (), (), sent))
    it = Interaction(stored, RecordedResponse(200, (), b"{}", None, 0, 0), "openai-chat", "chat-completions")
    assert Index([("c", it)], cfg).lookup(Call("POST", "/v1/chat/completions", {}, {}, {}, sent)) is it


def test_matching_reads_personal_data_as_redacted_even_when_it_is_kept() -> None:
    """An import scrubs with the defaults: its cassette still matches on a server set to keep personal data."""
    sent = json.dumps({"model": "m", "messages": [{"role": "user", "content": "mail bob@example.com"}]}).encode()
    stored = Scrubber().request(RecordedRequest("POST", "/v1/chat/completions", (), (), sent))
    it = Interaction(stored, RecordedResponse(200, (), b"{}", None, 0, 0), "openai-chat", "chat-completions")
    idx = Index([("c", it)], MatchConfig(scrub=ScrubConfig(personal=False)))
    assert idx.lookup(Call("POST", "/v1/chat/completions", {}, {}, {}, sent)) is it


def test_a_body_full_of_marks_is_still_scrubbed() -> None:
    """A million "@" (or phone-number skeletons) are searched in one pass, not a window each: the key of such a body is
    still taken, and what is personal in it still found."""
    body = json.dumps({"content": "@" * 1_000_000 + " bob@example.com " + "555-1234 " * 50_000}).encode()
    out = json.loads(Scrubber().request(RecordedRequest("POST", "/v1/x", (), (), body)).body)["content"]
    assert "bob@example.com" not in out and "REDACTED" in out
    key = MatchConfig().scrubber.view(json.dumps({"content": "@" * 1_000_000 + " bob@example.com"}))
    assert key.endswith('REDACTED"}')
