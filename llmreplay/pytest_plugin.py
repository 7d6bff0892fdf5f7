"""The pytest plugin: an in-process llmreplay server per test (or per session), configured by a marker.

Registered through the ``pytest11`` entry point, so installing llmreplay is enough. Imports
of the server happen inside the fixtures: every pytest run loads this module, and most
never use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from llmreplay.pytest_marker import MARKER_DOC, RECORD_MODES, Mark, read_mark
from llmreplay.pytest_summary import SessionSummary

if TYPE_CHECKING:
    from llmreplay.config import Settings
    from llmreplay.testing import LLMReplay

SESSION_TOKEN = pytest.StashKey[str]()
"""Each session's own part of its test ids: two runs of the same tests against one shared server (xdist
workers, two CI jobs) keep apart."""
INSTANT = {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}
SUMMARY = "llmreplay-summary"
"""The name the end-of-session summary is registered under (:mod:`llmreplay.pytest_summary`)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("llmreplay", "llmreplay: LLM API replay and synthetic replies")
    group.addoption(
        "--llmreplay-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="Record mode for tests with an llmreplay marker: none (replay only, the default), once, "
        "new_episodes or all. Recording needs --llmreplay-upstream.",
    )
    group.addoption(
        "--llmreplay-upstream",
        default=None,
        help="Where recordings come from: openai, anthropic, gemini or a base URL.",
    )
    group.addoption(
        "--llmreplay-cassette-dir",
        default=None,
        help="Folder of cassettes for every test (default: a 'cassettes' folder beside each test module).",
    )
    group.addoption(
        "--llmreplay-strict",
        action="store_true",
        default=None,
        help="Fail every test whose requests a rule or cassette did not answer (the marker's strict= overrides).",
    )
    group.addoption(
        "--llmreplay-url",
        default=None,
        help="Use this running llmreplay server (shared by tests, xdist workers and runs) instead of starting "
        "one per test; each test sees only its own journal and rules.",
    )
    group.addoption(
        "--llmreplay-require-cassette",
        action="store_true",
        default=None,
        help="Every marked test must replay its cassette: a missing cassette or recording fails the test instead "
        "of a synthetic answer (the marker's require_cassette= overrides).",
    )
    group.addoption(
        "--llmreplay-usage-report",
        default=None,
        metavar="FILE",
        help="Write which recordings the session's tests played and which requests missed to FILE, for "
        "'llmreplay cassettes stale --usage FILE'.",
    )
    parser.addini("llmreplay_cassette_dir", "Folder of cassettes, relative to the rootdir.", default=None)
    parser.addini("llmreplay_url", "A running llmreplay server for every test (as --llmreplay-url).", default=None)
    parser.addini("llmreplay_record_mode", "Default record mode: none, once, new_episodes or all.", default=None)
    parser.addini("llmreplay_upstream", "Default upstream for recording: openai, anthropic, gemini or a URL.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    config.stash[SESSION_TOKEN] = os.urandom(4).hex()
    config.pluginmanager.register(SessionSummary(config.getoption("--llmreplay-usage-report")), SUMMARY)
    mode = config.getini("llmreplay_record_mode")
    if mode and mode not in RECORD_MODES:
        raise pytest.UsageError(f"llmreplay_record_mode = {mode!r}: expected one of {', '.join(RECORD_MODES)}")


def _option(config: pytest.Config, flag: str, ini: str) -> str | None:
    value = config.getoption(flag)
    return value if value is not None else (config.getini(ini) or None)


def _cassette_dir(config: pytest.Config, node: pytest.Item) -> Path:
    flag = config.getoption("--llmreplay-cassette-dir")
    if flag:
        return Path(config.invocation_params.dir, flag)
    ini = config.getini("llmreplay_cassette_dir")
    if ini:
        return Path(config.rootpath, ini)
    return node.path.parent / "cassettes"


def default_cassette_name(node: pytest.Item) -> str:
    """``<module>__<test>`` (``<module>__<Class>__<test>`` in a class), safe as a file name."""
    parts = [node.path.stem, *node.nodeid.split("::")[1:]]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "__".join(parts)).replace("..", "_")


