"""The record proxy's own HTTP/1.1 client (sources/client.py), against upstreams that answer byte by byte as
the test says: one send per request, pooled connections, every way a body can be framed, and every way an
upstream can fail."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from yarl import URL

from llmreplay.resume import Resume
from llmreplay.sources.client import Client
from llmreplay.sources.response import Response, UpstreamError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
"""One upstream connection: its reader, its writer and its number (0 for the first accepted)."""


class _Threaded:
    """A keep-alive HTTP/1.1 server on a thread, answering each request once its whole body is in, and telling
    the test (``got``) when it has one: so the test can wait for it without giving its own loop a turn."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = threading.Event()
        self.bodies: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(1 << 16)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(buf) < length:
                    data = conn.recv(1 << 16)
                    if not data:
                        return
                    buf += data
                self.bodies.append(buf[:length])
                buf = buf[length:]
                self.got.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def threaded() -> Iterator[_Threaded]:
    up = _Threaded()
    yield up
    up.sock.close()


async def _body(resp: Response) -> bytes:
    parts = []
    while chunk := await resp.readany():
        parts.append(chunk)
    resp.release()
    return b"".join(parts)


async def test_the_request_leaves_in_one_send_before_the_loop_turns(threaded: _Threaded) -> None:
    client = Client()
    url = URL(f"http://127.0.0.1:{threaded.port}/v1/chat/completions")
    try:
        # A first request opens the pooled connection (connecting takes turns of the loop).
        assert await _body(await client.request("POST", url, [], b'{"a":1}', 10)) == b"{}"
        threaded.got.clear()
        body = b'{"model":"gpt-4o","messages":[]}'
        steps = client.request("POST", url, [("Content-Type", "application/json")], body, 10).__await__()
        waiting = next(steps)  # the request runs up to its wait for the answer: no turn of the loop yet
        # Blocking the loop here: only a request that has already left can reach the upstream.
        assert threaded.got.wait(10), "the request had not left when its coroutine first waited"
        assert threaded.bodies[-1] == body
        resp = await Resume(steps, waiting)  # type: ignore[arg-type]
        assert resp.status == 200
        assert await _body(resp) == b"{}"
    finally:
        await client.close()


async def test_a_body_larger_than_the_write_buffer_arrives_whole(threaded: _Threaded) -> None:
    client = Client()
    body = bytes(range(256)) * 8192  # 2 MiB
    try:
        resp = await client.request("POST", URL(f"http://127.0.0.1:{threaded.port}/v1/embeddings"), [], body, 10)
        assert resp.status == 200 and await _body(resp) == b"{}"
        assert threaded.bodies == [body]
    finally:
        await client.close()


@asynccontextmanager
async def _upstream(handle: Handler) -> AsyncIterator[tuple[URL, list[bytes]]]:
    """An upstream whose every connection ``handle`` serves; the list holds each request's head as it came."""
    heads: list[bytes] = []
    accepted = [0]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n, accepted[0] = accepted[0], accepted[0] + 1
        try:
            await handle(reader, writer, n)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield URL(f"http://127.0.0.1:{port}/v1/x"), heads
    finally:
        server.close()


async def _read_request(reader: asyncio.StreamReader, heads: list[bytes] | None = None) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    if heads is not None:
        heads.append(head)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return await reader.readexactly(length)


