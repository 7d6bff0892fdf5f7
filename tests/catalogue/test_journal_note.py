"""The journal says what the catalogue knows of an exchange's model, and says so when it knows nothing of it."""

from __future__ import annotations

import httpx2
import openai
import pytest

pytestmark = pytest.mark.sdk


def _entry(srv, model: str) -> dict:
    c = openai.OpenAI(base_url=srv.url + "/v1", api_key="sk-test", max_retries=0)
    raw = c.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "hi"}])
    rid = raw.headers["x-llmreplay-request-id"]
    return httpx2.get(f"{srv.url}/api/requests/{rid}").json()


def test_a_known_model_shows_its_family(server) -> None:
    cat = _entry(server, "gpt-4o-2024-08-06")["catalogue"]
    assert cat["known"] and cat["family"] == "gpt-4o*" and cat["context_window"] == 128000
    assert cat["prices_taken"] and cat["source"].startswith("https://")


def test_an_unknown_model_says_so(server) -> None:
    cat = _entry(server, "my-local-model")["catalogue"]
    assert cat == {"known": False, "note": cat["note"]} and "not in the model catalogue" in cat["note"]