def _latency_sections(latency: str | Mapping[str, float] | None, cassette: bool) -> dict[str, dict[str, Any]]:
    """Settings sections for the marker's latency: instant (default), recorded, or the given fields."""
    if latency in (None, "instant"):
        return {"latency": dict(INSTANT), "cassettes": {"speed": 0}}
    if latency == "recorded":
        return {}  # the server's defaults: synthetic latency, cassettes at their recorded pace
    assert isinstance(latency, Mapping)
    sections: dict[str, dict[str, Any]] = {"latency": {**INSTANT, **latency}}
    if cassette:
        sections["cassettes"] = {"timing": "synthetic"}
    return sections


def _settings(sections: Mapping[str, Mapping[str, Any]]) -> Settings:
    from llmreplay.config import Settings

    data: dict[str, dict[str, Any]] = {"server": {"quiet": True}}
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    try:
        return Settings.model_validate(data)
    except ValueError as exc:
        raise pytest.UsageError(f"llmreplay: {exc}") from None


def _replay_folder(cassette: Path) -> Path:
    """A private folder holding only this cassette, so a test replays its own recordings and no others."""
    folder = Path(tempfile.mkdtemp(prefix="llmreplay-"))
    try:
        (folder / cassette.name).symlink_to(cassette.resolve())
    except OSError:
        shutil.copyfile(cassette, folder / cassette.name)
    return folder


def _start(
    settings: Settings, default_headers: Mapping[str, str], cassette: Path | None, record_mode: str
) -> LLMReplay:
    from llmreplay.errors import ConfigError
    from llmreplay.testing import LLMReplay, TestServer

    try:
        server = TestServer(settings, default_headers).start()
    except ConfigError as exc:
        pytest.fail(f"llmreplay: {exc}", pytrace=False)
    return LLMReplay(server, cassette, record_mode)


def _plan(request: pytest.FixtureRequest) -> tuple[Settings, dict[str, str], Path | None, str, Path | None]:
    """Settings, default headers, cassette, effective record mode, and a private folder to delete."""
    from llmreplay.testing import INSTANT_RETRY_AFTER_MS, SCENARIO_KEY

    config, node = request.config, request.node
    found = read_mark(node)
    mark, marked = found or Mark(), found is not None
    record_mode = mark.record_mode or _option(config, "--llmreplay-record-mode", "llmreplay_record_mode") or "none"
    upstream = _option(config, "--llmreplay-upstream", "llmreplay_upstream")
    folder = _cassette_dir(config, node)
    name = mark.cassette or default_cassette_name(node)
    cassette: Path | None = folder / f"{name}.msgpack"
    # A named cassette is always used; the default-named one when it exists or is to be recorded.
    uses_cassette = not mark.synthetic and (
        mark.cassette is not None
        or (marked and (record_mode != "none" or cassette.exists() or _required(config, mark)))
    )

    sections: dict[str, dict[str, Any]] = _latency_sections(mark.latency, uses_cassette)
    if mark.seed is not None:
        sections.setdefault("synthetic", {})["seed"] = mark.seed
    private: Path | None = None
    if not uses_cassette:
        cassette = None
    else:
        assert cassette is not None
        replay_only = record_mode == "none" or (record_mode == "once" and cassette.exists())
        if replay_only and not cassette.exists():
            pytest.fail(
                f"llmreplay: cassette {cassette} does not exist; record it with "
                "--llmreplay-record-mode=once --llmreplay-upstream=openai|anthropic|gemini|URL",
                pytrace=False,
            )
        if replay_only:
            private = folder = _replay_folder(cassette)
        cs = sections.setdefault("cassettes", {})
        cs.update(dir=str(folder), cassette=name, record_mode=record_mode, on_miss=mark.on_miss or "error")
        if upstream:
            cs["upstream"] = upstream

    headers: dict[str, str] = {}
    if mark.scenario:
        headers["x-llmreplay-scenario"] = mark.scenario
        headers["x-llmreplay-scenario-key"] = SCENARIO_KEY
    if mark.latency in (None, "instant"):
        headers["x-llmreplay-retry-after-ms"] = INSTANT_RETRY_AFTER_MS
    return _settings(sections), headers, cassette, record_mode if uses_cassette else "none", private


