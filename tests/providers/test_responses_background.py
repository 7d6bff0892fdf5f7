"""Background Responses through the openai SDK: ``background=True`` answers at once ``queued``, a poll shows the
response running until the shaper's timing says it is done, ``cancel`` stops one still running; and the store's
forms of a background response, on an injected clock."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest

from llmreplay.model import Answer, Call, Frame, Request
from llmreplay.providers import openai_responses_background as background
from llmreplay.providers import openai_responses_store as wire
from llmreplay.providers.base import RenderOptions
from llmreplay.server import BackgroundServer
from llmreplay.shaping.clock import clock
from llmreplay.state.responses import ResponseStore

MODEL = "gpt-4o-mini"
LONG = {"x-llmreplay-ttft-ms": "60000"}
"""Far longer than any test waits: the response is certainly still running when it is polled or cancelled."""
HANG_GUARD_S = 30.0
"""Not a figure: how long a poll loop may go before the test fails instead of hanging."""


@pytest.fixture
def client(server: BackgroundServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", max_retries=0)


def poll(client: openai.OpenAI, rid: str) -> Any:
    end = time.monotonic() + HANG_GUARD_S
    got = client.responses.retrieve(rid)
    while got.status in ("queued", "in_progress"):
        assert time.monotonic() < end, f"{rid} still {got.status}"
        time.sleep(0.02)
        got = client.responses.retrieve(rid)
    return got


def test_a_background_response_is_queued_then_completed(client: openai.OpenAI) -> None:
    made = client.responses.create(
        model=MODEL, input="Tell me a story", background=True, extra_headers={"x-llmreplay-ttft-ms": "200"}
    )
    assert made.status == "queued" and made.background is True
    assert made.output == [] and made.usage is None
    done = poll(client, made.id)
    assert done.status == "completed" and done.output_text and done.usage is not None
    # It continues as any kept response does.
    after = client.responses.create(model=MODEL, input="And then?", previous_response_id=made.id)
    assert after.usage is not None and after.usage.input_tokens > done.usage.input_tokens


def test_a_running_response_is_cancelled_and_cancelling_again_returns_it(client: openai.OpenAI) -> None:
    made = client.responses.create(model=MODEL, input="Write a novel", background=True, extra_headers=LONG)
    assert client.responses.retrieve(made.id).status == "in_progress"
    cancelled = client.responses.cancel(made.id)
    assert cancelled.id == made.id and cancelled.status == "cancelled" and cancelled.output == []
    assert client.responses.retrieve(made.id).status == "cancelled"
    assert client.responses.cancel(made.id).status == "cancelled"  # idempotent, as the real API says


def test_cancel_answers_as_the_api_does(client: openai.OpenAI) -> None:
    plain = client.responses.create(model=MODEL, input="Hi")
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a synchronous response"):
        client.responses.cancel(plain.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_nope")
    finished = client.responses.create(model=MODEL, input="Hi", background=True)
    assert poll(client, finished.id).status == "completed"
    assert client.responses.cancel(finished.id).status == "completed"  # the final object, unchanged


def test_background_without_store_is_the_apis_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="Hi", background=True, store=False)
    assert caught.value.body == {
        "message": "background can only be used when `store` is true",
        "type": "invalid_request_error",
        "param": "background",
        "code": None,
    }


def test_a_fault_that_cuts_the_answer_makes_a_failed_response(client: openai.OpenAI) -> None:
    made = client.responses.create(
        model=MODEL, input="Hi", background=True, extra_headers={"x-llmreplay-fault": "disconnect@50%"}
    )
    assert made.status == "queued"
    failed = poll(client, made.id)
    assert failed.status == "failed" and failed.error is not None and failed.error.code == "server_error"


def test_an_injected_error_refuses_the_request_itself(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=MODEL, input="Hi", background=True, extra_headers={"x-llmreplay-fault": "429"})


def test_a_background_stream_is_sent_and_kept(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Tell me a story", background=True) as s:
        final = s.get_final_response()
    assert final.background is True
    assert poll(client, final.id).output_text == final.output_text


def test_the_journal_holds_the_background_request_as_one_exchange(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=server.url + "/_test/bg-journal/v1", api_key="sk-test", max_retries=0)
    made = client.responses.create(model=MODEL, input="Hi", background=True)
    poll(client, made.id)
    entries = httpx.get(server.url + "/api/requests", params={"test_id": "bg-journal"}).json()
    creates = [e for e in entries if e["method"] == "POST"]
    assert len(creates) == 1 and creates[0]["status"] == 200
    assert all(e["method"] == "GET" for e in entries if e not in creates)


# ---- the store's forms, on an injected clock --------------------------------------------------------------


def test_the_store_shows_a_background_response_running_until_it_is_due() -> None:
    now = [1000.0]
    store = ResponseStore(now=lambda: now[0])
    response = {"id": "resp_1", "object": "response", "status": "completed", "output": [{"type": "message"}]}
    made = Answer(200, (), (Frame(json.dumps(response).encode()),))
    shaped = Answer(200, (), (Frame(made.body, at=2.0),))  # the shaper says: done 2 s after it arrived
    request = Request(wire.API, "responses", MODEL, body={"input": "Hi", "background": True})
    create = SimpleNamespace(request=request, t0=clock())
    sent = asyncio.run(store.keep(create, made, shaped))  # type: ignore[arg-type]
    assert json.loads(sent.body)["status"] == "queued" and sent.frames[0].at == 0.0

    def retrieve() -> dict[str, Any]:
        call = Call("GET", "/v1/responses/resp_1", params={"response_id": "resp_1"})
        get = SimpleNamespace(route=SimpleNamespace(op=wire.retrieve), call=call, opts=RenderOptions())
        answer = asyncio.run(store.serve(get))  # type: ignore[arg-type]
        assert answer is not None
        return json.loads(answer.body)

    assert retrieve()["status"] == "in_progress" and retrieve()["output"] == []
    now[0] += 1.9
    assert retrieve()["status"] == "in_progress"
    now[0] += 0.2
    done = retrieve()
    assert done["status"] == "completed" and done["output"] == [{"type": "message"}]


def test_the_forms_of_a_background_response() -> None:
    body = {"id": "resp_1", "status": "completed", "output": [1], "usage": {}}
    rec = wire.Stored("resp_1", json.dumps(body).encode(), b"[]", None)
    kept = background.made(rec, 5.0, interrupted=False)
    assert background.running(kept, 4.9) and not background.running(kept, 5.0)
    assert json.loads(background.as_of(kept, 4.0).response)["status"] == "in_progress"
    assert background.as_of(kept, 5.0) is kept
    failed = json.loads(background.made(rec, 5.0, interrupted=True).response)
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error" and failed["output"] == []
    stopped = background.cancelled(kept)
    assert stopped.done_at is None and json.loads(stopped.response)["status"] == "cancelled"


def test_a_dropped_background_stream_is_resumed_after_the_last_event_seen(client: openai.OpenAI) -> None:
    seen: list[Any] = []
    stream = client.responses.create(model=MODEL, input="Tell me a story", background=True, stream=True)
    for event in stream:
        seen.append(event)
        if len(seen) == 4:
            break  # the client drops the stream
    stream.close()
    rid = seen[0].response.id
    rest = list(client.responses.retrieve(rid, stream=True, starting_after=seen[-1].sequence_number))
    assert [e.sequence_number for e in rest] == list(range(4, 4 + len(rest)))
    assert rest[-1].type == "response.completed"
    text = "".join(e.delta for e in [*seen, *rest] if e.type == "response.output_text.delta")
    assert text == rest[-1].response.output_text == client.responses.retrieve(rid).output_text
    whole = list(client.responses.retrieve(rid, stream=True))
    assert [e.sequence_number for e in whole] == list(range(len(whole)))
    with pytest.raises(openai.BadRequestError, match="starting_after"):
        client.responses.retrieve(rid, stream=True, starting_after="x")  # type: ignore[arg-type]


def test_a_resumed_stream_sends_each_event_when_it_is_due() -> None:
    events = [b'event: a\ndata: {"sequence_number": %d}\n\n' % i for i in range(3)]
    made = Answer(200, (), tuple(Frame(e) for e in events), stream=True)
    shaped = Answer(200, (), tuple(Frame(e, at=float(i)) for i, e in enumerate(events)), stream=True)
    rec = wire.Stored("resp_1", b"{}", b"[]", None)
    kept = background.made(rec, 1002.0, interrupted=False, events=background.events_of(made, shaped))  # came at 1000
    call = Call("GET", "/v1/responses/resp_1", params={"response_id": "resp_1"}, query={"starting_after": "0"})
    resumed = background.resume(call, RenderOptions(), kept, now=1000.5)
    assert resumed.stream and [f.data for f in resumed.frames] == events[1:]
    assert [f.at for f in resumed.frames] == [0.5, 1.5]
    # a fault that cut the client's stream after the first event leaves the rest to be made, at the cut's time
    cut = Answer(200, (), shaped.frames[:1], stream=True)
    assert json.loads(background.events_of(made, cut)) == [[0.0, e.decode()] for e in events]


def test_azure_openai_polls_and_cancels_a_background_response(server: BackgroundServer) -> None:
    azure = openai.AzureOpenAI(
        azure_endpoint=server.url, api_key="azure-secret-key", api_version="2025-04-01-preview", max_retries=0
    )
    made = azure.responses.create(model="my-deployment", input="Write a novel", background=True, extra_headers=LONG)
    assert made.status == "queued" and azure.responses.retrieve(made.id).status == "in_progress"
    assert azure.responses.cancel(made.id).status == "cancelled"
