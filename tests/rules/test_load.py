"""Loading rules files: YAML, TOML, JSON; every problem one line naming the rule and the field."""

from __future__ import annotations

import pytest

from llmreplay.config import Settings
from llmreplay.errors import ConfigError
from llmreplay.rules import RuleBook, RulesError, load_rules, parse_rules, shadowed

YAML = """
rules:
  - name: weather-call
    match:
      model: "gpt-4o*"
      last_user: {contains: weather}
      tools: [get_weather]
      tool_result: false
    reply:
      tool_calls: [{name: get_weather}]
  - name: weather-answer
    match: {tool_result: {name: get_weather}}
    reply: {text: "It is {{tool_result.get_weather}}."}
"""

TOML = """
[[rules]]
name = "hello"
match = { last_user = "hello" }
reply = { text = "Hi!" }

[[rules]]
name = "flaky"
steps = [{ outcome = "429" }, { text = "ok" }]
then = "stop"
"""

JSON = '{"rules": [{"name": "j", "reply": {"text": "x"}, "once": true}]}'


@pytest.mark.parametrize(
    ("suffix", "text", "names"),
    [
        (".yaml", YAML, ["weather-call", "weather-answer"]),
        (".yml", YAML, ["weather-call", "weather-answer"]),
        (".toml", TOML, ["hello", "flaky"]),
        (".json", JSON, ["j"]),
    ],
)
def test_each_format(tmp_path, suffix, text, names):
    path = tmp_path / f"rules{suffix}"
    path.write_text(text)
    assert [r.name for r in load_rules(path)] == names


def test_a_bare_list_and_an_empty_file(tmp_path):
    assert [r.name for r in parse_rules([{"reply": {"text": "a"}}, {"reply": {"text": "b"}}])] == ["rule-0", "rule-1"]
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_rules(path) == []


def _lines(data, origin="rules.yaml") -> list[str]:
    with pytest.raises(RulesError) as info:
        parse_rules(data, origin)
    assert str(info.value) == "\n".join(info.value.lines)
    return info.value.lines


def test_one_line_per_problem_naming_the_rule_and_the_field():
    lines = _lines(
        {
            "rules": [
                {"name": "weather-call", "match": {"model": 5, "turn": "x"}, "reply": {"text": "{{nope}}"}},
                {"reply": {}},
                {"name": "b", "reply": {"text": "x", "outcome": "boom"}, "extra": 1},
                {"match": {"tools": ["a"]}, "reply": {"tool_calls": [{"name": "b"}]}},
                {"name": "b", "reply": {"text": "x"}},
                {"name": "c", "match": {"last_user": {"regex": "("}}, "reply": {"text": "x"}},
                {"name": "d", "reply": {"text": "x"}, "steps": [{"text": "y"}]},
            ]
        }
    )
    assert lines[0].startswith("rules.yaml: rule 'weather-call' (rules[0]): match.model: expected a string or a test")
    assert lines[1].startswith(
        "rules.yaml: rule 'weather-call' (rules[0]): match.turn: expected a whole number or {min, max}"
    )
    assert lines[2].startswith("rules.yaml: rule 'weather-call' (rules[0]): reply.text: unknown placeholder {{nope}}")
    assert (
        lines[3]
        == "rules.yaml: rules[1]: reply: a reply needs one of text, tool_calls, json, refusal, cassette or outcome"
    )
    assert lines[4].startswith("rules.yaml: rule 'b' (rules[2]): reply.outcome: 'boom': unknown outcome")
    assert lines[5].startswith("rules.yaml: rule 'b' (rules[2]): extra: Extra inputs are not permitted")
    assert lines[6].startswith("rules.yaml: rules[3]: reply.tool_calls.0.arguments: no arguments for 'b'")
    assert lines[7] == "rules.yaml: rule 'b' (rules[4]): name: the name is taken by rules[2]"
    assert lines[8].startswith("rules.yaml: rule 'c' (rules[5]): match.last_user: invalid regular expression")
    assert lines[9] == "rules.yaml: rule 'd' (rules[6]): give either reply or steps"
    assert len(lines) == 10


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"rules": [{"reply": {"refusal": "no", "text": "yes"}}]}, "reply: refusal cannot be given with text"),
        ({"rules": [{"reply": {"text": "a"}, "then": "cycle"}]}, "then goes with steps, not reply"),
        ({"rules": [{"reply": {"text": "a"}, "once": True, "times": 2}]}, "once and times: 2 disagree"),
        ({"rules": [{"steps": []}]}, "steps: List should have at least 1 item"),
        (
            {"rules": [{"match": {"turn": {"min": 3, "max": 1}}, "reply": {"text": "a"}}]},
            "match.turn: min 3 is above max 1",
        ),
        (
            {"rules": [{"match": {"body": {"a..b": 1}}, "reply": {"text": "a"}}]},
            "match.body: 'a..b' is not a dotted path",
        ),
        ({"rules": [{"reply": {"cassette": {"name": "c"}}}]}, "reply.cassette: no cassettes folder"),
        (
            {"rules": [{"reply": {"latency": {"ttft_ms": -1}, "text": "a"}}]},
            "reply.latency.ttft_ms: Input should be greater",
        ),
        (
            {"rules": [{"reply": {"text": "a", "usage": {"output_tokens": 2, "reasoning_tokens": 10}}}]},
            "reply.usage: reasoning_tokens (10) is part of output_tokens (2)",
        ),
        ({"rules": "x"}, "rules: expected a list of rules"),
        ({"rule": []}, "rule: Extra inputs are not permitted"),
        (3, "expected a mapping with a rules list"),
    ],
)
def test_problems(data, says):
    lines = _lines(data)
    assert any(says in line for line in lines), lines