def test_id(node: pytest.Item) -> str:
    """The test's id on the server: readable, unique per test and per run (xdist workers, concurrent runs)."""
    digest = hashlib.sha256(f"{node.config.stash[SESSION_TOKEN]}:{node.nodeid}".encode()).hexdigest()[:10]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid.split("::", 1)[-1])[:80]
    return f"{readable}-{digest}"


def _rules_data(node: pytest.Item, rules: Any) -> Any:
    """The marker's rules as the admin API takes them: a file is read here (relative to the test module)."""
    if not isinstance(rules, str | os.PathLike):
        return rules if isinstance(rules, Mapping) else {"rules": list(rules)}
    from llmreplay.rules.load import SUFFIXES, RulesError, read_text

    path = Path(rules)
    path = path if path.is_absolute() else node.path.parent / path
    where = f"{node.nodeid}: llmreplay marker: rules={str(rules)!r}"
    if path.suffix.lower() not in SUFFIXES:
        raise pytest.UsageError(f"{where}: expected a {', '.join(SUFFIXES)} file")
    try:
        return read_text(path.read_text(encoding="utf-8"), path.suffix.lower(), str(path))
    except OSError as exc:
        raise pytest.UsageError(f"{where}: cannot be read: {exc.strerror or exc}") from None
    except RulesError as exc:
        raise pytest.UsageError(f"{where}: {exc}") from None


def _strict(config: pytest.Config, mark: Mark, marked: bool = True) -> bool:
    if mark.strict is not None:
        return mark.strict
    # A required recording may not be stood in for: what the cassette does not hold fails the test.
    return bool(config.getoption("--llmreplay-strict")) or (marked and _required(config, mark))


def _required(config: pytest.Config, mark: Mark) -> bool:
    """Whether a marked test must replay a recording (the marker's ``require_cassette``, else the flag)."""
    if mark.synthetic:
        return False
    if mark.require_cassette is not None:
        return mark.require_cassette
    return bool(config.getoption("--llmreplay-require-cassette"))


def _remote(request: pytest.FixtureRequest, found: Mark | None) -> LLMReplay | None:
    """A handle on the shared server ``--llmreplay-url`` names, or None to start one for the test."""
    from llmreplay.testing import LLMReplay

    url = _option(request.config, "--llmreplay-url", "llmreplay_url")
    if not url:
        return None
    mark = found or Mark()
    own = [k for k in ("record_mode", "scenario", "latency", "seed", "on_miss") if getattr(mark, k)]
    if own:
        raise pytest.UsageError(
            f"{request.node.nodeid}: llmreplay marker: {', '.join(own)} need the test's own server, "
            "and --llmreplay-url shares one; script the test with rules= instead"
        )
    handle = LLMReplay(None, test_id=test_id(request.node), remote=url)
    if mark.cassette is not None:
        _load_cassette(handle, _cassette_dir(request.config, request.node) / f"{mark.cassette}.msgpack", request.node)
    return handle


def _load_cassette(handle: LLMReplay, path: Path, node: pytest.Item) -> None:
    """The shared server replays the marker's cassette to this test alone: loaded under the test's id (which
    its base URL carries), unloaded at teardown. The server reads the file, so it must see the same disk."""
    from llmreplay.testing import AdminError

    if not path.is_file():
        pytest.fail(f"llmreplay: cassette {path} does not exist", pytrace=False)
    try:
        handle.admin.request("POST", "/api/cassettes", {"path": str(path.resolve()), "name": handle.test_id})
    except AdminError as exc:
        where = f"{node.nodeid}: llmreplay marker: cassette: the shared server could not load {path}"
        pytest.fail(f"{where}: {_problems(exc.body)}", pytrace=False)


