"""Credentials go upstream untouched and never reach the cassette file, in any API's form."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from llmreplay.cassettes.store import list_cassettes, load

from .common import (
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    OPENAI_KEY,
    RAW_CASES,
    SDK_CALLS,
    SDK_CASES,
    ZERO,
    fetch,
    recorder,
    upstream_server,
)

pytestmark = pytest.mark.sdk


class EchoUpstream:
    """A bare upstream that notes the headers and query of every request and answers ``{}``."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                got = {k.lower(): v for k, v in self.headers.items()}
                got.update({f"?{k}": v for k, v in parse_qsl(urlsplit(self.path).query)})
                seen.append(got)
                body = json.dumps({"ok": True}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> EchoUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


AUTH = {
    "openai-chat": {"authorization": f"Bearer {OPENAI_KEY}"},
    "openai-responses": {"authorization": f"Bearer {OPENAI_KEY}"},
    "anthropic-messages": {"x-api-key": ANTHROPIC_KEY},
    "gemini": {"x-goog-api-key": GOOGLE_KEY},
}


def windows(secret: str, n: int = 12) -> Iterator[bytes]:
    data = secret.encode()
    for i in range(len(data) - n + 1):
        yield data[i : i + n]


def assert_no_secret(folder: Path) -> None:
    files = list_cassettes(folder)
    assert files
    for f in files:
        raw = f.read_bytes()
        for secret in (OPENAI_KEY, ANTHROPIC_KEY, GOOGLE_KEY):
            leaked = [w for w in windows(secret) if w in raw]
            assert not leaked, f"{f.name} holds part of {secret[:8]}…: {leaked[:3]}"


def test_raw_credentials_reach_upstream_but_not_the_cassette(tmp_path: Path) -> None:
    with EchoUpstream() as up, recorder(tmp_path, up.url) as rec:
        for raw in RAW_CASES:
            got = fetch(rec.url, raw, AUTH[raw.api])
            assert got.status == 200
        gemini = next(r for r in RAW_CASES if r.api == "gemini" and r.stream)
        # The key in the query, as older Gemini clients send it.
        keyed = dataclasses.replace(gemini, query={**gemini.query, "key": GOOGLE_KEY})
        assert fetch(rec.url, keyed).status == 200
    seen = up.seen
    assert sum(1 for s in seen if s.get("authorization") == f"Bearer {OPENAI_KEY}") == 4
    assert sum(1 for s in seen if s.get("x-api-key") == ANTHROPIC_KEY) == 2
    assert sum(1 for s in seen if s.get("x-goog-api-key") == GOOGLE_KEY) == 2
    assert sum(1 for s in seen if s.get("?key") == GOOGLE_KEY) == 1
    assert_no_secret(tmp_path)
    its = load(tmp_path / "recorded.msgpack").interactions
    assert len(its) == len(seen)
    # The names stay, so a replay can see what the client sent.
    names = {k for it in its for k, _ in it.request.headers}
    assert {"authorization", "x-api-key", "x-goog-api-key"} <= names
    assert any(k == "key" for it in its for k, _ in it.request.query)


def test_sdk_credentials_never_reach_the_cassette(tmp_path: Path) -> None:
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        for api, stream in SDK_CASES:
            SDK_CALLS[api](rec.url, stream)
    assert len(load(tmp_path / "recorded.msgpack").interactions) == len(SDK_CASES)
    assert_no_secret(tmp_path)