def _ok(body: bytes, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_a_connection_is_kept_for_the_next_call_and_the_head_is_the_clients_own() -> None:
    heads: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        connections.append(n)
        while True:
            body = await _read_request(reader, heads)
            writer.write(_ok(body))

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            auth = url.with_user("gate").with_password("pw")
            for i in range(3):
                resp = await client.request("POST", auth, [("X-Test", str(i))], f"call {i}".encode(), 5)
                assert await _body(resp) == f"call {i}".encode()
        finally:
            await client.close()
    assert connections == [0]
    lines = heads[0].decode().split("\r\n")
    assert lines[0] == "POST /v1/x HTTP/1.1"
    # Only what the call carries, the host, its length and the URL's credentials: no client name of its own.
    assert sorted(line.split(":")[0] for line in lines[1:] if line) == [
        "Authorization",
        "Content-Length",
        "Host",
        "X-Test",
    ]
    assert f"Host: 127.0.0.1:{url.port}" in lines and "Authorization: Basic Z2F0ZTpwdw==" in lines


async def test_a_pooled_connection_found_closed_sends_an_idempotent_call_again_but_never_a_post() -> None:
    requests: list[tuple[int, bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        first = True
        heads: list[bytes] = []
        while True:
            await _read_request(reader, heads)
            requests.append((n, heads[-1].split(b" ")[0]))
            if n == 0 and not first:
                return  # the upstream let this kept-alive connection go just as the call came
            first = False
            writer.write(_ok(b"fine"))

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            assert await _body(await client.request("GET", url, [], b"", 5)) == b"fine"
            assert await _body(await client.request("GET", url, [], b"", 5)) == b"fine"  # sent again on a new one
            assert [n for n, _ in requests] == [0, 0, 1]
        finally:
            await client.close()

    requests.clear()
    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            assert await _body(await client.request("POST", url, [], b"{}", 5)) == b"fine"
            with pytest.raises(UpstreamError) as failed:
                await client.request("POST", url, [], b"{}", 5)
            assert failed.value.kind == "disconnect"
            assert requests == [(0, b"POST"), (0, b"POST")]  # once: a POST may have been taken
        finally:
            await client.close()


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", b"until the end"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            b"hello world",
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", b"old"),
    ],
    ids=["closed-at-the-end", "chunked", "http-1.0"],
)
async def test_each_framing_of_a_body_is_read_to_its_end(answer: bytes, body: bytes) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        for i in range(0, len(answer), 7):  # in small pieces, as a slow network hands them on
            writer.write(answer[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0.001)
        if b"Content-Type: text/plain" in answer:
            writer.close()
        else:
            await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 200 and await _body(resp) == body
        finally:
            await client.close()


async def test_a_gzip_body_is_decoded_and_loses_its_encoding_header() -> None:
    payload = b'{"choices": []}' * 100

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        writer.write(_ok(gzip.compress(payload), "Content-Encoding: gzip", "Content-Type: application/json"))
        await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert [k.lower() for k, _ in resp.headers] == ["content-length", "content-type"]
            assert await _body(resp) == payload
        finally:
            await client.close()


async def test_interim_answers_no_body_answers_and_head_leave_the_connection_usable() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"after continue"))
        await _read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await _read_request(reader)
        writer.write(_ok(b"again"))
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")  # HEAD: the length of a body not sent
        await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 200 and await _body(resp) == b"after continue"
            resp = await client.request("POST", url, [], b"{}", 5)
            assert resp.status == 204 and await _body(resp) == b""
            assert await _body(await client.request("POST", url, [], b"{}", 5)) == b"again"
            resp = await asyncio.wait_for(client.request("HEAD", url, [], b"", 5), 5)
            assert resp.status == 200 and await asyncio.wait_for(_body(resp), 5) == b""
        finally:
            await client.close()


