"""Cloud credentials appear in no log line, dashboard event or journal entry (issue 22): real ``llmreplay serve``
and ``llmreplay record`` processes, every request logged (JSON lines, the most a line carries), each cloud's
official client with fake credentials: Azure's api-key and Entra bearer token, Google bearer tokens (google-genai
in Vertex mode, AnthropicVertex), AWS keys, session tokens and signatures (boto3's bedrock-runtime,
AnthropicBedrock) and a Bedrock API key. Answers, injected 429s and 500s, bad requests, cassette misses and an
upstream that is not there all take their turn; the recorder signs again with AWS credentials of its own, which
must stay out too."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import httpx
import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.e2e.common import ZERO, cassette_settings, upstream_server
from tests.e2e.test_secrets import windows
from tests.serverproc import Server, free_port, spawn, stop

from .bedrock import MODEL as BEDROCK_MODEL
from .cloud_secrets import AWS_KEY_ID, SECRETS, SIGNATURES, Outcome, boto, drive

pytestmark = pytest.mark.sdk

# The recorder's own AWS credentials, which it signs Bedrock requests with again for the upstream.
RECORDER_AWS = {
    "AWS_ACCESS_KEY_ID": "AKIA" + "LLMREPLAYRECORDER",
    "AWS_SECRET_ACCESS_KEY": "LLMREPLAYrecorderSECRET/accessKEY98765",
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdz" + "LLMREPLAYrecorderSESSIONtoken9876",
}
HANG_GUARD_S = 30.0
"""How long to wait for the dashboard feed to tell of every request: a guard against a hang, not a figure."""


@contextmanager
def llmreplay(command: str, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    full = {**os.environ, "STREAM_INITIAL_DELAY_MS": "0", "STREAM_DELAY_MS": "0", "STREAM_JITTER_MS": "0"}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        full.pop(name, None)
    # No AWS credentials of the machine's: never ask an instance metadata service for any.
    full.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull})
    full.update({"AWS_SHARED_CREDENTIALS_FILE": os.devnull, **(env or {})})
    argv = [sys.executable, "-m", "llmreplay", command, "--port", str(port), "--log-format", "json", *args]
    server = spawn(argv, full, port, with_stdout=True)
    try:
        yield server
    finally:
        stop(server)


def url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


def log_lines(server: Server) -> list[str]:
    """Every line the process wrote, once it has exited."""
    stop(server)
    lines = list(server.seen)
    while (line := server.lines.get(timeout=HANG_GUARD_S)) != "":
        lines.append(line)
    return lines


class Feed:
    """The dashboard's /ws messages, collected in a thread of its own while the clients run."""

    def __init__(self, base: str) -> None:
        self.ws = base.replace("http", "ws") + "/ws"
        self.messages: list[str] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._listen()), daemon=True)

    async def _listen(self) -> None:
        async with aiohttp.ClientSession() as s, s.ws_connect(self.ws) as ws:
            # Metrics come every second whatever happens, so a stop is seen soon.
            async for msg in ws:
                self.messages.append(msg.data)
                self.connected.set()
                if self._stop.is_set():
                    return

    def told(self) -> set[str]:
        """The ids of the journal entries the feed told of."""
        events = [e for m in map(json.loads, self.messages) if m["type"] == "events" for e in m["events"]]
        return {e["id"] for e in events if e["kind"] == "request.journal"}

    def __enter__(self) -> Feed:
        self._thread.start()
        assert self.connected.wait(HANG_GUARD_S), "no hello on /ws"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(HANG_GUARD_S)


def journal(base: str) -> list[str]:
    """Every journal entry whole, as JSON text."""
    rows = httpx.get(base + "/api/requests", timeout=20).json()
    return [httpx.get(f"{base}/api/requests/{r['id']}", timeout=20).text for r in rows]


def run(server: Server, prompt: str, errors: bool = True, misses: str | None = None) -> tuple[dict[str, Outcome], str]:
    """Drive every cloud client at ``server`` (and, with ``misses``, once more with a prompt no cassette holds)
    while the feed listens; the outcomes, and the journal and feed as one text."""
    base = url(server)
    before = httpx.get(base + "/api/requests", timeout=20).json()
    with Feed(base) as feed:
        out = drive(base, prompt, errors)
        if misses is not None:
            out |= {f"{k} (miss)": v for k, v in drive(base, misses, errors=False).items()}
        entries = journal(base)
        ids = {json.loads(e)["id"] for e in entries} - {r["id"] for r in before}
        end = time.monotonic() + HANG_GUARD_S
        while not ids <= feed.told() and time.monotonic() < end:
            time.sleep(0.05)
    assert ids and ids <= feed.told(), f"the feed told of {len(ids & feed.told())} of {len(ids)} requests"
    return out, "\n".join([*entries, *feed.messages])


