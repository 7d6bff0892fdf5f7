"""Same JSON, other bytes: real recordings and cassettes vcrpy writes replay when the client sends the same body
with another key order and spacing, on paths with a codec and without one, through a real server and the SDKs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import openai
import pytest
from google import genai
from google.genai import types

from llmreplay.cassettes.store import new_header, save
from llmreplay.cassettes.vcr import import_file
from llmreplay.server import BackgroundServer
from tests.cassettes.test_vcr import FIXTURES, to_vcr, write_yaml
from tests.conftest import settings
from tests.e2e.common import GOOGLE_KEY, openai_client

pytestmark = pytest.mark.sdk


def reordered(obj: Any) -> Any:
    """The same JSON with every object's keys in reverse order."""
    if isinstance(obj, dict):
        return {k: reordered(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [reordered(v) for v in obj]
    return obj


def serve(folder: Path, make_server: Any) -> BackgroundServer:
    server: BackgroundServer = make_server(
        cassettes={"dir": str(folder), "record_mode": "none", "on_miss": "error", "speed": 0}
    )
    return server


def test_every_real_recording_replays_from_other_bytes(tmp_path: Path, make_server: Any) -> None:
    if not FIXTURES:
        pytest.skip("no real fixtures")
    fixtures = [json.loads(p.read_text()) for p in FIXTURES]
    for parsed in (False, True):  # vcrpy's body string and pydantic-ai's parsed_body
        _, items = import_file(write_yaml(tmp_path / f"real{parsed}.yaml", [to_vcr(fx, parsed) for fx in fixtures]))
        save(tmp_path / "cassettes" / f"real_{parsed}.msgpack", new_header("https://example.com"), items)
    server = serve(tmp_path / "cassettes", make_server)
    missed: list[str] = []
    with httpx2.Client(base_url=server.url, timeout=20) as client:
        for fx in fixtures:
            rq = fx["request"]
            body = json.dumps(reordered(rq["body"]), indent=1, ensure_ascii=True).encode()
            query = ("?" + urlencode(rq["query"])) if rq["query"] else ""
            r = client.post(rq["path"] + query, content=body, headers={"content-type": "application/json"})
            if b"cassette_miss" in r.content:
                missed.append(f"{fx['source']}: {r.json()}")
            elif r.status_code != fx["response"]["status"]:
                missed.append(f"{fx['source']}: status {r.status_code}, recorded {fx['response']['status']}")
    assert missed == [], f"{len(missed)} of {len(fixtures)}: " + "\n".join(missed[:5])


def _vcr_interaction(uri: str, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "request": {"method": "POST", "uri": uri, "headers": {"content-type": ["application/json"]}, **request},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"content-type": ["application/json"]},
            "body": {"string": json.dumps(answer)},
        },
    }


def test_paths_without_a_codec_replay_through_the_sdks(tmp_path: Path, make_server: Any) -> None:
    """``POST /v1/responses/input_tokens`` and ``POST /v1beta/fileSearchStores``, as pydantic-ai's and vcrpy's
    cassettes hold them (a parsed body in its own key order; a pretty-printed body string), missed before."""
    counted = {"object": "response.input_tokens", "input_tokens": 7}
    store = {"name": "fileSearchStores/docs-1a2b", "displayName": "docs", "createTime": "2026-12-06T10:00:00Z"}
    interactions = [
        _vcr_interaction(
            "https://api.openai.com/v1/responses/input_tokens",
            {"parsed_body": {"input": "How many tokens is this?", "instructions": "be brief", "model": "gpt-4o"}},
            counted,
        ),
        _vcr_interaction(
            "https://generativelanguage.googleapis.com/v1beta/fileSearchStores",
            {"body": json.dumps({"displayName": "docs"}, indent=2)},
            store,
        ),
    ]
    _, items = import_file(write_yaml(tmp_path / "pydantic_ai.yaml", interactions))
    # input_tokens is the Responses codec's operation (keyed on its fields); no codec owns fileSearchStores.
    assert [it.api for it in items] == ["openai-responses", None]
    save(tmp_path / "cassettes" / "pydantic_ai.msgpack", new_header("https://example.com"), items)
    server = serve(tmp_path / "cassettes", make_server)

    oai = openai_client(server.url)
    got = oai.responses.input_tokens.count(model="gpt-4o", instructions="be brief", input="How many tokens is this?")
    assert got.input_tokens == 7
    # pydantic-ai's recording was made on v1beta; this SDK's default is v1.
    gem = genai.Client(api_key=GOOGLE_KEY, http_options=types.HttpOptions(base_url=server.url, api_version="v1beta"))
    made = gem.file_search_stores.create(config={"display_name": "docs"})
    assert made.name == "fileSearchStores/docs-1a2b"
    # Another value is still another request (a miss on a codec's path is its 400, as for the other routes).
    with pytest.raises(openai.BadRequestError, match="no recorded interaction"):
        oai.responses.input_tokens.count(model="gpt-4o", input="Something else")


def test_a_cassette_vcrpy_wrote_replays_other_bytes_with_and_without_a_codec(tmp_path: Path) -> None:
    """vcrpy records pretty-printed bodies (one on an operation's path); the client then sends them compact,
    in another key order: both are answered from the recording."""
    vcr = pytest.importorskip("vcr")
    requests = pytest.importorskip("requests")
    chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "vcr canonical"}], "temperature": 0}
    count = {"model": "gpt-4o", "input": "How many tokens?", "instructions": "be brief"}
    cassette = tmp_path / "vcr.yaml"
    headers = {"content-type": "application/json"}
    up = BackgroundServer(settings(synthetic={"tool_call_probability": 0}))
    with up, vcr.VCR(record_mode="all").use_cassette(str(cassette)):
        recorded = [
            requests.post(up.url + path, data=json.dumps(body, indent=2), headers=headers, timeout=10)
            for path, body in (("/v1/chat/completions", chat), ("/v1/responses/input_tokens", count))
        ]
    _, items = import_file(cassette)
    assert [it.api for it in items] == ["openai-chat", "openai-responses"]  # input_tokens: the Responses codec's
    save(tmp_path / "cassettes" / "vcr.msgpack", new_header(up.url), items)
    with BackgroundServer(
        settings(cassettes={"dir": str(tmp_path / "cassettes"), "record_mode": "none", "speed": 0})
    ) as rp:
        for (path, body), before in zip(
            (("/v1/chat/completions", chat), ("/v1/responses/input_tokens", count)), recorded, strict=True
        ):
            compact = json.dumps(reordered(body), separators=(",", ":")).encode()
            again = httpx2.post(rp.url + path, content=compact, headers=headers, timeout=10)
            assert (again.status_code, again.content) == (before.status_code, before.content), again.text