async def test_failures_have_their_kind() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    client = Client()
    try:
        with pytest.raises(UpstreamError) as failed:
            await client.request("POST", URL(f"http://127.0.0.1:{closed}/v1/x"), [], b"{}", 5)
        assert failed.value.kind == "connect"

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await reader.read()

        async with _upstream(silent) as (url, _):
            with pytest.raises(UpstreamError) as failed:
                await client.request("POST", url, [], b"{}", 0.2)
            assert failed.value.kind == "timeout"

        async def garbled(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await _read_request(reader)
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await reader.read()

        async with _upstream(garbled) as (url, _):
            with pytest.raises(UpstreamError) as failed:
                await client.request("POST", url, [], b"{}", 5)
            assert failed.value.kind == "disconnect"

        async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")

        async with _upstream(cut) as (url, _):
            resp = await client.request("POST", url, [], b"{}", 5)
            assert await resp.readany() == b"only part"
            with pytest.raises(UpstreamError) as failed:
                await resp.readany()
            assert failed.value.kind == "disconnect"
            resp.release()
    finally:
        await client.close()


async def test_a_pipe_hands_on_each_chunk_and_stops_when_its_sink_is_full() -> None:
    gate = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for word in (b"one", b"two", b"three", b"four"):
            await gate.wait()
            gate.clear()
            writer.write(b"%x\r\n%s\r\n" % (len(word), word))
            await writer.drain()
        await gate.wait()
        writer.write(b"0\r\n\r\n")
        await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            kept: list[bytes] = []
            sunk: list[bytes] = []
            over = resp.pipe(kept.append, lambda data: sunk.append(data) or len(sunk) < 2)
            assert over is not None
            for _ in range(2):
                gate.set()
                await asyncio.sleep(0.05)
            await asyncio.wait_for(over, 5)  # the sink took its second chunk and wanted no more
            assert kept == sunk == [b"one", b"two"]
            gate.set()
            await asyncio.sleep(0.05)
            assert sunk == [b"one", b"two"]  # the third waits to be read
            assert await resp.readany() == b"three"
            gate.set()
            assert await resp.readany() == b"four"
            gate.set()
            assert await resp.readany() == b""
            resp.release()
        finally:
            await client.close()


async def test_a_slow_reader_pauses_the_upstream_and_gets_every_byte() -> None:
    block = bytes(range(256)) * 256  # 64 KiB
    blocks = 32

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(block) * blocks))
        for _ in range(blocks):
            writer.write(block)
            await writer.drain()
        await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            resp = await client.request("POST", url, [], b"{}", 5)
            await asyncio.sleep(0.2)  # the upstream sends as fast as it can, nobody reads
            assert resp._held < 4 * len(block)  # reading paused near the high-water mark, not the whole body held
            got = await _body(resp)
            assert got == block * blocks
        finally:
            await client.close()


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context that trusts it alone."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llmreplay test upstream")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp / "cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = tmp / "key.pem"
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(pem, key_pem)
    client = ssl.create_default_context(cafile=str(pem))
    return server, client


async def test_https_is_spoken_with_a_verified_certificate(tmp_path: Path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(_ok(await _read_request(reader)))
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_tls)
    url = URL(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/x")
    try:
        client = Client(tls=client_tls)
        try:
            for body in (b"over tls", b"again, on the same connection"):
                assert await _body(await client.request("POST", url, [], body, 5)) == body
            assert len(client._open) == 1
        finally:
            await client.close()
        stranger = Client()  # the system's trust store does not know this certificate
        try:
            with pytest.raises(UpstreamError) as failed:
                await stranger.request("POST", url, [], b"{}", 5)
            assert failed.value.kind == "connect" and "certificate" in str(failed.value).lower()
        finally:
            await stranger.close()
    finally:
        server.close()


async def test_a_burst_of_new_connections_to_a_named_host_looks_it_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    lookups: list[str] = []

    async def counted(host: str, port: int, **_: object) -> list[object]:
        # The resolver, for a name of the test's own: 127.0.0.1 after a lookup's wait.
        lookups.append(host)
        await asyncio.sleep(0.05)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(loop, "getaddrinfo", counted)
    gate = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await _read_request(reader)
        await gate.wait()  # every call holds its connection, so each needs one of its own
        writer.write(_ok(b"ok"))
        await reader.read()

    async with _upstream(handle) as (url, _):
        client = Client()
        try:
            named = url.with_host("upstream.test")
            calls = [asyncio.ensure_future(client.request("POST", named, [], b"{}", 5)) for _ in range(5)]
            await asyncio.sleep(0.2)
            gate.set()
            for resp in await asyncio.gather(*calls):
                assert await _body(resp) == b"ok"
            assert len(client._open) == 5
        finally:
            await client.close()
    assert lookups == ["upstream.test"]