def assert_outcomes(out: dict[str, Outcome], fail: set[str]) -> None:
    """The calls whose kind (``429``, ``bad``, ``plain (miss)``…) is in ``fail`` raised, the others did not."""
    wrong = {k: v.error for k, v in out.items() if v.failed != (k.split("/", 1)[1] in fail)}
    assert not wrong, wrong


def assert_clean(where: str, text: str, secrets: tuple[str, ...]) -> None:
    raw = text.encode()
    for secret in secrets:
        leaked = [w for w in windows(secret) if w in raw]
        assert not leaked, f"{where} holds part of {secret[:10]}…: {leaked[:3]}"


ERRORS = {"429", "500", "bad"}


def test_serving_synthetic_answers_and_errors(tmp_path: Path) -> None:
    SIGNATURES.clear()
    with llmreplay("serve") as server:
        out, seen = run(server, "Hello there")
        lines = log_lines(server)
    assert_outcomes(out, ERRORS)
    assert any('"status": 429' in line for line in lines)  # the access log wrote each request
    assert len(SIGNATURES) >= 10
    secrets = (*SECRETS, *SIGNATURES)
    assert_clean("the journal or the feed", seen, secrets)
    assert_clean("the log", "\n".join(lines), secrets)


def test_recording_replaying_and_an_upstream_that_is_not_there(tmp_path: Path) -> None:
    SIGNATURES.clear()
    folder = str(tmp_path / "cassettes")
    texts: dict[str, str] = {}
    with llmreplay("serve") as up:
        with llmreplay("record", "--upstream", url(up), "--cassettes", folder, env=RECORDER_AWS) as rec:
            out, texts["recorder's journal"] = run(rec, "Hello there")
            texts["recorder's log"] = "\n".join(log_lines(rec))
        assert_outcomes(out, ERRORS)
        _, texts["upstream's journal"] = run(up, "Upstream's own")
        texts["upstream's log"] = "\n".join(log_lines(up))
    gone = f"http://127.0.0.1:{free_port()}"
    with llmreplay("record", "--upstream", gone, "--cassettes", str(tmp_path / "none"), env=RECORDER_AWS) as dead:
        out, texts["dead recorder's journal"] = run(dead, "Hello there", errors=False)
        texts["dead recorder's log"] = "\n".join(log_lines(dead))
    assert_outcomes(out, {"plain", "stream"})
    with llmreplay("serve", "--cassettes", folder, "--on-miss", "error") as rep:
        out, texts["replayer's journal"] = run(rep, "Hello there", misses="Never recorded")
        texts["replayer's log"] = "\n".join(log_lines(rep))
    assert_outcomes(out, {*ERRORS, "plain (miss)", "stream (miss)"})
    assert '"match": "miss"' in texts["replayer's log"]
    secrets = (*SECRETS, *RECORDER_AWS.values(), *SIGNATURES)
    for where, text in texts.items():
        assert_clean(where, text, secrets)


def test_a_presigned_bedrock_url_keeps_its_signature_and_token_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SigV4 in the query (a URL boto3 presigned) rather than in headers: X-Amz-Signature, X-Amz-Credential and
    X-Amz-Security-Token are credentials too."""
    body = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    with caplog.at_level(logging.DEBUG), upstream_server(ZERO) as up:
        cassettes = cassette_settings(tmp_path, upstream=up.url, record_mode="all")
        with BackgroundServer(settings(server={"quiet": False}, cassettes=cassettes)) as rec:
            signed = boto(rec.url, {}).generate_presigned_url("converse", Params={"modelId": BEDROCK_MODEL, **body})
            got = httpx.post(signed, json=body, timeout=20)
            assert got.status_code == 200, got.text
            entries = journal(rec.url) + journal(up.url)
    query = dict(parse_qsl(urlsplit(signed).query))
    secrets = (query["X-Amz-Signature"], query["X-Amz-Security-Token"], AWS_KEY_ID)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("llmreplay", "aiohttp"))]
    assert any("/converse 200" in line for line in ours), ours  # the access log was on
    assert_clean("the log", "\n".join(ours), secrets)
    assert_clean("the journal", "\n".join(entries), secrets)
    assert_clean("the cassette", (tmp_path / "recorded.msgpack").read_bytes().decode("latin-1"), secrets)
