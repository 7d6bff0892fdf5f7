"""Recording Bedrock: the recorder signs each request again, for the upstream's host, with its own AWS
credentials; the upstream here checks that signature with botocore, as the real endpoint would."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from llmreplay.sources.upstreams import resolve_upstream
from tests.e2e.common import recorder
from tests.serverproc import free_port

from .bedrock import MODEL, bedrock

pytestmark = pytest.mark.sdk

RECORDER_KEY, RECORDER_SECRET = "AKIDRECORDER", "recorder-secret"
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "signed"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    "metrics": {"latencyMs": 1},
}


def verified(request: web.Request, body: bytes) -> bool:
    """Whether the request is signed with the recorder's credentials for this host."""
    auth = request.headers.get("Authorization", "")
    if f"Credential={RECORDER_KEY}/" not in auth:
        return False
    signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    headers = {k: v for k, v in request.headers.items() if k.lower() in signed}
    aws = AWSRequest(method=request.method, url=f"http://{request.host}{request.raw_path}", data=body, headers=headers)
    aws.context["timestamp"] = request.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(RECORDER_KEY, RECORDER_SECRET), "bedrock", "us-east-1")
    signature = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    return auth.endswith(f"Signature={signature}")


@pytest.fixture
def checking_upstream() -> Iterator[str]:
    async def converse(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(request, body):
            return web.json_response({"message": "signature does not match"}, status=403)
        return web.json_response(ANSWER)

    app = web.Application()
    app.router.add_post("/model/{model}/converse", converse)
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str | None) -> None:
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if key is not None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", RECORDER_SECRET)


USER = [{"role": "user", "content": [{"text": "Hi"}]}]


def test_the_recorder_signs_again_for_the_upstream(checking_upstream, tmp_path: Path, monkeypatch):
    _credentials(monkeypatch, tmp_path, RECORDER_KEY)
    with recorder(tmp_path, checking_upstream) as rec:
        r = bedrock(rec.url).converse(modelId=MODEL, messages=USER)
    assert r["output"]["message"]["content"][0]["text"] == "signed"
    cassette = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"AKIDRECORDER" not in cassette and b"AKIDEXAMPLE" not in cassette


def test_without_credentials_the_client_signature_goes_and_is_refused(checking_upstream, tmp_path, monkeypatch):
    _credentials(monkeypatch, tmp_path, None)
    with recorder(tmp_path, checking_upstream) as rec, pytest.raises(ClientError) as caught:
        bedrock(rec.url).converse(modelId=MODEL, messages=USER)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_bedrock_region_names_its_runtime():
    assert resolve_upstream("bedrock:eu-west-1") == "https://bedrock-runtime.eu-west-1.amazonaws.com"
