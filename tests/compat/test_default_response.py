"""The original's ``defaultResponse`` (and llmreplay's ``default_response``) changes the next reply at run time."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import openai

from llmreplay.server import BackgroundServer

HI = [{"role": "user", "content": "Hi"}]


def test_default_response_set_at_run_time_is_the_next_reply(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server()
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    assert httpx.patch(server.url + "/api/config/global", json={"defaultResponse": "Fixed."}).status_code == 200
    assert client.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content == "Fixed."
    httpx.patch(server.url + "/api/config/global", json={"default_response": "Nested."})
    assert client.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content == "Nested."
    httpx.post(server.url + "/api/config/reset")
    assert client.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content != "Nested."
