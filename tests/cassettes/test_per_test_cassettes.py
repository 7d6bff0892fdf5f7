"""One shared server, many tests' cassettes at once: a request replays from the cassette its test id (header or
``/_test/<id>/`` base URL) or ``x-llmreplay-cassette`` names, with cursors of its own, through the OpenAI SDK."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from tests.cassettes.recorded_kit import ask, client, replayer

pytestmark = pytest.mark.sdk
pytest_plugins = ["pytester"]


def test_two_tests_replay_their_own_cassettes_from_one_server_at_the_same_time(tmp_path: Path, alpha_beta: Path):
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        for name, test_id in (("alpha", "checkout-test"), ("beta", "refund-test")):
            r = admin.post("/api/cassettes", json={"path": str(alpha_beta / f"{name}.msgpack"), "name": test_id})
            assert r.status_code == 200, r.text
        by_header = client(f"{server.url}/v1", **{"x-llmreplay-test-id": "checkout-test"})
        by_url = client(f"{server.url}/_test/refund-test/v1")

        def one(i: int) -> tuple[str, str, str]:
            text, headers = ask(by_header if i % 2 == 0 else by_url)
            return ("checkout-test" if i % 2 == 0 else "refund-test", text, headers["x-llmreplay-cassette"])

        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(one, range(40)))
        for test_id, text, cassette in got:
            want = "Alpha answers." if test_id == "checkout-test" else "Beta answers."
            assert (text, cassette) == (want, f"{test_id}#0")

        # The journal keeps each test's exchanges apart, naming the recording that answered.
        entries = admin.get("/api/requests", params={"test_id": "refund-test"}).json()
        assert len(entries) == 20 and {e["answered_by"]["cassette"] for e in entries} == {"refund-test"}


def test_a_test_id_without_a_cassette_of_its_name_replays_from_every_cassette(tmp_path: Path, alpha_beta: Path):
    (tmp_path / "alpha.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    with replayer(tmp_path) as server:
        text, headers = ask(client(f"{server.url}/_test/someone-else/v1"))
        assert text == "Alpha answers." and headers["x-llmreplay-cassette"] == "alpha#0"


def test_the_cassette_header_wins_over_the_test_id(tmp_path: Path, alpha_beta: Path):
    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.msgpack").write_bytes((alpha_beta / f"{name}.msgpack").read_bytes())
    with replayer(tmp_path) as server:
        sdk = client(f"{server.url}/_test/alpha/v1", **{"x-llmreplay-cassette": "beta"})
        assert ask(sdk)[0] == "Beta answers."
        assert ask(client(f"{server.url}/_test/alpha/v1"))[0] == "Alpha answers."


def test_a_miss_names_the_tests_cassette_and_its_closest_recording(tmp_path: Path, alpha_beta: Path):
    import openai

    (tmp_path / "alpha.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    with replayer(tmp_path) as server:
        sdk = client(f"{server.url}/_test/alpha/v1")
        with pytest.raises(openai.BadRequestError) as missed:
            sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Other"}])
        assert "cassette(s) alpha" in missed.value.message
        assert missed.value.response.headers["x-llmreplay-cassette"] == "alpha"


PLUGIN_TESTS = """
import openai
import pytest

def ask():
    reply = openai.OpenAI(max_retries=0).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What does the recording say?"}]
    )
    return reply.choices[0].message.content

@pytest.mark.llmreplay(cassette="alpha")
def test_alpha(llmreplay):
    assert ask() == "Alpha answers."

@pytest.mark.llmreplay(cassette="beta")
def test_beta(llmreplay):
    assert ask() == "Beta answers."
"""


def test_the_pytest_plugin_gives_each_test_its_cassette_on_a_shared_server(
    pytester: pytest.Pytester, tmp_path: Path, alpha_beta: Path
) -> None:
    from tests.plugin.test_pytest_plugin import run

    (pytester.path / "cassettes").mkdir()
    for name in ("alpha", "beta"):
        (pytester.path / "cassettes" / f"{name}.msgpack").write_bytes((alpha_beta / f"{name}.msgpack").read_bytes())
    pytester.makepyfile(PLUGIN_TESTS)
    with replayer(tmp_path) as server, httpx2.Client(base_url=server.url, timeout=10) as admin:
        run(pytester, f"--llmreplay-url={server.url}").assert_outcomes(passed=2)
        # Each test's cassette was loaded under its id and unloaded at its end.
        assert admin.get("/api/cassettes").json()["cassettes"] == []
        used = {e["answered_by"]["cassette"] for e in admin.get("/api/requests").json()}
        assert len(used) == 2 and all(name.startswith("test_") for name in used)
