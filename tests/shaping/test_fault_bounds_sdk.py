"""Case 15 of issue 19: a fault spelled with a number past its bound (``disconnect@`` and 400 nines) is the
provider's 400 naming ``x-llmreplay-fault``, as the official SDKs see it, and the server goes on answering.

Read as infinity, such a number once overflowed in the stream-faults stage (a traceback, then a full answer
without the fault) or held a stream for ever (``stall@3:`` and 400 nines).
"""

from __future__ import annotations

import logging

import anthropic
import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.shaping.test_outcomes import TOO_BIG

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
HEADER = "x-llmreplay-fault"


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("spec", "allowed"), TOO_BIG)
def test_openai_sees_a_400_naming_the_header(
    server: BackgroundServer, spec: str, allowed: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # A client timeout, so the old endless stall fails the test instead of holding it.
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0, timeout=10)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=USER, stream=True, extra_headers={HEADER: spec})
    assert info.value.status_code == 400
    assert isinstance(info.value.body, dict)
    assert info.value.body["param"] == HEADER and allowed in info.value.body["message"]
    assert client.chat.completions.create(model="gpt-4o", messages=USER).choices[0].message.content
    _no_traceback(caplog)


def test_anthropic_sees_a_400_naming_the_header(server: BackgroundServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    client = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0, timeout=10)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=USER, stream=True, extra_headers={HEADER: TOO_BIG[0][0]}
        )
    assert HEADER in info.value.body["error"]["message"]
    assert client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=USER).content
    _no_traceback(caplog)
