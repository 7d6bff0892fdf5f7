"""Azure OpenAI recorded through llmreplay (llmreplay itself playing Azure), then replayed: the same answers,
byte for byte, and the api-key in no cassette and no journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from llmreplay.sources.upstreams import resolve_upstream
from tests.e2e.common import only_cassette, recorder, replayer, upstream_server

pytestmark = pytest.mark.sdk

KEY = "azureSECRETkey0123456789abcdef"
USER: Any = [{"role": "user", "content": "Hello from a recording"}]


def calls(url: str) -> list[Any]:
    c = openai.AzureOpenAI(azure_endpoint=url, api_key=KEY, api_version="2024-10-21", max_retries=0)
    whole = c.chat.completions.create(model="dep", messages=USER)
    chunks = list(c.chat.completions.create(model="dep", messages=USER, stream=True))
    made = c.responses.create(model="dep", input="Hello from a recording")
    return [r.model_dump(mode="json") for r in (whole, *chunks, made)]


def test_record_then_replay(tmp_path: Path) -> None:
    with upstream_server() as up, recorder(tmp_path, up.url) as rec:
        live = calls(rec.url)
    recorded = only_cassette(tmp_path)
    assert {it.endpoint for it in recorded} == {"azure-chat-completions", "azure-responses"}
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()
    with replayer(tmp_path, speed=0) as rp:
        again = calls(rp.url)
        journal = httpx.get(rp.url + "/api/requests").json()
        entries = [httpx.get(f"{rp.url}/api/requests/{e['id']}").json() for e in journal]
    assert again == live
    assert KEY not in json.dumps(entries)


def test_an_azure_upstream_by_name() -> None:
    assert resolve_upstream("azure:my-resource") == "https://my-resource.openai.azure.com"
    with pytest.raises(ValueError, match="azure:"):
        resolve_upstream("azure:not a name")
