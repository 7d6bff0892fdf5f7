"""Export to JSON and back: exact for every kind of bytes and for extra fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmreplay.cassettes import jsonio
from llmreplay.cassettes.jsonio import JsonCassetteError
from llmreplay.cassettes.model import Header, Interaction, RecordedEvent, RecordedRequest, RecordedResponse

HEADER = Header("https://api.openai.com", "2026-01-01T00:00:00Z", "0.1.0")


def sample() -> list[Interaction]:
    req = RecordedRequest("POST", "/v1/chat/completions", (("a", "1"), ("a", "2")), (("x-h", "v"),), b'{"stream":true}')
    stream = RecordedResponse(
        200,
        (("content-type", "text/event-stream"),),
        None,
        (RecordedEvent(1000, b'data: {"x":"\xc3\xa9"}\r\n\r\n'), RecordedEvent(2500, b"\xff\xfe binary")),
        900,
        2600,
    )
    plain = RecordedResponse(500, (), b"\x00\x01\x02", None, 10, 20, "disconnect")
    empty = RecordedResponse(204, (), None, None, 0, 0)
    return [
        Interaction(
            req, stream, "openai-chat", "chat-completions", "2026-01-01T00:00:01Z", {"note": b"\x00raw", "n": 1}
        ),
        Interaction(RecordedRequest("GET", "/x", body=b"\x80"), plain),
        Interaction(RecordedRequest("GET", "/y"), empty),
    ]


def test_round_trip_is_exact() -> None:
    text = jsonio.dumps(HEADER, sample())
    header, items = jsonio.from_json(json.loads(text))
    assert header == HEADER
    assert items == sample()
    assert [i.to_obj() for i in items] == [i.to_obj() for i in sample()]


def test_utf8_is_text_and_binary_is_base64() -> None:
    doc = jsonio.to_json(HEADER, sample())
    first = doc["interactions"][0]
    assert first["request"]["body"] == '{"stream":true}'
    assert first["response"]["events"][0] == {"at_us": 1000, "data": 'data: {"x":"é"}\r\n\r\n'}
    assert set(first["response"]["events"][1]["data"]) == {"base64"}
    assert first["extra"]["note"] == {"base64": "AHJhdw=="}


def test_load_file(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    p.write_text(jsonio.dumps(HEADER, sample()))
    assert jsonio.load(p) == (HEADER, sample())


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "not an exported llmreplay cassette"),
        ({"format": jsonio.FORMAT, "header": {}}, "header: not an llmreplay cassette"),
        ({"format": jsonio.FORMAT, "header": HEADER.to_obj(), "interactions": {}}, "must be a list"),
        ({"format": jsonio.FORMAT, "header": HEADER.to_obj(), "interactions": [{}]}, r"interactions\[0\]"),
    ],
)
def test_bad_documents(doc: object, message: str) -> None:
    with pytest.raises(JsonCassetteError, match=message):
        jsonio.from_json(doc)


def test_bad_fields() -> None:
    good = jsonio.to_json(HEADER, sample())
    good["interactions"][0]["response"]["events"][0]["at_us"] = "soon"
    with pytest.raises(JsonCassetteError, match=r"events\[0\]\.at_us"):
        jsonio.from_json(good)
    good = jsonio.to_json(HEADER, sample())
    good["interactions"][1]["request"]["body"] = {"base64": "!!"}
    with pytest.raises(JsonCassetteError, match="invalid base64"):
        jsonio.from_json(good)


def test_load_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(JsonCassetteError, match=r"bad\.json: not valid JSON"):
        jsonio.load(bad)
    with pytest.raises(JsonCassetteError, match="cannot read"):
        jsonio.load(tmp_path / "missing.json")
