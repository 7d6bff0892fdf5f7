"""Keys written some other way than plainly still never reach the cassette (issue 19, case 21): each of the nine
forms is sent through a recorder whose upstream is the project's own synthetic server, and the cassette's bytes
are searched for the key."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from .common import GOOGLE_KEY, OPENAI_KEY, ZERO, only_cassette, recorder, upstream_server
from .test_secrets import windows

CHAT = "/v1/chat/completions"


def _chat_body(text: str) -> bytes:
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}).encode()


def _escaped(key: str) -> str:
    """The key with its letters as JSON ``\\u`` escapes, as ``ensure_ascii`` writers or hand-made bodies do."""
    return "".join(f"\\u{ord(c):04x}" if c.isalpha() else c for c in key)


def _json_raw(text: str) -> bytes:
    """A chat body holding ``text`` as it is written (its escapes kept)."""
    return b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"' + text.encode() + b'"}]}'


PERCENT = OPENAI_KEY.replace("-", "%2D")
FILE = base64.b64encode(f"OPENAI_API_KEY={OPENAI_KEY}\n".encode()).decode()


@dataclass(frozen=True)
class Variant:
    name: str
    body: bytes
    form: bytes
    """The key as the request carries it, which the cassette must not hold either."""
    path: str = CHAT
    method: str = "POST"
    ctype: str = "application/json"


VARIANTS = [
    Variant("followed by /", _chat_body(f"see {OPENAI_KEY}/v1/models"), OPENAI_KEY.encode()),
    Variant("followed by =", _chat_body(f"OPENAI_API_KEY={OPENAI_KEY}="), OPENAI_KEY.encode()),
    Variant("followed by +", _chat_body(f"keys {GOOGLE_KEY}+{OPENAI_KEY}+"), OPENAI_KEY.encode()),
    Variant("JSON \\u escapes", _json_raw(_escaped(OPENAI_KEY)), _escaped(OPENAI_KEY).encode()),
    Variant("%2D in a URL in the prompt", _chat_body(f"fetch https://x.test/?key={PERCENT}"), PERCENT.encode()),
    Variant(
        "%2D in a form body",
        f"api_key={PERCENT}&x=1".encode(),
        PERCENT.encode(),
        ctype="application/x-www-form-urlencoded",
    ),
    Variant(
        "a UTF-16 body",
        _chat_body(f"my key is {OPENAI_KEY}").decode().encode("utf-16"),
        OPENAI_KEY.encode("utf-16-le"),
        ctype="application/json; charset=utf-16",
    ),
    Variant(
        "base64 of a file holding it",
        json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "read"}], "file": FILE}).encode(),
        FILE.encode(),
    ),
    Variant("in the path", b"", OPENAI_KEY.encode(), path=f"/v1/files/{OPENAI_KEY}/content", method="GET"),
]


@pytest.mark.parametrize("v", VARIANTS, ids=[v.name for v in VARIANTS])
def test_a_hidden_key_never_reaches_the_cassette(tmp_path: Path, v: Variant) -> None:
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        got = httpx2.request(v.method, rec.url + v.path, content=v.body or None, headers={"content-type": v.ctype})
        assert got.status_code < 500, got.text
    assert len(only_cassette(tmp_path)) == 1
    raw = (tmp_path / "recorded.msgpack").read_bytes()
    assert v.form not in raw
    for key in (OPENAI_KEY, GOOGLE_KEY):
        assert not [w for w in windows(key) if w in raw]
