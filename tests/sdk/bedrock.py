"""boto3's bedrock-runtime client pointed at a test server, and a way to add headers to chosen attempts."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def bedrock(url: str, attempts: int = 1, session_token: str | None = None) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="fake",
        aws_session_token=session_token,
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def with_headers(client: Any, *firsts: dict[str, str]) -> list[int]:
    """Adds ``firsts[i]`` to the i-th attempt's headers (later attempts get none); returns the attempts seen."""
    seen: list[int] = []

    def add(request: Any, **_: Any) -> None:
        n = len(seen)
        seen.append(n)
        if n < len(firsts):
            for name, value in firsts[n].items():
                request.headers[name] = value

    client.meta.events.register("before-sign.bedrock-runtime.*", add)
    return seen
