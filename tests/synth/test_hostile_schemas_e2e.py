"""Issue 19 through a real server and the OpenAI SDK: a backtracking pattern gets the 400 naming ``tools`` while
``/health``, polled meanwhile, keeps answering; a git-SHA pattern gets a valid value."""

import json
import re
import threading
import time

import openai
import pytest
import requests

pytestmark = pytest.mark.sdk


def tool(parameters):
    return [{"type": "function", "function": {"name": "f", "parameters": parameters}}]


def ask(srv, parameters):
    client = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="sk-test", max_retries=0)
    return client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "go"}],
        tools=tool(parameters),
        tool_choice="required",
    )


def test_case1_a_backtracking_pattern_is_a_400_and_health_keeps_answering(make_server):
    srv = make_server()
    slowest = [0.0]
    stop = threading.Event()

    def poll():
        with requests.Session() as http:
            while not stop.is_set():
                started = time.monotonic()
                http.get(f"{srv.url}/health", timeout=30).raise_for_status()
                slowest[0] = max(slowest[0], time.monotonic() - started)
                time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        schema = {"type": "string", "pattern": "^(a+)+$", "const": "a" * 22 + "!"}
        with pytest.raises(openai.BadRequestError) as caught:
            ask(srv, {"type": "object", "properties": {"a": schema}, "required": ["a"]})
        time.sleep(0.1)
    finally:
        stop.set()
        poller.join()
    assert caught.value.body["param"] == "tools"
    # Generous for a busy machine: the request held the loop 18.6 s before; now a few milliseconds.
    assert slowest[0] < 2.0


def test_case24_a_git_sha_pattern_gets_a_valid_value(make_server):
    srv = make_server()
    pattern = "^[a-f0-9]{40}$"
    reply = ask(
        srv, {"type": "object", "properties": {"sha": {"type": "string", "pattern": pattern}}, "required": ["sha"]}
    )
    args = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)
    assert re.fullmatch(pattern[1:-1], args["sha"])
