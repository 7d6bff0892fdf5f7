"""The pytest plugin: an in-process llmreplay server per test (or per session), configured by a marker.

Registered through the ``pytest11`` entry point, so installing llmreplay is enough. Imports
of the server happen inside the fixtures: every pytest run loads this module, and most
never use it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from llmreplay.config import Settings
    from llmreplay.testing import LLMReplay

RECORD_MODES = ("none", "once", "new_episodes", "all")
ON_MISS = ("error", "synthetic", "forward")
MARKER_DOC = (
    "llmreplay(cassette=None, record_mode=None, scenario=None, latency=None, seed=None, on_miss=None, "
    "synthetic=False): configure the test's llmreplay server (see docs/pytest-plugin.md)"
)
INSTANT = {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}


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
    parser.addini("llmreplay_cassette_dir", "Folder of cassettes, relative to the rootdir.", default=None)
    parser.addini("llmreplay_record_mode", "Default record mode: none, once, new_episodes or all.", default=None)
    parser.addini("llmreplay_upstream", "Default upstream for recording: openai, anthropic, gemini or a URL.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_DOC)
    mode = config.getini("llmreplay_record_mode")
    if mode and mode not in RECORD_MODES:
        raise pytest.UsageError(f"llmreplay_record_mode = {mode!r}: expected one of {', '.join(RECORD_MODES)}")


@dataclass(frozen=True)
class Mark:
    """The llmreplay marker's arguments, validated."""

    cassette: str | None = None
    record_mode: str | None = None
    scenario: str | None = None
    latency: str | Mapping[str, float] | None = None
    seed: int | None = None
    on_miss: str | None = None
    synthetic: bool = False


def _mark(node: pytest.Item) -> Mark | None:
    """The marker's arguments, closest first (a function's marker overrides its class's and module's)."""
    found: dict[str, Any] = {}
    seen = False
    for marker in node.iter_markers("llmreplay"):
        seen = True
        if len(marker.args) > 1:
            raise pytest.UsageError(f"{node.nodeid}: llmreplay marker takes at most one positional argument")
        kwargs = dict(marker.kwargs)
        if marker.args:
            kwargs.setdefault("cassette", marker.args[0])
        for key, value in kwargs.items():
            found.setdefault(key, value)
    if not seen:
        return None
    try:
        mark = Mark(**found)
    except TypeError:
        bad = sorted(set(found) - set(Mark.__dataclass_fields__))
        raise pytest.UsageError(f"{node.nodeid}: llmreplay marker: unknown argument(s) {', '.join(bad)}") from None
    _check(node, mark)
    return mark


def _check(node: pytest.Item, mark: Mark) -> None:
    def fail(msg: str) -> None:
        raise pytest.UsageError(f"{node.nodeid}: llmreplay marker: {msg}")

    if mark.record_mode is not None and mark.record_mode not in RECORD_MODES:
        fail(f"record_mode={mark.record_mode!r}: expected one of {', '.join(RECORD_MODES)}")
    if mark.on_miss is not None and mark.on_miss not in ON_MISS:
        fail(f"on_miss={mark.on_miss!r}: expected one of {', '.join(ON_MISS)}")
    lat = mark.latency
    if lat is not None and not isinstance(lat, Mapping) and lat not in ("instant", "recorded"):
        fail(f"latency={lat!r}: expected 'instant', 'recorded' or a dict of latency fields (ms)")
    if mark.cassette is not None and (
        not isinstance(mark.cassette, str) or not mark.cassette or any(c in mark.cassette for c in ("/", "\\", ".."))
    ):
        fail(f"cassette={mark.cassette!r}: expected a file name without folder or suffix")


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
    found = _mark(node)
    mark, marked = found or Mark(), found is not None
    record_mode = mark.record_mode or _option(config, "--llmreplay-record-mode", "llmreplay_record_mode") or "none"
    upstream = _option(config, "--llmreplay-upstream", "llmreplay_upstream")
    folder = _cassette_dir(config, node)
    name = mark.cassette or default_cassette_name(node)
    cassette: Path | None = folder / f"{name}.msgpack"
    # A named cassette is always used; the default-named one when it exists or is to be recorded.
    uses_cassette = not mark.synthetic and (
        mark.cassette is not None or (marked and (record_mode != "none" or cassette.exists()))
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


@pytest.fixture
def llmreplay(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LLMReplay]:
    """An llmreplay server for this test, set up by its ``llmreplay`` marker, with the SDKs pointed at it.

    Sets ``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL`` and ``GOOGLE_GEMINI_BASE_URL`` (and fake API
    keys where none are set) for the test, so ``OpenAI()``, ``Anthropic()`` and ``genai.Client()``
    talk to it unchanged.
    """
    from llmreplay.testing import VERTEX_VARS

    settings, headers, cassette, mode, private = _plan(request)
    try:
        handle = _start(settings, headers, cassette, mode)
        try:
            for name, value in handle.env_vars().items():
                monkeypatch.setenv(name, value)
            for name in VERTEX_VARS:
                monkeypatch.delenv(name, raising=False)
            yield handle
        finally:
            handle.server.stop()
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)


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
