"""The original Mock LLM Server's seven error types as outcomes: aliases of a spelling, or a kind of their own."""

from __future__ import annotations

import random

import pytest

from llmreplay.configmodels import FailureConfig, LatencyConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call, Frame
from llmreplay.providers import openai_chat
from llmreplay.providers.base import Route
from llmreplay.rules.spec import RulesDoc
from llmreplay.shaping.faultkinds.aliases import Alias
from llmreplay.shaping.faultkinds.registry import ALIASES, KINDS, MODES, alias_index
from llmreplay.shaping.faultkinds.slow_response import HIGH_S, LOW_S
from llmreplay.shaping.outcomes import parse, parse_sequence

ORIGINAL = ("server_error", "bad_request", "authentication_error", "permission_denied", "timeout", "slow_response")
ORIGINAL_ALL = (*ORIGINAL, "connection_reset")


@pytest.mark.parametrize(
    ("word", "kind", "status"),
    [
        ("server_error", "status", 500),
        ("bad_request", "status", 400),
        ("authentication_error", "status", 401),
        ("permission_denied", "status", 403),
        ("connection_reset", "reset", None),
        ("timeout", "timeout", None),
        ("slow_response", "slow_response", None),
    ],
)
def test_each_original_type_is_an_outcome_named_as_the_original_names_it(word: str, kind: str, status: int) -> None:
    o = parse(word)
    assert (o.kind, o.status, o.name, o.text) == (kind, status, word, word)
    assert o.kind in KINDS


def test_the_bare_timeout_hangs_until_the_client_gives_up_as_the_originals() -> None:
    assert parse("timeout").ms is None  # no duration: no 504, the connection is held until the client leaves


def test_failure_modes_list_every_original_type() -> None:
    assert set(ORIGINAL_ALL) <= {m.name for m in MODES}


def test_aliases_take_no_parameters() -> None:
    for bad in ("server_error:100", "connection_reset@3", "slow_response:5000"):
        with pytest.raises(ValueError, match="takes no"):
            parse(bad)


def test_every_place_an_outcome_is_taken_accepts_them() -> None:
    assert [o.name for o in parse_sequence(",".join(ORIGINAL_ALL))] == list(ORIGINAL_ALL)
    assert set(FailureConfig(error_rate=1, kinds=dict.fromkeys(ORIGINAL_ALL, 1.0)).kinds) == set(ORIGINAL_ALL)
    doc = RulesDoc.model_validate({"rules": [{"name": w, "reply": {"outcome": w}} for w in ORIGINAL_ALL]})
    assert len(doc.rules) == len(ORIGINAL_ALL)


def test_an_alias_named_like_a_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="named like a kind"):
        alias_index((Alias("reset", "500", "x"),), KINDS)
    with pytest.raises(ValueError, match="twice"):
        alias_index((*ALIASES.values(), Alias("bad_request", "400", "x")), KINDS)


def _exchange(seed: int) -> Exchange:
    route = Route("POST", "/v1/chat/completions", "chat-completions", openai_chat.CODEC)
    return Exchange(Call("POST", "/v1/chat/completions"), route, 0.0, random.Random(seed), LatencyConfig())


@pytest.mark.parametrize("stream", [False, True])
def test_slow_response_delays_the_first_byte_5_to_10_s_by_the_exchanges_generator(stream: bool) -> None:
    timed = Answer(200, (), (Frame(b"a", at=0.3), Frame(b"b", at=0.35)), stream=stream)
    kind, outcome = KINDS["slow_response"], parse("slow_response")
    for seed in range(20):
        shaped = kind.shape(_exchange(seed), timed, outcome)
        extra = random.Random(seed).uniform(LOW_S, HIGH_S)
        assert LOW_S <= extra <= HIGH_S
        assert [f.at for f in shaped.frames] == [0.3 + extra, 0.35 + extra]
        assert shaped.headers_at == 0.0 and shaped.cut is None and shaped.body == timed.body