@pytest.fixture
def llmreplay(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMReplay]:
    """An llmreplay server for this test, set up by its ``llmreplay`` marker, with the SDKs pointed at it.

    Sets ``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL`` and ``GOOGLE_GEMINI_BASE_URL`` (and fake API
    keys where none are set) for the test, so ``OpenAI()``, ``Anthropic()`` and ``genai.Client()``
    talk to it unchanged. With ``--llmreplay-url`` they talk to that shared server, under this test's id.
    """
    from llmreplay.testing import VERTEX_VARS

    found = read_mark(request.node)
    mark = found or Mark()
    strict = _strict(request.config, mark, found is not None)
    private = None
    handle = _remote(request, found)
    if handle is None:
        settings, headers, cassette, mode, private = _plan(request)
        headers["x-llmreplay-test-id"] = test_id(request.node)
        if strict:
            headers["x-llmreplay-strict"] = "true"
    try:
        if handle is None:
            handle = _start(settings, headers, cassette, mode)
            handle.test_id = headers["x-llmreplay-test-id"]
        try:
            if mark.rules is not None:
                _set_rules(handle, request.node, mark.rules)
            for name, value in handle.env_vars().items():
                monkeypatch.setenv(name, value)
            for name in VERTEX_VARS:
                monkeypatch.delenv(name, raising=False)
            yield handle
            if strict:
                # After the test's own outcome: the app may have swallowed the error an unmatched call got.
                handle.requests.assert_all_matched()
            if mark.budget_usd is not None:
                handle.assert_cost_below(mark.budget_usd)
        finally:
            request.config.pluginmanager.get_plugin(SUMMARY).test_done(handle)
            if handle.server is not None:
                handle.server.stop()
            else:
                _forget(handle, unload=mark.cassette is not None)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


def _set_rules(handle: LLMReplay, node: pytest.Item, rules: Any) -> None:
    from llmreplay.testing import AdminError

    try:
        handle.set_rules(_rules_data(node, rules))
    except AdminError as exc:
        raise pytest.UsageError(f"{node.nodeid}: llmreplay marker: rules: {_problems(exc.body)}") from None


def _problems(body: str) -> str:
    """The admin API's 422 as lines naming each field (its JSON as it came, where it is not one)."""
    try:
        detail = json.loads(body)["detail"]
        return "\n".join(f"{'.'.join(str(x) for x in d['loc'][1:])}: {d['msg']}" for d in detail)
    except (ValueError, KeyError, TypeError):
        return body


def _forget(handle: LLMReplay, unload: bool = False) -> None:
    """A shared server lets go of the test's rules (and, ``unload``, its cassette); its journal entries age out
    with the others."""
    from llmreplay.testing import AdminError

    # The server is gone or refuses: nothing of this test's is left to hold anyone up.
    with contextlib.suppress(AdminError, OSError):
        handle.clear_rules()
    if unload:
        with contextlib.suppress(AdminError, OSError):
            handle.admin.request("DELETE", f"/api/cassettes/{quote(str(handle.test_id), safe='')}")


@pytest.fixture(scope="session")
def llmreplay_session() -> Iterator[LLMReplay]:
    """One synthetic llmreplay server with no delays, shared by the session; the SDK variables point at it
    from first use to the end of the session."""
    from llmreplay.testing import INSTANT_RETRY_AFTER_MS

    settings = _settings(_latency_sections("instant", cassette=False))
    handle = _start(settings, {"x-llmreplay-retry-after-ms": INSTANT_RETRY_AFTER_MS}, None, "none")
    try:
        with handle.env():
            yield handle
    finally:
        handle.server.stop()
