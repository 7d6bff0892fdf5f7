"""The plugin's end of session: what answered each cassette's tests, the usage report for ``cassettes stale``,
and ``require_cassette`` / ``--llmreplay-require-cassette``, which fail a test a recording does not answer."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from llmreplay.cassettes import usage
from llmreplay.cli_cassettes import cassettes
from tests.plugin.test_pytest_plugin import EXAMPLE, run

pytest_plugins = ["pytester"]

TESTS = """
import openai
import pytest

QUESTION = [{"role": "user", "content": "What is llmreplay?"}]
OTHER = [{"role": "user", "content": "Not recorded"}]


@pytest.mark.llmreplay(cassette="example", on_miss="synthetic")
def test_replays_then_misses(llmreplay):
    client = openai.OpenAI(max_retries=0)
    assert client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION).choices
    assert client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True)
    assert client.chat.completions.create(model="gpt-4o", messages=OTHER).choices  # synthetic: a miss


@pytest.mark.llmreplay(cassette="example")
def test_replays_once(llmreplay):
    assert openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=QUESTION).choices


def test_no_cassette(llmreplay):
    assert openai.OpenAI().chat.completions.create(model="gpt-4o", messages=QUESTION).choices
"""


def _with_example(pytester: pytest.Pytester) -> None:
    (pytester.path / "cassettes").mkdir()
    shutil.copy(EXAMPLE, pytester.path / "cassettes" / "example.msgpack")


def test_summary_counts_each_cassette_and_the_report_feeds_stale(pytester: pytest.Pytester) -> None:
    _with_example(pytester)
    pytester.makepyfile(TESTS)
    report = pytester.path / "usage.json"
    result = run(pytester, f"--llmreplay-usage-report={report}")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*= llmreplay =*",
            "cassette example: 3 of 4 requests answered from it, 1 fell back to synthetic (2 tests)",
            "no cassette: 1 request, 1 synthetic (1 test)",
            f"llmreplay: usage report {report} (llmreplay cassettes stale --usage {report})",
        ]
    )
    merged = usage.load(report)
    assert merged["played"] == {"example": {"0": 2, "1": 1}}
    assert [(m["model"], m["answered_by"]) for m in merged["misses"]] == [("gpt-4o", "synthetic")]
    stale = CliRunner().invoke(cassettes, ["stale", str(pytester.path / "cassettes"), "--usage", str(report)])
    assert stale.exit_code == 1
    assert stale.stdout.splitlines()[0] == "example: 2 of 4 recordings never used"


def test_no_summary_without_the_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert "llmreplay" not in result.stdout.str()


REQUIRED = """
import openai
import pytest

QUESTION = [{"role": "user", "content": "What is llmreplay?"}]


@pytest.mark.llmreplay
def test_bare_marker_without_a_recording(llmreplay):
    openai.OpenAI().chat.completions.create(model="gpt-4o", messages=QUESTION)


@pytest.mark.llmreplay(cassette="example", on_miss="synthetic")
def test_a_miss_cannot_fall_back(llmreplay):
    try:
        openai.OpenAI(max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Not recorded"}]
        )
    except openai.BadRequestError:
        pass  # an app that swallows the error still fails at teardown


@pytest.mark.llmreplay(cassette="example")
def test_a_hit_passes(llmreplay):
    assert openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=QUESTION).choices


def test_unmarked_stays_synthetic(llmreplay):
    assert openai.OpenAI().chat.completions.create(model="gpt-4o", messages=QUESTION).choices
"""


def test_without_require_a_bare_marker_answers_synthetically(pytester: pytest.Pytester) -> None:
    _with_example(pytester)
    pytester.makepyfile(REQUIRED)
    run(pytester).assert_outcomes(passed=4)


def test_the_flag_fails_what_a_recording_did_not_answer(pytester: pytest.Pytester) -> None:
    _with_example(pytester)
    pytester.makepyfile(REQUIRED)
    result = run(pytester, "--llmreplay-require-cassette")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*test_bare_marker_without_a_recording.msgpack does not exist*",
            "*1 request(s) no rule or recording answered (strict mode)*",
            "cassette example: 1 of 2 requests answered from it, 0 fell back to synthetic, 1 error (2 tests)",
            "ERROR *::test_bare_marker_without_a_recording*",
            "ERROR *::test_a_miss_cannot_fall_back*",
        ]
    )


def test_the_marker_argument_alone(pytester: pytest.Pytester) -> None:
    _with_example(pytester)
    pytester.makepyfile(REQUIRED.replace("@pytest.mark.llmreplay\n", "@pytest.mark.llmreplay(require_cassette=True)\n"))
    result = run(pytester)
    result.assert_outcomes(passed=3, errors=1)
    assert "test_bare_marker_without_a_recording.msgpack does not exist" in result.stdout.str()


def test_require_cassette_must_be_a_bool(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.llmreplay(require_cassette="yes")
        def test_it(llmreplay):
            pass
        """
    )
    result = run(pytester)
    assert "require_cassette='yes': expected True or False" in result.stdout.str() + result.stderr.str()
