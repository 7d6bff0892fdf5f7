"""Case 13 of issue 19: header bytes that are not UTF-8 (aiohttp hands them on as lone surrogates) are a key
or a seed like any other on the provider paths, and a wrong admin token on /api/*: never a 500."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator

import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings

CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
MESSAGES = b'{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
GEMINI = b'{"contents":[{"parts":[{"text":"hi"}]}]}'
CALLS = [
    (b"GET", b"/v1/models", b""),
    (b"POST", b"/v1/chat/completions", CHAT),
    (b"POST", b"/v1/messages", MESSAGES),
    (b"POST", b"/v1beta/models/gemini-2.0-flash:generateContent", GEMINI),
]
HEADERS = [b"Authorization: Bearer \xff\xfe", b"x-api-key: \xff", b"x-goog-api-key: \xc3(", b"x-llmreplay-seed: \xff"]


def _status(port: int, method: bytes, path: bytes, header: bytes, body: bytes = b"") -> tuple[int, bytes]:
    head = b"%s %s HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Type: application/json\r\n" % (method, path, header)
    data = head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while got := sock.recv(65536):
            chunks.append(got)
    raw = b"".join(chunks)
    return int(raw[9:12]), raw


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.name.startswith("llmreplay") and (r.exc_info or r.levelno >= 40)]


@pytest.fixture(scope="module")
def own() -> Iterator[BackgroundServer]:
    """A server of this module's own, so that the log holds its lines alone."""
    with BackgroundServer(settings()) as s:
        yield s


@pytest.mark.parametrize("header", HEADERS)
def test_provider_paths_take_non_utf8_credentials_and_seeds(
    own: BackgroundServer, header: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for method, path, body in CALLS:
        status, raw = _status(own.port, method, path, header, body)
        assert status == 200, raw[:300]
    _no_traceback(caplog)


def test_a_non_utf8_seed_is_a_seed(own: BackgroundServer) -> None:
    """The same bytes give the same reply: the seed is the bytes the client sent."""
    bodies = [_status(own.port, b"POST", b"/v1/chat/completions", b"x-llmreplay-seed: \xff", CHAT)[1] for _ in "ab"]
    contents = [raw.partition(b"\r\n\r\n")[2].split(b'"content":')[1].split(b'"')[1] for raw in bodies]
    assert contents[0] == contents[1]


def test_admin_token_check_refuses_non_utf8_with_401(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    s = make_server(server={"quiet": True, "admin_token": "s3cret"})
    for header in (b"Authorization: Bearer \xff", b"Authorization: Bearer s3cret\xff", b"Authorization: \xff"):
        status, raw = _status(s.port, b"GET", b"/api/config", header)
        assert status == 401, raw[:300]
    assert _status(s.port, b"GET", b"/api/config", b"Authorization: Bearer s3cret")[0] == 200
    _no_traceback(caplog)
