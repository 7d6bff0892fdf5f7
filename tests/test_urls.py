"""A --state URL is shown without its password, wherever redis-py would read one from."""

from __future__ import annotations

import pytest

from llmreplay.urls import redacted


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("rediss://app:s3cret@h:6380/2", "rediss://app:***@h:6380/2"),
        ("redis://h:6379/0?password=s3cret", "redis://h:6379/0?password=***"),
        ("unix:///run/redis.sock?db=1&PASSWORD=s3cret", "unix:///run/redis.sock?db=1&PASSWORD=***"),
        ("redis://h:6379/0?socket_timeout=2", "redis://h:6379/0?socket_timeout=2"),
        ("redis://app@h/0", "redis://app@h/0"),
        ("redis://[::1:6379/0?password=s3cret", "<a URL that cannot be parsed>"),
    ],
)
def test_redacted(url: str, shown: str) -> None:
    assert redacted(url) == shown


def test_unsupported_scheme_error_hides_the_password() -> None:
    from llmreplay.config import Settings
    from llmreplay.state.factory import StateConfigError, make_state

    s = Settings.model_validate({"server": {"state": "memcache://u:s3cret@h?password=s3cret"}})
    with pytest.raises(StateConfigError) as info:
        make_state(s)
    assert "s3cret" not in str(info.value) and "memcache://u:***@h?password=***" in str(info.value)
