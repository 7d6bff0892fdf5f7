"""The common request's fast path (issue 23): a body read once per distinct bytes, the common body filled into a
template cut once, reply texts counted once. Each gives what the slow path gives, byte for byte."""

from __future__ import annotations

import json
import random

import pytest

from llmreplay.catalogue import shipped
from llmreplay.catalogue.cost import cost_usd
from llmreplay.errors import ApiError
from llmreplay.model import Call, Candidate, Finish, Reply, Text, ToolCall, Usage
from llmreplay.providers import memo
from llmreplay.providers import openai_chat_content as content
from llmreplay.providers.base import dumps
from llmreplay.providers.openai_chat import CODEC
from llmreplay.providers.openai_chat_request import parse_chat
from llmreplay.synth import text, tokens


def chat(body: object) -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Call("POST", "/v1/chat/completions", body=raw)


HELLO = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}


def test_the_same_body_is_read_once_and_gives_what_a_fresh_read_gives() -> None:
    first = CODEC.parse_request(chat(HELLO))
    assert CODEC.parse_request(chat(HELLO)) is first
    assert first == parse_chat(chat(HELLO))
    other = CODEC.parse_request(chat({**HELLO, "max_tokens": 5}))
    assert other is not first and other.max_tokens == 5


def test_a_bad_body_gets_its_own_error_every_time() -> None:
    bad = {"model": "gpt-4o", "messages": [{"role": "wizard", "content": "hi"}]}
    errors = []
    for _ in range(2):
        with pytest.raises(ApiError) as exc:
            CODEC.parse_request(chat(bad))
        errors.append((exc.value.message, exc.value.param, exc.value.code))
    assert errors[0] == errors[1] and errors[0][1] == "messages.0.role"


def test_requests_with_schemas_or_big_bodies_are_read_afresh() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    with_tools = {**HELLO, "tools": [tool]}
    assert CODEC.parse_request(chat(with_tools)) is not CODEC.parse_request(chat(with_tools))
    big = {**HELLO, "messages": [{"role": "user", "content": "x" * (memo.MAX_BODY + 1)}]}
    assert CODEC.parse_request(chat(big)) is not CODEC.parse_request(chat(big))


def test_the_memo_keeps_a_bounded_number_of_bodies() -> None:
    reads = []
    kept = memo.BodyMemo(lambda call: reads.append(call.body) or parse_chat(call))
    for i in range(memo.MAX_ENTRIES + 10):
        kept(chat({**HELLO, "max_tokens": i + 1}))
    assert len(kept._kept) == memo.MAX_ENTRIES
    kept(chat({**HELLO, "max_tokens": 1}))  # the oldest went first: read again
    assert len(reads) == memo.MAX_ENTRIES + 11


def _text(rng: random.Random) -> str:
    chars = [rng.randrange(32, 127), rng.randrange(0x80, 0x3000), 0x22, 0x5C, 10, 0, 0x1F600]
    return "".join(chr(rng.choice(chars)) for _ in range(rng.randrange(0, 40)))


def test_the_template_gives_the_bytes_the_whole_encoding_gives() -> None:
    for i in range(500):
        rng = random.Random(i)
        reply = Reply(
            id=("chatcmpl-" if i % 2 else "") + "ab" * rng.randrange(1, 5),
            model=rng.choice(["gpt-4o", 'm"x', "ü"]),
            created=rng.randrange(10**10),
            candidates=(Candidate((Text(_text(rng)),), rng.choice(list(Finish)), None, 3),),
            usage=Usage(rng.randrange(100), rng.randrange(100), rng.randrange(9), rng.randrange(9)),
            fingerprint=rng.choice(["", "fp_x"]),
        )
        assert content.one_text_body(reply) == dumps(content.body(reply, False, 0, 1, 10))


def test_other_replies_take_the_whole_encoding() -> None:
    call = ToolCall("c1", "f", "{}")
    for cands in [(), (Candidate((call,)),), (Candidate((Text("a"), call)),), (Candidate((Text("a"),)),) * 2]:
        assert content.one_text_body(Reply("x", "m", 1, cands)) is None
    # A lone surrogate (JSON allows one) is for the standard library to write.
    assert content.one_text_body(Reply("x", "\ud800", 1, (Candidate((Text("a"),)),))) is None


def _drawn_before(rng: random.Random) -> str:
    """What a reply drew before its tokens were counted as it was made (seeded replies must not change)."""
    if rng.random() < 0.5:
        return rng.choice(text.ANSWERS)
    sentences = []
    for _ in range(rng.randint(1, 5)):
        sentences.append(" ".join(rng.choices(text._LOREM, k=rng.randint(6, 16))).capitalize() + ".")
    return " ".join(sentences)


def test_counted_replies_are_the_same_draws_and_counts() -> None:
    for seed in range(3000):
        a, b = random.Random(seed), random.Random(seed)
        said, n = text.counted_reply(a)
        assert said == _drawn_before(b) and n == tokens.count(said)
        assert a.random() == b.random()
    words = "Configured words, here."
    assert text.counted_reply(random.Random(1), words) == (words, tokens.count(words))


def test_a_family_is_priced_at_its_own_rates() -> None:
    cat = shipped()
    mini, big = cat.lookup("gpt-4o-mini"), cat.lookup("gpt-4o")
    u = Usage(1000, 500)
    assert cost_usd(mini, u) == pytest.approx((1000 * mini.input + 500 * mini.output) / 1e6)
    assert cost_usd(big, u) == pytest.approx((1000 * big.input + 500 * big.output) / 1e6)
    assert cost_usd(mini, u) != cost_usd(big, u)


def test_small_bodies_go_to_orjson_exactly_when_the_regex_would_send_them() -> None:
    from llmreplay.providers.base import _NOT_FOR_ORJSON, _for_orjson

    alphabet = [
        b"1",
        b"2",
        b"0",
        b"9",
        b"a",
        b'"',
        b"\\",
        b"u",
        b"d",
        b"D",
        b"8",
        b"f",
        b"\xed",
        b"\xa0",
        b"\x00",
        b" ",
    ]
    for i in range(20000):
        rng = random.Random(i)
        body = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 60)))
        if rng.random() < 0.3:
            body += b"7" * rng.randrange(15, 25)
        assert _for_orjson(body) == (_NOT_FOR_ORJSON.search(body) is None), body
