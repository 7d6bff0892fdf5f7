"""The scrubber's decoded views: what each finds, and that everything else keeps its exact bytes."""

from __future__ import annotations

import base64
import re

from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.cassettes.scrub_views import in_base64, unescaped, utf16
from tests.cassettes.test_scrub import _request

KEY = "sk-" + "proj-AbCdEfGhIjKlMnOpQrStUv0123456789"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
SHAPE = re.compile(rb"sk-[A-Za-z0-9_-]{16,}")


def test_escapes_are_read_and_the_whole_escaped_key_replaced() -> None:
    escaped = KEY.replace("s", "\\u0073", 1).replace("-", "%2D").encode()
    data = b'{"a":"caf\\u00e9 ' + escaped + b' \\u00e9%41"}'
    assert unescaped(data, SHAPE, b"X") == b'{"a":"caf\\u00e9 X \\u00e9%41"}'
    plain = b'{"a":"caf\\u00e9 100%2D"}'
    assert unescaped(plain, SHAPE, b"X") is plain


def test_utf16_either_order_and_alignment() -> None:
    text = f"\u00e9 key {KEY} \u4e2d"
    for enc in ("utf-16-le", "utf-16-be"):
        for lead in (b"", b"\x01"):
            out = utf16(lead + text.encode(enc), re.compile(SHAPE.pattern.decode()), "X")
            assert out == lead + text.replace(KEY, "X").encode(enc)


def test_base64_is_encoded_again_without_the_key() -> None:
    blob = base64.b64encode(b"%PDF-1.7 ... OPENAI_API_KEY=" + KEY.encode() + b"\n...").decode()
    out = in_base64(f'{{"file":"{blob}"}}'.encode(), SHAPE, b"REDACTED")
    again = out.decode().split('"')[3]
    assert base64.b64decode(again) == b"%PDF-1.7 ... OPENAI_API_KEY=REDACTED\n..."


def test_keys_followed_by_slash_equals_plus_and_in_a_path() -> None:
    s = Scrubber()
    for tail in ("/", "=", "+", "/x", "=="):
        assert s._text(f"{KEY}{tail}") == f"REDACTED{tail}"
        assert s._text(f"k {GOOGLE}{tail}") == f"k REDACTED{tail}"
    assert s._text(f"+{KEY}") == "+REDACTED"
    # A path's segments one by one, so a key between two slashes goes too, whatever its shape.
    for key in (KEY, GOOGLE):
        assert s.request(_request(path=f"/v1/files/{key}/content")).path == "/v1/files/REDACTED/content"


def test_base64_data_holding_a_google_key_shape_is_left_alone() -> None:
    # Inside base64 "AIza…" follows a base64 character: an inline file is not mangled.
    for before, after in (("Qx", "Zz"), ("+", "+/"), ("/", "/A"), ("/", "=")):
        data = f'{{"data":"{before}{GOOGLE}{after}"}}'.encode()
        assert Scrubber()._json_body(data) == data


def test_a_users_pattern_ending_inside_a_character_keeps_the_value_text() -> None:
    # Read through an escape, "A." takes the first byte of "é": the rest is U+FFFD, never an undecodable value.
    assert Scrubber(ScrubConfig(patterns=("A.",)))._text("x%41\u00e9") == "xREDACTED\ufffd"