def test_file_problems_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n")
    for path, says in [
        (bad, "bad.yaml: not valid YAML:"),
        (tmp_path / "none.yaml", "none.yaml: no such file"),
        (tmp_path / "rules.txt", "rules.txt: expected a .yaml, .yml, .toml, .json file"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_rules(path)
        assert says in str(info.value) and "\n" not in str(info.value)


def test_from_settings(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(YAML)
    book = RuleBook.from_settings(Settings.model_validate({"rules": {"file": str(path)}}))
    assert len(book) == 2
    assert len(RuleBook.from_settings(Settings())) == 0
    path.write_text("rules: [{reply: {}}]")
    with pytest.raises(ConfigError, match=r"r.yaml: rules\[0\]: reply: a reply needs"):
        RuleBook.from_settings(Settings.model_validate({"rules": {"file": str(path)}}))


def test_shadowed_rules():
    rules = parse_rules(
        [
            {"name": "any-gpt", "match": {"model": "gpt-*"}, "reply": {"text": "a"}},
            {"name": "gpt-hello", "match": {"model": "gpt-*", "last_user": "hello"}, "reply": {"text": "b"}},
            {"name": "limited", "match": {"api": "gemini"}, "once": True, "reply": {"text": "c"}},
            {"name": "after-limited", "match": {"api": "gemini", "turn": 0}, "reply": {"text": "d"}},
            {"name": "overlap", "match": {"model": "gpt-4o"}, "reply": {"text": "e"}},
            {"name": "h1", "match": {"headers": {"x-a": "1"}}, "reply": {"text": "f"}},
            {"name": "h2", "match": {"headers": {"x-a": "1", "x-b": "2"}}, "reply": {"text": "g"}},
            {"name": "stops", "steps": [{"text": "1"}], "then": "stop", "reply": None},
            {"name": "catch-all", "reply": {"text": "z"}},
            {"name": "never", "match": {"api": "openai-chat"}, "reply": {"text": "never"}},
        ]
    )
    assert [(a.name, b.name) for a, b in shadowed(rules)] == [
        ("gpt-hello", "any-gpt"),
        ("h2", "h1"),
        ("never", "catch-all"),
    ]
