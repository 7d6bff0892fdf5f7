"""The pytest plugin, driven through pytester: inner test sessions that use the fixtures and marker."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
from pathlib import Path

import pytest

from llmreplay.cassettes.store import load
from llmreplay.config import Settings
from llmreplay.server import BackgroundServer

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[2] / "cassettes" / "example.msgpack"
QUIET = {"latency": {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}, "server": {"quiet": True}}


def _plugin_args() -> list[str]:
    # Once the package is installed with its entry point, pytest loads the plugin itself; loading it
    # a second time by module name would be an error.
    installed = any(ep.value == "llmreplay.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "llmreplay.pytest_plugin"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # pytest-aiohttp brings pytest-asyncio, which warns in every inner run unless its loop scope is set.
    scope = ("-o", "asyncio_default_fixture_loop_scope=function")
    return pytester.runpytest_inprocess(*_plugin_args(), *scope, "-p", "no:cacheprovider", "-q", *args)


def _example_text() -> str:
    body = load(EXAMPLE).interactions[0].response.body
    assert body is not None
    return json.loads(body)["choices"][0]["message"]["content"]


def test_synthetic_openai_via_environment(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        """
        import os
        import openai

        def test_chat(llmreplay):
            assert os.environ["OPENAI_BASE_URL"] == llmreplay.openai_base_url == llmreplay.url + "/v1"
            client = openai.OpenAI()
            reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
            assert reply.choices[0].message.content
            stream = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert llmreplay.cassette is None

        def test_restored(monkeypatch):
            assert "OPENAI_BASE_URL" not in os.environ
        """
    )
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    run(pytester).assert_outcomes(passed=2)


def test_synthetic_anthropic_and_gemini_via_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        import anthropic
        from google import genai

        def test_anthropic(llmreplay):
            message = anthropic.Anthropic().messages.create(
                model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
            )
            assert message.content[0].text

        def test_gemini(llmreplay):
            client = genai.Client()  # held: a dropped client closes its connection pool
            assert client.models.generate_content(model="gemini-2.5-flash", contents="Hi").text
            chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi")
            assert "".join(c.text or "" for c in chunks)
        """
    )
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    run(pytester).assert_outcomes(passed=2)


def test_marker_cassette_replays_beside_the_module(pytester: pytest.Pytester) -> None:
    (pytester.path / "cassettes").mkdir()
    shutil.copy(EXAMPLE, pytester.path / "cassettes" / "example.msgpack")
    pytester.makepyfile(
        f"""
        import anthropic
        import openai
        import pytest
        from google import genai

        QUESTION = [{{"role": "user", "content": "What is llmreplay?"}}]
        pytestmark = pytest.mark.llmreplay(cassette="example")

        def test_openai(llmreplay):
            assert llmreplay.cassette.name == "example.msgpack"
            client = openai.OpenAI()
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
            assert reply.choices[0].message.content == {_example_text()!r}
            stream = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True)
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

        def test_anthropic(llmreplay):
            client = anthropic.Anthropic()
            with client.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=QUESTION) as stream:
                assert "".join(stream.text_stream)

        def test_gemini(llmreplay):
            client = genai.Client()
            chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="What is llmreplay?")
            assert "".join(c.text or "" for c in chunks)

        def test_miss_names_the_cassette(llmreplay):
            with pytest.raises(openai.BadRequestError, match="example"):
                openai.OpenAI().chat.completions.create(
                    model="gpt-4o-mini", messages=[{{"role": "user", "content": "Something else"}}]
                )
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_missing_cassette_fails_with_how_to_record(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay(cassette="nowhere")
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cassette*nowhere.msgpack does not exist*--llmreplay-record-mode=once*"])


def test_record_once_then_replay_without_upstream(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_rec="""
        from pathlib import Path
        import openai
        import pytest

        @pytest.mark.llmreplay
        def test_it(llmreplay):
            reply = openai.OpenAI().chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Record me"}]
            )
            out = Path(__file__).parent / "seen.txt"
            text = reply.choices[0].message.content
            if out.exists():
                assert out.read_text() == text
            else:
                out.write_text(text)
        """
    )
    upstream = BackgroundServer(Settings.model_validate(QUIET)).start()
    try:
        run(pytester, "--llmreplay-record-mode=once", f"--llmreplay-upstream={upstream.url}").assert_outcomes(passed=1)
    finally:
        upstream.stop()
    cassette = pytester.path / "cassettes" / "test_rec__test_it.msgpack"
    assert len(load(cassette).interactions) == 1
    # The upstream is gone: both runs below can only replay.
    run(pytester).assert_outcomes(passed=1)
    run(pytester, "--llmreplay-record-mode=once").assert_outcomes(passed=1)


def test_recording_without_upstream_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay(record_mode="all")
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs an upstream*"])


def test_cassette_dir_option(pytester: pytest.Pytester) -> None:
    (pytester.path / "shared").mkdir()
    shutil.copy(EXAMPLE, pytester.path / "shared" / "example.msgpack")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay("example")
        def test_it(llmreplay):
            assert llmreplay.cassette.parent.name == "shared"
        """
    )
    run(pytester, "--llmreplay-cassette-dir=shared").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nllmreplay_cassette_dir = shared\n")
    run(pytester).assert_outcomes(passed=1)


