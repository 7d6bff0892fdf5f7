import pytest

from llmreplay import config
from llmreplay.errors import ConfigError


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
