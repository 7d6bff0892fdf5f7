"""The plugin as a test double: a test's rules (marker or fixture), its journal with the checks tests make,
strict mode, and tests sharing one running server (``--llmreplay-url``), each seeing only its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import llmreplay
from llmreplay.config import Settings
from llmreplay.server import BackgroundServer
from tests.plugin.test_pytest_plugin import QUIET, run

pytest_plugins = ["pytester"]

RULES_YAML = """
rules:
  - name: answer-the-result
    match:
      tool_result: {name: get_weather}
    reply:
      text: "It is {{tool_result}} in Paris."
  - name: call-the-tool
    match:
      last_user: weather
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris}
"""

AGENT = """
import json

import openai
import pytest

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def run_agent(question):
    client = openai.OpenAI()
    messages = [{"role": "user", "content": question}]
    while True:
        message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER]).choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
"""


def test_marker_rules_script_an_agent_and_the_journal_checks_it(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", weather=RULES_YAML)
    pytester.makepyfile(
        AGENT
        + """

@pytest.mark.llmreplay(rules="weather.yaml")
def test_weather(llmreplay):
    assert run_agent("What is the weather in Paris?") == "It is sunny in Paris."
    calls = llmreplay.requests
    calls.assert_count(2, endpoint="chat-completions")
    calls.assert_trajectory(["get_weather", "get_weather -> result"])
    assert calls.trajectory()[0].arguments == {"city": "Paris"}
    calls.assert_sent("weather in Paris", role="user")
    calls.assert_all_matched()
    with pytest.raises(AssertionError, match="expected 3 model call"):
        calls.assert_count(3)


def test_rules_added_by_the_test(llmreplay):
    llmreplay.add_rules([{"name": "hi", "match": {"last_user": "hi"}, "reply": {"text": "hello"}}])
    reply = openai.OpenAI().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "hello"
    assert [e["source"] for e in llmreplay.requests] == ["rule"]
"""
    )
    run(pytester).assert_outcomes(passed=2)


def test_strict_mode_fails_a_test_whose_app_swallowed_the_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import openai
        import pytest

        def careless_app():
            try:
                openai.OpenAI(max_retries=0).chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "unplanned"}]
                )
            except openai.APIError:
                return "sorry"

        HI = [{"name": "hi", "match": {"last_user": "hi"}, "reply": {"text": "x"}}]

        @pytest.mark.llmreplay(strict=True, rules=HI)
        def test_swallowed(llmreplay):
            assert careless_app() == "sorry"

        @pytest.mark.llmreplay(rules=[{"name": "any", "reply": {"text": "planned"}}])
        def test_planned_is_fine_in_strict_mode(llmreplay):
            assert careless_app() is None
        """
    )
    result = run(pytester, "--llmreplay-strict")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*1 request(s) no rule or recording answered (strict mode)*"])


def test_bad_marker_rules_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", bad='rules:\n  - name: x\n    match: {model: {regex: "("}}\n    reply: {text: hi}\n')
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay(rules="bad.yaml")
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*rules*match.model*"])


@pytest.fixture
def shared() -> Iterator[BackgroundServer]:
    with BackgroundServer(Settings.model_validate(QUIET)) as server:
        yield server


SAME_TESTS = """
import openai
import pytest

COPIES = 1


@pytest.mark.parametrize("copy", range(COPIES))
@pytest.mark.parametrize("n", range(4))
def test_own_journal(llmreplay, n, copy):
    llmreplay.add_rules([{"name": "mine", "reply": {"text": f"reply {n}"}}])
    for _ in range(n + 1):
        reply = openai.OpenAI().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == f"reply {n}"
    sdk = llmreplay.openai_client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert sdk.choices[0].message.content == f"reply {n}"
    assert len(llmreplay.requests) == n + 2
    assert {e["test_id"] for e in llmreplay.requests} == {llmreplay.test_id}
"""


def test_tests_sharing_a_running_server_see_only_their_own(pytester: pytest.Pytester, shared: BackgroundServer) -> None:
    pytester.makepyfile(SAME_TESTS)
    run(pytester, f"--llmreplay-url={shared.url}").assert_outcomes(passed=4)
    run(pytester, f"--llmreplay-url={shared.url}").assert_outcomes(passed=4)
    # The tests' rules went with them; their journal entries stay until they age out.
    assert httpx.get(shared.url + "/api/rules").json()["rules"] == []
    assert len(httpx.get(shared.url + "/api/requests").json()) == 2 * (2 + 3 + 4 + 5)


def test_shared_server_refuses_what_needs_the_tests_own(pytester: pytest.Pytester, shared: BackgroundServer) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay(scenario="429,ok")
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester, f"--llmreplay-url={shared.url}")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*scenario need the test's own server*"])


def test_two_xdist_workers_share_one_server(
    pytester: pytest.Pytester, shared: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers run the same tests at once against one server; each test's journal is its own."""
    pytest.importorskip("xdist")
    # The workers are new interpreters: they find llmreplay where this one did, installed or not.
    monkeypatch.setenv("PYTHONPATH", str(Path(llmreplay.__file__).resolve().parents[1]))
    pytester.makepyfile(SAME_TESTS.replace("COPIES = 1", "COPIES = 2"))
    scope = ("-o", "asyncio_default_fixture_loop_scope=function")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *scope, "-n", "2", f"--llmreplay-url={shared.url}")
    result.assert_outcomes(passed=8)
    ids = {e["test_id"] for e in httpx.get(shared.url + "/api/requests").json()}
    assert len(ids) == 8
