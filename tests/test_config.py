import json
from typing import Any, Literal, get_args, get_origin

import httpx2
import pytest
from pydantic.fields import FieldInfo

from llmreplay import config
from llmreplay.control.live import EndpointConfig, GlobalConfig, initial
from llmreplay.errors import ConfigError
from llmreplay.options import describe, option_of


def test_defaults_match_the_original_server():
    s = config.load(environ={})
    assert s.server.port == 57593
    assert s.server.host == "127.0.0.1"
    assert (s.latency.initial_delay_ms, s.latency.delay_ms, s.latency.jitter_ms, s.latency.chunk_size) == (
        300,
        50,
        30,
        10,
    )
    assert s.synthetic.tool_call_probability == 0.75
    assert s.synthetic.default_response is None
    rl = s.rate_limit
    assert (rl.enabled, rl.mode, rl.after_n, rl.random_probability, rl.requests, rl.window_ms) == (
        False,
        "after_n",
        5,
        0.3,
        10,
        60000,
    )


def test_every_original_variable_is_read():
    env = {
        "PORT": "8080",
        "STREAM_INITIAL_DELAY_MS": "10",
        "STREAM_DELAY_MS": "5",
        "STREAM_JITTER_MS": "0",
        "STREAM_CHUNK_SIZE": "3",
        "TOOL_CALL_PROBABILITY": "1.0",
        "DEFAULT_RESPONSE": "hi",
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_MODE": "random",
        "RATE_LIMIT_AFTER_N": "2",
        "RATE_LIMIT_RANDOM_PROBABILITY": "0.5",
        "RATE_LIMIT_REQUESTS": "7",
        "RATE_LIMIT_WINDOW_MS": "1000",
    }
    s = config.load(environ=env)
    assert s.server.port == 8080
    assert (s.latency.initial_delay_ms, s.latency.delay_ms, s.latency.jitter_ms, s.latency.chunk_size) == (10, 5, 0, 3)
    assert s.synthetic.tool_call_probability == 1.0 and s.synthetic.default_response == "hi"
    rl = s.rate_limit
    assert (rl.enabled, rl.mode, rl.after_n, rl.random_probability, rl.requests, rl.window_ms) == (
        True,
        "random",
        2,
        0.5,
        7,
        1000,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "abc"}, "PORT='abc': expected an integer from 0 to 65535"),
        ({"PORT": "70000"}, "PORT='70000'"),
        ({"STREAM_DELAY_MS": "-1"}, "STREAM_DELAY_MS='-1': expected a number ≥ 0"),
        ({"STREAM_CHUNK_SIZE": "0"}, "STREAM_CHUNK_SIZE='0': expected an integer ≥ 1"),
        ({"TOOL_CALL_PROBABILITY": "1.5"}, "TOOL_CALL_PROBABILITY='1.5': expected a number from 0 to 1"),
        ({"RATE_LIMIT_MODE": "sometimes"}, "RATE_LIMIT_MODE='sometimes': expected one of always, random, after_n"),
        ({"RATE_LIMIT_ENABLED": "maybe"}, "RATE_LIMIT_ENABLED='maybe': expected true or false"),
    ],
)
def test_bad_environment_value_names_the_variable(env, expected):
    with pytest.raises(ConfigError) as info:
        config.load(environ=env)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_precedence_defaults_file_env_flags(tmp_path):
    f = tmp_path / "llmreplay.toml"
    f.write_text("[server]\nport = 1111\n[latency]\ndelay_ms = 7\nchunk_size = 4\n")
    assert config.load(f, environ={}).server.port == 1111
    s = config.load(f, environ={"PORT": "2222", "STREAM_DELAY_MS": "9"})
    assert s.server.port == 2222 and s.latency.delay_ms == 9 and s.latency.chunk_size == 4
    s = config.load(f, environ={"PORT": "2222"}, overrides={"server": {"port": 3333}})
    assert s.server.port == 3333


def test_bad_config_file_is_one_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[latency]\ndelay_ms = 'slow'\n")
    with pytest.raises(ConfigError, match=r"\[latency\] delay_ms"):
        config.load(f, environ={})
    f.write_text("[nope]\nx = 1\n")
    with pytest.raises(ConfigError, match="unknown section"):
        config.load(f, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "missing.toml", environ={})
    f.write_text("not toml [")
    with pytest.raises(ConfigError):
        config.load(f, environ={})


# ---- one declaration: start-up and the admin API check the same fields ------------------------------------

LIVE_SECTIONS = [s for s in config.Settings.model_fields if s in GlobalConfig.model_fields]


def _bounds(info: FieldInfo) -> dict[str, Any]:
    return {a: getattr(m, a) for m in info.metadata for a in ("ge", "gt", "le", "lt") if hasattr(m, a)}


