"""The recorder's AWS credentials are looked up once, not on every request it signs again (each look-up read
botocore's files and cost 14 ms to 0.5 s on the event loop); a change of the environment is seen."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from yarl import URL

from llmreplay.sources import sigv4

URL_ = URL("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse")
SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKIDCLIENT/20261206/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00"
)


def sign(n: int) -> list[str]:
    out = []
    for _ in range(n):
        headers = {"Authorization": SIGNED, "X-Amz-Date": "20261206T000000Z"}
        assert sigv4.resign("POST", URL_, headers, b"{}")
        out.append(headers["Authorization"])
    return out


def test_credentials_are_looked_up_once_per_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in sigv4._CHAIN_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRECORDERONE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "one")
    sessions: list[object] = []
    real = botocore.session.get_session

    def counted(*args: Any, **kwargs: Any) -> Any:
        sessions.append(object())
        return real(*args, **kwargs)

    monkeypatch.setattr(botocore.session, "get_session", counted)
    sigv4._chain.cache_clear()
    first = sign(3)
    assert len(sessions) == 1 and all("Credential=AKIDRECORDERONE/" in a for a in first)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRECORDERTWO")
    assert all("Credential=AKIDRECORDERTWO/" in a for a in sign(2))
    assert len(sessions) == 2
    sigv4._chain.cache_clear()