def test_latency_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import time
        import openai
        import pytest

        def first_chunk_s():
            t0 = time.perf_counter()
            stream = openai.OpenAI().chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            next(iter(stream))
            return time.perf_counter() - t0

        @pytest.mark.llmreplay(latency={"initial_delay_ms": 200})
        def test_slow(llmreplay):
            assert llmreplay.admin.get_config()["global"]["latency"]["initial_delay_ms"] == 200
            assert first_chunk_s() >= 0.19

        def test_instant_by_default(llmreplay):
            latency = llmreplay.admin.get_config()["global"]["latency"]
            assert latency["initial_delay_ms"] == latency["delay_ms"] == latency["jitter_ms"] == 0
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_scenario_marker_and_admin_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import openai
        import pytest

        HI = [{"role": "user", "content": "Hi"}]

        @pytest.mark.llmreplay(scenario="429,ok")
        def test_scenario(llmreplay):
            client = openai.OpenAI(max_retries=0)
            with pytest.raises(openai.RateLimitError):
                client.chat.completions.create(model="gpt-4o", messages=HI)
            assert client.chat.completions.create(model="gpt-4o", messages=HI).choices

        @pytest.mark.llmreplay(scenario="503,503,ok")
        def test_sdk_retries_are_instant(llmreplay):
            assert openai.OpenAI(max_retries=2).chat.completions.create(model="gpt-4o", messages=HI).choices

        def test_admin(llmreplay):
            admin = llmreplay.admin
            admin.patch_global({"latency": {"chunk_size": 3}})
            assert admin.get_config()["global"]["latency"]["chunk_size"] == 3
            admin.patch_endpoint("chat-completions", {"rate_limit": {"enabled": True, "strategy": "always"}})
            with pytest.raises(openai.RateLimitError):
                openai.OpenAI(max_retries=0).chat.completions.create(model="gpt-4o", messages=HI)
            assert admin.metrics()
            admin.reset()
            assert admin.get_config()["global"]["latency"]["chunk_size"] == 10
            admin.define_scenario("flaky", "500,ok")
            llmreplay.set_scenario("@flaky")
            client = openai.OpenAI(max_retries=0)
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="gpt-4o", messages=HI)
            assert client.chat.completions.create(model="gpt-4o", messages=HI).choices
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_session_fixture_is_shared(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import openai

        URLS = []

        def test_one(llmreplay_session):
            URLS.append(llmreplay_session.url)
            assert os.environ["OPENAI_BASE_URL"] == llmreplay_session.openai_base_url
            assert openai.OpenAI().chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
            ).choices

        def test_two(llmreplay_session):
            assert URLS == [llmreplay_session.url]
        """
    )
    run(pytester).assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('record_mode="sometimes"', "record_mode='sometimes'"),
        ('latency="fast"', "latency='fast'"),
        ("colour=1", "unknown argument(s) colour"),
        ('cassette="../x"', "expected a file name"),
    ],
)
def test_bad_marker_arguments(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.llmreplay({marker})
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester)
    assert message in result.stdout.str() + result.stderr.str()


ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "pytest-plugin.md", ROOT / "README.md"]
FILE_LINE = re.compile(r"# file: (test_\w+\.py)\n")


def _python_blocks(doc: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc.read_text(), re.S) if doc.exists() else []


def _test_files() -> list[tuple[str, str, str]]:
    """(document, file name, code) of every block that is a whole pytest file (first line ``# file: test_x.py``)."""
    found = []
    for doc in DOCS:
        for code in _python_blocks(doc):
            m = FILE_LINE.match(code)
            if m:
                found.append((doc.name, m.group(1), code))
    return found


@pytest.mark.parametrize(("doc", "name", "code"), _test_files(), ids=lambda v: v if v.endswith(".py") else "")
def test_documented_test_files_pass(pytester: pytest.Pytester, doc: str, name: str, code: str) -> None:
    # Beside the repository's cassettes, as a reader who copies the file into the repository would have it.
    (pytester.path / "cassettes").mkdir()
    shutil.copy(EXAMPLE, pytester.path / "cassettes" / "example.msgpack")
    (pytester.path / name).write_text(code)
    result = run(pytester, name)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and not outcomes.get("failed") and not outcomes.get("errors"), doc


def test_documented_library_use_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = next(c for c in _python_blocks(DOCS[0]) if "from llmreplay.testing import" in c)
    exec(compile(code, "pytest-plugin.md", "exec"), {})
    assert capsys.readouterr().out.strip()