def live_fields() -> list[tuple[list[str], str, str, FieldInfo, FieldInfo]]:
    """(PATCH path, settings section, settings key, live field, settings field) of every live field that a
    start-up setting also sets."""
    out = []
    for section in LIVE_SECTIONS:
        live = GlobalConfig.model_fields[section].annotation
        start = config.Settings.model_fields[section].annotation
        for name, info in live.model_fields.items():
            key = option_of(info).key or name
            out.append(([section, name], section, key, info, start.model_fields[name]))
    for name, info in GlobalConfig.model_fields.items():
        if name in EndpointConfig.model_fields:
            continue
        owner = next(s for s, f in config.Settings.model_fields.items() if name in f.annotation.model_fields)
        out.append(([name], owner, name, info, config.Settings.model_fields[owner].annotation.model_fields[name]))
    return out


def test_live_sections_are_settings_sections() -> None:
    assert LIVE_SECTIONS == ["latency", "rate_limit"]
    assert [f[0] for f in live_fields() if len(f[0]) == 1] == [["tool_call_probability"], ["default_response"]]


@pytest.mark.parametrize(("path", "section", "key", "live", "start"), live_fields(), ids=lambda v: None)
def test_every_live_field_has_the_same_bounds_at_start(path, section, key, live, start) -> None:
    assert _bounds(start) == _bounds(live), path
    assert start.annotation == live.annotation and start.default == live.default, path
    assert option_of(start) == option_of(live), path


def test_every_live_variable_is_read_at_start() -> None:
    read = {env for env, *_ in config.env_table()}
    declared = {option_of(info).env for *_, info, _ in live_fields()} - {None}
    assert declared and declared <= read


def _probes(info: FieldInfo) -> list[tuple[Any, bool]]:
    """Values at and just past each bound of a field, with whether they are in bounds."""
    args = get_args(info.annotation)
    literal = args if get_origin(info.annotation) is Literal else ()
    if literal:
        spelled = dict(option_of(info).spellings)
        return [*((v, True) for v in [*spelled, *literal]), ("sometimes", False)]
    b = _bounds(info)
    if not b:
        return []
    step = 1 if int in (info.annotation, *args) else 0.001
    probes: list[tuple[Any, bool]] = []
    if "ge" in b:
        probes += [(b["ge"], True), (b["ge"] - step, False)]
    if "le" in b:
        probes += [(b["le"], True), (b["le"] + step, False)]
    return probes


def _cases() -> list[tuple[list[str], str, str, FieldInfo, Any, bool]]:
    return [(p, s, k, live, v, ok) for p, s, k, live, _ in live_fields() for v, ok in _probes(live)]


def _at_start_from_file(tmp_path, section: str, key: str, value: Any) -> bool:
    f = tmp_path / "bounds.toml"
    f.write_text(f"[{section}]\n{key} = {json.dumps(value)}\n")
    try:
        config.load(f, environ={})
    except ConfigError:
        return False
    return True


def _at_start_from_env(env: str, value: Any) -> bool:
    try:
        config.load(environ={env: str(value)})
    except ConfigError:
        return False
    return True


def test_a_value_accepted_at_start_is_accepted_live_and_the_reverse(tmp_path, make_server) -> None:
    cases = _cases()
    assert len(cases) > 30
    srv = make_server()
    with httpx2.Client(base_url=srv.url, timeout=10) as api:
        for path, section, key, live, value, in_bounds in cases:
            patch: dict[str, Any] = {path[-1]: value}
            if len(path) == 2:
                patch = {path[0]: patch}
            r = api.patch("/api/config/global", json=patch)
            assert r.status_code in (200, 422), r.text
            where = f"{'.'.join(path)}={value!r}"
            assert (r.status_code == 200) is in_bounds, where
            if not in_bounds:
                assert r.json()["message"] == f"{'.'.join(path)}: expected {describe(live)}"
            api.post("/api/config/reset")
            assert _at_start_from_file(tmp_path, section, key, value) is in_bounds, where
            env = option_of(live).env
            if env:
                assert _at_start_from_env(env, value) is in_bounds, where


def test_out_of_bounds_is_one_line_naming_the_option_and_the_range(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(environ={"STREAM_INITIAL_DELAY_MS": "700000"})
    assert str(info.value) == "STREAM_INITIAL_DELAY_MS='700000': expected a number ≥ 0, at most 600000"
    f = tmp_path / "c.toml"
    f.write_text("[rate_limit]\nrandom_probability = 2\n")
    with pytest.raises(ConfigError) as info:
        config.load(f, environ={})
    assert str(info.value) == f"{f}: [rate_limit] random_probability = 2: expected a number from 0 to 1"
    with pytest.raises(ConfigError) as info:
        config.load(environ={}, overrides={"server": {"workers": 0}})
    assert str(info.value) == "--workers 0: expected an integer from 1 to 256"


def test_the_original_rate_limit_names_set_the_live_fields(tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[rate_limit]\nmode = "after_n"\nrandom_probability = 0.5\ntokens_per_minute = 100\n')
    s = config.load(f, environ={"RATE_LIMIT_MODE": "random"})
    assert (s.rate_limit.strategy, s.rate_limit.mode, s.rate_limit.probability) == ("random", "random", 0.5)
    assert initial(s).rate_limit == s.rate_limit and s.rate_limit.tokens_per_minute == 100
    f.write_text('[rate_limit]\nmode = "after_n"\nstrategy = "random"\n')
    with pytest.raises(ConfigError, match="mode and strategy are the same setting"):
        config.load(f, environ={})
