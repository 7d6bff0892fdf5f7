"""Record modes, miss policies, repeats, verbatim paths and shaping on top of replay, through the SDKs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

from llmreplay.cassettes.store import load
from llmreplay.server import BackgroundServer
from tests.conftest import settings

from .common import anthropic_client, openai_client, recorder, replayer

pytestmark = pytest.mark.sdk

CASSETTE = "recorded.msgpack"


@pytest.fixture(scope="module")
def up() -> Iterator[BackgroundServer]:
    """No seed and no fixed reply: every answer differs, so replayed, forwarded and synthetic are told apart."""
    with BackgroundServer(settings(synthetic={"tool_call_probability": 0})) as s:
        yield s


def upstream_requests(up: BackgroundServer) -> int:
    return int(httpx2.get(up.url + "/api/metrics", timeout=5).json()["totals"]["requests"])


def chat(url: str, content: str, model: str = "gpt-4o-mini", **kw: object) -> str:
    r = openai_client(url).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": content}],
        **kw,  # type: ignore[call-overload]
    )
    text = r.choices[0].message.content
    assert text
    return text


def record_chat(folder: Path, up: BackgroundServer, *contents: str) -> list[str]:
    # A seed of its own per call (the header goes upstream, and matching ignores it): two recordings of the
    # same request always differ, where two unseeded replies drawn from the pool now and then agree.
    with recorder(folder, up.url) as rec:
        return [chat(rec.url, c, extra_headers={"x-llmreplay-seed": str(i)}) for i, c in enumerate(contents)]


def count(folder: Path) -> int:
    return len(load(folder / CASSETTE).interactions)


# ---- miss policies ----------------------------------------------------------------------------------


def test_none_replays_hits_and_a_miss_errors_naming_cassette_and_field(tmp_path: Path, up: BackgroundServer) -> None:
    (hello,) = record_chat(tmp_path, up, "hello")
    msgs = [{"role": "user", "content": "hi claude"}]
    with recorder(tmp_path, up.url, cassette="claude") as rec:
        claude = anthropic_client(rec.url).messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=msgs)  # type: ignore[arg-type]
    n = upstream_requests(up)
    with replayer(tmp_path, upstream=up.url) as rp:
        assert chat(rp.url, "hello") == hello
        with pytest.raises(openai.BadRequestError) as err:
            chat(rp.url, "hello", model="gpt-4o")
        msg = str(err.value)
        assert "recorded" in msg and "model" in msg and "gpt-4o-mini" in msg, msg
        with pytest.raises(anthropic.BadRequestError) as aerr:
            anthropic_client(rp.url).messages.create(model="claude-opus-4-1", max_tokens=100, messages=msgs)  # type: ignore[arg-type]
        amsg = str(aerr.value)
        assert "claude" in amsg and "model" in amsg and "claude-sonnet-4-6" in amsg, amsg
        again = anthropic_client(rp.url).messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=msgs)  # type: ignore[arg-type]
        assert again.content == claude.content
    assert upstream_requests(up) == n, "record mode none with on_miss error never goes upstream"


def test_on_miss_synthetic_answers_plausibly(tmp_path: Path, up: BackgroundServer) -> None:
    (hello,) = record_chat(tmp_path, up, "hello")
    n = upstream_requests(up)
    with replayer(tmp_path, on_miss="synthetic") as rp:
        assert chat(rp.url, "hello") == hello
        r = openai_client(rp.url).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "something else"}]
        )
        assert r.object == "chat.completion" and r.model.startswith("gpt-4o")
        assert r.choices[0].message.content and r.choices[0].finish_reason == "stop"
        assert r.usage is not None and r.usage.completion_tokens > 0
    assert upstream_requests(up) == n


def test_on_miss_forward_with_record_mode_none_writes_nothing(tmp_path: Path, up: BackgroundServer) -> None:
    (hello,) = record_chat(tmp_path, up, "hello")
    before = (tmp_path / CASSETTE).read_bytes()
    n = upstream_requests(up)
    with replayer(tmp_path, on_miss="forward", upstream=up.url) as rp:
        assert chat(rp.url, "hello") == hello
        assert upstream_requests(up) == n
        # The upstream's count is the proof; the two replies' texts may coincide (a pool of canned answers).
        chat(rp.url, "not recorded")
        assert upstream_requests(up) == n + 1
        chat(rp.url, "not recorded")
        assert upstream_requests(up) == n + 2, "nothing was recorded, so the repeat goes upstream too"
    assert (tmp_path / CASSETTE).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [CASSETTE]


def test_new_episodes_records_a_miss_and_replays_its_repeat(tmp_path: Path, up: BackgroundServer) -> None:
    (hello,) = record_chat(tmp_path, up, "hello")
    n = upstream_requests(up)
    with replayer(tmp_path, record_mode="new_episodes", upstream=up.url) as rp:
        assert chat(rp.url, "hello") == hello
        assert upstream_requests(up) == n
        fresh = chat(rp.url, "new episode")
        assert upstream_requests(up) == n + 1
        assert chat(rp.url, "new episode") == fresh
        assert upstream_requests(up) == n + 1, "the recorded miss is replayed, not forwarded again"
    its = load(tmp_path / CASSETTE).interactions
    assert len(its) == 2 and b"new episode" in its[1].request.body


def test_once_records_when_absent_then_replays(tmp_path: Path, up: BackgroundServer) -> None:
    n = upstream_requests(up)
    with replayer(tmp_path, record_mode="once", upstream=up.url) as rp:
        first = chat(rp.url, "once")
        assert upstream_requests(up) == n + 1
    assert count(tmp_path) == 1
    with replayer(tmp_path, record_mode="once", upstream=up.url) as rp:
        assert chat(rp.url, "once") == first
        with pytest.raises(openai.BadRequestError, match="recorded"):
            chat(rp.url, "twice")
    assert upstream_requests(up) == n + 1
    assert count(tmp_path) == 1


def test_all_always_forwards_and_appends(tmp_path: Path, up: BackgroundServer) -> None:
    record_chat(tmp_path, up, "again")
    n = upstream_requests(up)
    record_chat(tmp_path, up, "again")
    assert upstream_requests(up) == n + 1
    assert count(tmp_path) == 2


# ---- repeats ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("repeat", "order"), [("last", [0, 1, 1, 1]), ("cycle", [0, 1, 0, 1])])
def test_a_request_recorded_twice_replays_in_order(
    tmp_path: Path, up: BackgroundServer, repeat: str, order: list[int]
) -> None:
    answers = record_chat(tmp_path, up, "same", "same")
    assert answers[0] != answers[1]
    with replayer(tmp_path, repeat=repeat) as rp:
        assert [chat(rp.url, "same") for _ in order] == [answers[i] for i in order]


def test_repeat_none_misses_once_used_up(tmp_path: Path, up: BackgroundServer) -> None:
    answers = record_chat(tmp_path, up, "same", "same")
    with replayer(tmp_path, repeat="none") as rp:
        assert [chat(rp.url, "same") for _ in range(2)] == answers
        with pytest.raises(openai.BadRequestError, match="used up"):
            chat(rp.url, "same")


# ---- paths no codec knows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/v1/vector_stores/vs_123", None), ("POST", "/v1/files", b'{"purpose": "batch"}')],
)
def test_a_path_without_codec_replays_verbatim(
    tmp_path: Path, up: BackgroundServer, method: str, path: str, body: bytes | None
) -> None:
    with recorder(tmp_path, up.url) as rec:
        before = httpx2.request(method, rec.url + path, content=body, timeout=5)
    assert before.status_code == 404 and before.content
    (it,) = load(tmp_path / CASSETTE).interactions
    assert it.request.path == path and it.response.body == before.content and it.endpoint == "other"
    n = upstream_requests(up)
    with replayer(tmp_path) as rp:
        again = httpx2.request(method, rp.url + path, content=body, timeout=5)
        other = httpx2.request(method, rp.url + path + "x", content=body, timeout=5)
    assert again.status_code == before.status_code
    assert again.content == before.content
    assert again.headers["content-type"] == before.headers["content-type"]
    assert upstream_requests(up) == n
    assert other.status_code == 404 and b"recorded" in other.content


# ---- shaping on top of replay -----------------------------------------------------------------------


def test_shaper_applies_to_replayed_answers(tmp_path: Path, up: BackgroundServer) -> None:
    (hello,) = record_chat(tmp_path, up, "hello")
    with replayer(tmp_path) as rp:
        with pytest.raises(openai.RateLimitError):
            chat(rp.url, "hello", extra_headers={"x-llmreplay-status": "429"})
        limit = {"rate_limit": {"enabled": True, "strategy": "fixed-window", "requests": 1, "window_ms": 600_000}}
        r = httpx2.patch(rp.url + "/api/config/global", json=limit, timeout=5)
        assert r.status_code == 200, r.text
        assert chat(rp.url, "hello") == hello
        with pytest.raises(openai.RateLimitError):
            chat(rp.url, "hello")


def test_a_verbatim_recording_names_no_api(tmp_path: Path, up: BackgroundServer) -> None:
    with recorder(tmp_path, up.url) as rec:
        httpx2.get(rec.url + "/v1/vector_stores/vs_123", timeout=5)
    (it,) = load(tmp_path / CASSETTE).interactions
    assert it.api is None
