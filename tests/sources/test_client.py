"""The record proxy's own HTTP/1.1 client (sources/client.py): one send per request, pooled connections and
their keep-alive, TLS, address lookups, and every way an upstream can fail (test_client_body.py: reading answers)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from yarl import URL

from llmreplay.resume import Resume
from llmreplay.sources.client import Client
from llmreplay.sources.response import UpstreamError
from tests.sources.client_kit import body_of, ok, read_request, upstream


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


async def test_the_request_leaves_in_one_send_before_the_loop_turns(threaded: _Threaded) -> None:
    client = Client()
    url = URL(f"http://127.0.0.1:{threaded.port}/v1/chat/completions")
    try:
        # A first request opens the pooled connection (connecting takes turns of the loop).
        assert await body_of(await client.request("POST", url, [], b'{"a":1}', 10)) == b"{}"
        threaded.got.clear()
        body = b'{"model":"gpt-4o","messages":[]}'
        steps = client.request("POST", url, [("Content-Type", "application/json")], body, 10).__await__()
        waiting = next(steps)  # the request runs up to its wait for the answer: no turn of the loop yet
        # Blocking the loop here: only a request that has already left can reach the upstream.
        assert threaded.got.wait(10), "the request had not left when its coroutine first waited"
        assert threaded.bodies[-1] == body
        resp = await Resume(steps, waiting)  # type: ignore[arg-type]
        assert resp.status == 200
        assert await body_of(resp) == b"{}"
    finally:
        await client.close()


async def test_a_call_begun_outside_any_task_opens_its_connection_and_times_its_connect(threaded: _Threaded) -> None:
    # The express lane begins a proxied call in its connection's callback, where no task is running.
    loop = asyncio.get_running_loop()
    client = Client()

    async def begun_outside_a_task(url: URL, timeout: float) -> object:
        steps = client.request("POST", url, [], b"{}", timeout).__await__()
        first: asyncio.Future[object] = loop.create_future()

        def begin() -> None:
            assert asyncio.current_task() is None
            try:
                first.set_result(next(steps))
            except BaseException as exc:
                first.set_exception(exc)

        loop.call_soon(begin)
        return await Resume(steps, await first)  # type: ignore[arg-type]

    full = socket.create_server(("127.0.0.1", 0), backlog=0)
    queued = [socket.socket() for _ in range(4)]
    try:
        resp = await begun_outside_a_task(URL(f"http://127.0.0.1:{threaded.port}/v1/chat/completions"), 10)
        assert resp.status == 200 and await body_of(resp) == b"{}"  # type: ignore[attr-defined]
        # A listener whose queue is full answers no new connection: the connect's own timer ends the call.
        for sock in queued:
            sock.setblocking(False)
            sock.connect_ex(full.getsockname())
        with pytest.raises(UpstreamError) as failed:
            await begun_outside_a_task(URL(f"http://127.0.0.1:{full.getsockname()[1]}/v1/x"), 0.2)
        assert failed.value.kind == "timeout"
    finally:
        for sock in queued:
            sock.close()
        full.close()
        await client.close()


async def test_a_body_larger_than_the_write_buffer_arrives_whole(threaded: _Threaded) -> None:
    client = Client()
    body = bytes(range(256)) * 8192  # 2 MiB
    try:
        resp = await client.request("POST", URL(f"http://127.0.0.1:{threaded.port}/v1/embeddings"), [], body, 10)
        assert resp.status == 200 and await body_of(resp) == b"{}"
        assert threaded.bodies == [body]
    finally:
        await client.close()


async def test_a_connection_is_kept_for_the_next_call_and_the_head_is_the_clients_own() -> None:
    heads: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        connections.append(n)
        while True:
            body = await read_request(reader, heads)
            writer.write(ok(body))

    async with upstream(handle) as url:
        client = Client()
        try:
            auth = url.with_user("gate").with_password("pw")
            for i in range(3):
                resp = await client.request("POST", auth, [("X-Test", str(i))], f"call {i}".encode(), 5)
                assert await body_of(resp) == f"call {i}".encode()
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
            await read_request(reader, heads)
            requests.append((n, heads[-1].split(b" ")[0]))
            if n == 0 and not first:
                return  # the upstream let this kept-alive connection go just as the call came
            first = False
            writer.write(ok(b"fine"))

    async with upstream(handle) as url:
        client = Client()
        try:
            assert await body_of(await client.request("GET", url, [], b"", 5)) == b"fine"
            assert await body_of(await client.request("GET", url, [], b"", 5)) == b"fine"  # sent again on a new one
            assert [n for n, _ in requests] == [0, 0, 1]
        finally:
            await client.close()

    requests.clear()
    async with upstream(handle) as url:
        client = Client()
        try:
            assert await body_of(await client.request("POST", url, [], b"{}", 5)) == b"fine"
            with pytest.raises(UpstreamError) as failed:
                await client.request("POST", url, [], b"{}", 5)
            assert failed.value.kind == "disconnect"
            assert requests == [(0, b"POST"), (0, b"POST")]  # once: a POST may have been taken
        finally:
            await client.close()


async def _failure(client: Client, url: URL, timeout: float = 5) -> str:
    """The kind of the UpstreamError a call to ``url`` raises."""
    with pytest.raises(UpstreamError) as failed:
        await client.request("POST", url, [], b"{}", timeout)
    return failed.value.kind


async def test_failures_have_their_kind() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    client = Client()
    try:
        assert await _failure(client, URL(f"http://127.0.0.1:{closed}/v1/x")) == "connect"
        assert await _failure(client, URL("http://no..such.test:9/v1/x")) == "connect"  # the resolver refuses it

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await reader.read()

        async with upstream(silent) as url:
            assert await _failure(client, url, timeout=0.2) == "timeout"

        async def garbled(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await read_request(reader)
            writer.write(b"NOT HTTP AT ALL\r\n\r\n")
            await reader.read()

        async with upstream(garbled) as url:
            assert await _failure(client, url) == "disconnect"

        async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")

        async with upstream(cut) as url:
            resp = await client.request("POST", url, [], b"{}", 5)
            assert await resp.readany() == b"only part"
            with pytest.raises(UpstreamError) as failed:
                await resp.readany()
            assert failed.value.kind == "disconnect"
            resp.release()
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
                writer.write(ok(await read_request(reader)))
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_tls)
    url = URL(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/x")
    try:
        client = Client(tls=client_tls)
        try:
            for body in (b"over tls", b"again, on the same connection"):
                assert await body_of(await client.request("POST", url, [], body, 5)) == body
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


async def _at_once(client: Client, url: URL, n: int, gate: asyncio.Event) -> None:
    """``n`` calls in flight together (the upstream holds each answer until ``gate`` is set), each answered "ok"."""
    calls = [asyncio.ensure_future(client.request("POST", url, [], b"{}", 5)) for _ in range(n)]
    await asyncio.sleep(0.2)
    gate.set()
    for resp in await asyncio.gather(*calls):
        assert await body_of(resp) == b"ok"


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
        await read_request(reader)
        await gate.wait()  # every call holds its connection, so each needs one of its own
        writer.write(ok(b"ok"))
        await reader.read()

    async with upstream(handle) as url:
        client = Client()
        try:
            await _at_once(client, url.with_host("upstream.test"), 5, gate)
            assert len(client._open) == 5
        finally:
            await client.close()
    assert lookups == ["upstream.test"]


async def test_connections_idle_past_the_keep_alive_are_let_go_and_a_new_one_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmreplay.sources import client as client_mod

    now = [1000.0]
    monkeypatch.setattr(client_mod, "clock", lambda: now[0])
    gate = asyncio.Event()
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        accepted.append(n)
        while True:
            await read_request(reader)
            await gate.wait()
            writer.write(ok(b"ok"))

    async with upstream(handle) as url:
        client = Client()
        try:
            await _at_once(client, url, 40, gate)
            assert len(client._open) == 40
            now[0] += client_mod.KEEP_ALIVE_S - 1
            assert await body_of(await client.request("POST", url, [], b"{}", 5)) == b"ok"
            assert len(accepted) == 40  # still within the keep-alive: a pooled one was used
            now[0] += client_mod.KEEP_ALIVE_S + 1
            assert await body_of(await client.request("POST", url, [], b"{}", 5)) == b"ok"
            assert len(accepted) == 41  # every pooled one was stale: a new connection
            for _ in range(10):
                await asyncio.sleep(0)
            assert len(client._open) == 1  # the stale ones closed, a few a turn
        finally:
            await client.close()
