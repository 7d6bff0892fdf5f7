"""What one client may send: body, header, request-line and WebSocket message sizes, and body speed."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import aiohttp
import pytest

from llmreplay.limits import Limits
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.security.limited import LimitedServer

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"parts": [{"text": "hi"}]}]}
GEMINI_PATH = "/v1beta/models/gemini-2.0-flash:generateContent"


@pytest.fixture(scope="module")
def limited() -> Iterator[LimitedServer]:
    limits = Limits(max_line_size=4096, max_field_size=4096, max_headers=64, body_timeout_s=0.5)
    with LimitedServer(settings(server={"quiet": True, "max_body_mb": 0.05}), limits) as s:
        yield s


def _raw(port: int, data: bytes, *, then: bytes = b"", timeout: float = 10) -> tuple[int, bytes]:
    """Send ``data`` on a fresh connection; (status, whole response) — status 0 if the server just closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if then:
            sock.sendall(then)
        chunks: list[bytes] = []
        while True:
            try:
                got = sock.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            chunks.append(got)
            if _complete(b"".join(chunks)):
                break
    raw = b"".join(chunks)
    if not raw.startswith(b"HTTP/1."):
        return 0, raw
    return int(raw[9:12]), raw


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _post(path: str, body: bytes, *, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


@pytest.mark.parametrize("which", ["default", "limited"])
def test_oversized_header_is_4xx(which: str, server: BackgroundServer, limited: LimitedServer) -> None:
    port = server.port if which == "default" else limited.port
    status, raw = _raw(
        port, _post("/v1/chat/completions", json.dumps(CHAT).encode(), extra=f"X-Big: {'a' * 20000}\r\n")
    )
    assert status in (400, 431), raw[:200]
    assert b"Traceback" not in raw


@pytest.mark.parametrize("which", ["default", "limited"])
def test_too_many_headers_is_4xx(which: str, server: BackgroundServer, limited: LimitedServer) -> None:
    port = server.port if which == "default" else limited.port
    extra = "".join(f"X-H{i}: v\r\n" for i in range(300))
    status, raw = _raw(port, _post("/v1/chat/completions", json.dumps(CHAT).encode(), extra=extra))
    assert status in (400, 431), raw[:200]
    assert b"Traceback" not in raw


@pytest.mark.parametrize("which", ["default", "limited"])
def test_huge_query_string_is_4xx(which: str, server: BackgroundServer, limited: LimitedServer) -> None:
    port = server.port if which == "default" else limited.port
    path = GEMINI_PATH + "?key=" + "k" * 100_000
    status, raw = _raw(port, _post(path, json.dumps(GEMINI).encode()))
    assert status in (400, 414, 431), raw[:200]
    assert b"Traceback" not in raw


def test_query_within_limit_is_answered(limited: LimitedServer) -> None:
    status, raw = _raw(limited.port, _post(GEMINI_PATH + "?key=" + "k" * 2000, json.dumps(GEMINI).encode()))
    assert status == 200, raw[:300]


@pytest.mark.parametrize(
    ("path", "payload", "shape"),
    [
        ("/v1/chat/completions", CHAT, "openai"),
        ("/v1/messages", MESSAGES, "anthropic"),
        (GEMINI_PATH, GEMINI, "gemini"),
    ],
)
def test_oversized_body_is_413_in_the_provider_envelope(
    limited: LimitedServer, path: str, payload: dict[str, object], shape: str
) -> None:
    body = json.dumps({**payload, "pad": "x" * 100_000}).encode()
    status, raw = _raw(limited.port, _post(path, body))
    assert status == 413, raw[:300]
    err = json.loads(raw.partition(b"\r\n\r\n")[2])
    if shape == "anthropic":
        assert err["type"] == "error" and err["error"]["type"]
    elif shape == "gemini":
        assert err["error"]["code"] == 413
    else:
        assert err["error"]["message"]


@pytest.mark.parametrize(
    ("path", "shape"), [("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic"), (GEMINI_PATH, "gemini")]
)
def test_trickled_body_times_out_with_408(limited: LimitedServer, path: str, shape: str) -> None:
    body = json.dumps(CHAT).encode()
    head = _post(path, body)[: -len(body)]
    # Half the body, then nothing: the server gives up after body_timeout_s, answering in the envelope.
    status, raw = _raw(limited.port, head + body[:10], timeout=10)
    assert status == 408, raw[:300]
    err = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert "did not arrive" in json.dumps(err)
    assert b"connection: close" in raw.lower()


def test_a_timely_body_is_answered(limited: LimitedServer) -> None:
    status, raw = _raw(limited.port, _post("/v1/chat/completions", json.dumps(CHAT).encode()))
    assert status == 200, raw[:300]


async def test_websocket_message_over_the_limit_closes_the_socket(server: BackgroundServer) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.url + "/ws") as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        await ws.send_str("x" * (65 * 1024))
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                break
        assert ws.closed
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
