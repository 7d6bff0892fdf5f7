"""The rules file's shape, declared once: what a rule may match on and what it may answer.

These pydantic models validate a rules file (YAML, TOML or JSON), the admin API's ``/api/rules`` bodies
and its OpenAPI document alike; docs/rules.md is checked against them. They only check and hold what was
written: :mod:`llmreplay.rules.matchers` and :mod:`llmreplay.rules.answer` compile them once at load.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from llmreplay.rules import template
from llmreplay.shaping import outcomes


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _shorthand(key: str) -> BeforeValidator:
    """A bare string stands for ``{key: string}``: each field says what its shorthand means."""
    return BeforeValidator(lambda v: {key: v} if isinstance(v, str) else v)


class TextMatch(_Spec):
    """Tests on one piece of text; every test given must hold."""

    contains: str | None = Field(None, description="The text contains this.")
    equals: str | None = Field(None, description="The text is exactly this.")
    glob: str | None = Field(None, description="The whole text matches this shell pattern (`*`, `?`, `[abc]`).")
    regex: str | None = Field(None, description="This regular expression (Python syntax) is found in the text.")
    json_: dict[str, Any] | None = Field(
        None,
        alias="json",
        description="The text parsed as JSON has these values at these dotted paths (`a.b.0`); a value may be "
        "itself a test (`{regex: ...}`).",
    )
    ignore_case: bool = Field(False, description="Compare without regard to case.")

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    @field_validator("json_")
    @classmethod
    def _json_paths(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_values(v)

    @property
    def has_test(self) -> bool:
        return any(v is not None for v in (self.contains, self.equals, self.glob, self.regex, self.json_))

    @model_validator(mode="after")
    def _check(self) -> TextMatch:
        if not self.has_test and not self._may_be_bare():
            raise ValueError("give at least one of contains, equals, glob, regex, json")
        if self.regex is not None:
            _check_regex(self.regex)
        return self

    def _may_be_bare(self) -> bool:
        return False


TEST_KEYS = frozenset({"contains", "equals", "glob", "regex", "ignore_case"})
"""The keys of a text test: a mapping of only these, where a value is expected, is a test of the value."""


def is_test(value: Any) -> bool:
    """Whether a value in a ``body`` or ``json`` test is a text test (``{regex: ...}``), not the value to equal."""
    return isinstance(value, dict) and bool(value) and set(value) <= TEST_KEYS


def _check_values(paths: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tests among ``paths``' values are checked now (a bad regex is a load error, not a request's)."""
    for path, value in (paths or {}).items():
        if not path or any(not p for p in path.split(".")):
            raise ValueError(f"{path!r} is not a dotted path (a.b.0)")
        if is_test(value):
            try:
                TextMatch.model_validate(value)
            except ValidationError as exc:
                raise ValueError(f"{path}: {exc.errors(include_url=False)[0]['msg']}") from None
    return paths


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


Contains = Annotated[TextMatch, _shorthand("contains")]
"""A text test whose bare-string form means *contains*."""
Glob = Annotated[TextMatch, _shorthand("glob")]
"""A text test whose bare-string form is a shell pattern (exact when it has no wildcard)."""
Exact = Annotated[TextMatch, _shorthand("equals")]
"""A text test whose bare-string form means *equals*."""


class ToolResultMatch(TextMatch):
    """A tool result in the current turn: which tool's, and what it says."""

    name: str | None = Field(None, description="The tool whose result it is.")

    def _may_be_bare(self) -> bool:
        return self.name is not None


class Range(_Spec):
    """A whole number between two bounds (either may be left out)."""

    min: int | None = Field(None, ge=0, description="At least this.")
    max: int | None = Field(None, ge=0, description="At most this.")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


OneOrMore = Annotated[list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


class MatchSpec(_Spec):
    """What a request must be for the rule to answer it; every matcher given must hold (none: every request)."""

    api: OneOrMore | None = Field(
        None,
        description="Provider API(s): openai-chat, openai-responses, openai-completions, anthropic-messages, gemini.",
    )
    endpoint: OneOrMore | None = Field(
        None,
        description="Endpoint name(s): chat-completions, responses, completions, messages, gemini, embeddings, "
        "models, other.",
    )
    provider: OneOrMore | None = Field(None, description="Provider(s): openai, anthropic, gemini.")
    path: Glob | None = Field(None, description="The URL path; a bare string is a shell pattern.")
    model: Glob | None = Field(None, description="The model asked for; a bare string is a shell pattern (`gpt-4o*`).")
    last_user: Contains | None = Field(None, description="The latest user message; a bare string: contains.")
    system: Contains | None = Field(None, description="The system prompt (instructions); a bare string: contains.")
    any_message: Contains | None = Field(
        None, description="Some message of the conversation, system prompt included; a bare string: contains."
    )
    tools: OneOrMore | None = Field(None, description="Tools the request offers (all of these names).")
    tool_result: bool | ToolResultMatch | None = Field(
        None,
        description="Whether the current turn carries a tool's result (true/false), or one that passes these "
        "tests (`name` and text tests).",
    )
    turn: int | Range | None = Field(
        None, description="Assistant turns already in the conversation: a number, or {min, max}."
    )
    headers: dict[str, Annotated[TextMatch, _shorthand("equals")]] | None = Field(
        None, description="Request headers (names in any case); a bare string: equals."
    )
    body: dict[str, Any] | None = Field(
        None,
        description="Request body values at dotted paths (`metadata.user`, `messages.0.role`): equal to the value "
        "given, or passing a test (`{regex: ...}`, `{contains: ...}`, `{glob: ...}`).",
    )

    @field_validator("body")
    @classmethod
    def _body_paths(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_values(v)

    @field_validator("headers")
    @classmethod
    def _lower(cls, v: dict[str, TextMatch] | None) -> dict[str, TextMatch] | None:
        return {k.lower(): m for k, m in v.items()} if v is not None else None

    def needs_request(self) -> bool:
        """Whether the rule looks into the neutral request (so cannot match a call no codec reads)."""
        wanted = (self.model, self.last_user, self.system, self.any_message, self.tools, self.tool_result, self.turn)
        return any(x is not None for x in wanted)


class ToolCallSpec(_Spec):
    """One tool call the model makes."""

    name: str = Field(min_length=1, description="The tool's name.")
    arguments: dict[str, Any] | None = Field(
        None, description="Its arguments; left out: generated from the tool's schema in the request."
    )
    id: str | None = Field(None, description="The call's id stem (the codec adds its prefix); left out: drawn.")

    @field_validator("arguments")
    @classmethod
    def _placeholders(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        _check_templates(v)
        return v


class UsageSpec(_Spec):
    """Token counts reported instead of the estimates."""

    input_tokens: int | None = Field(None, ge=0, description="Prompt tokens.")
    output_tokens: int | None = Field(None, ge=0, description="Completion tokens.")
    reasoning_tokens: int | None = Field(None, ge=0, description="Of the completion tokens, those spent thinking.")

    @model_validator(mode="after")
    def _reasoning_within_output(self) -> UsageSpec:
        # Reasoning is part of the completion: more of it than the whole would read differently per API
        # (OpenAI and Anthropic report the whole, Gemini the answer and the thoughts apart).
        out, thinking = self.output_tokens, self.reasoning_tokens
        if out is not None and thinking is not None and thinking > out:
            raise ValueError(f"reasoning_tokens ({thinking}) is part of output_tokens ({out}), so at most it")
        return self


class LatencySpec(_Spec):
    """Timing of this answer instead of the configured latency."""

    ttft_ms: float | None = Field(None, ge=0, le=600_000, description="Time to first token, in ms.")
    gap_ms: float | None = Field(None, ge=0, le=600_000, description="Delay between streamed chunks, in ms.")
    jitter_ms: float | None = Field(None, ge=0, le=600_000, description="Random extra delay per chunk, in ms.")
    chunk_size: int | None = Field(None, ge=1, le=1_000_000, description="Characters per streamed chunk.")


class CassetteRef(_Spec):
    """A recorded reply, replayed as this rule's answer (rendered for whichever API asks)."""

    name: str = Field(min_length=1, description="The cassette's name in the cassettes folder (without .msgpack).")
    index: int = Field(0, ge=0, description="Which of its recordings (0: the first).")


class ReplySpec(_Spec):
    """One answer. Text, tool calls, JSON and refusal are rendered by the codec of the API that asked."""

    text: str | None = Field(None, description="Answer text (may hold `{{placeholders}}`).")
    tool_calls: list[ToolCallSpec] | None = Field(None, description="Tool calls, after the text if there is one.")
    json_: Any = Field(
        None,
        alias="json",
        description="Structured output: this value as JSON text, or `generate` for a value generated from the "
        "request's output schema (or the schema its prompt carries).",
    )
    thinking: str | None = Field(None, description="Reasoning shown before the answer.")
    refusal: str | None = Field(None, description="The model declines, with this text, in the API's refusal form.")
    finish: Literal["stop", "length", "content_filter"] | None = Field(
        None, description="Why the answer ended, instead of the usual one (tool_calls after tool calls, else stop)."
    )
    usage: UsageSpec | None = Field(None, description="Token counts instead of the estimates.")
    outcome: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)] | None = Field(
        None,
        description="A fault or status (`429`, `timeout:2000`, `disconnect@5`, any spelling of GET "
        "/api/failure-modes); alone, it is applied to whatever answers next (a cassette, a synthetic reply).",
    )
    latency: LatencySpec | None = Field(None, description="Timing instead of the configured latency.")
    cassette: CassetteRef | None = Field(None, description="A recorded reply instead of a written one.")

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    @field_validator("text", "thinking", "refusal", "json_")
    @classmethod
    def _placeholders(cls, v: Any) -> Any:
        _check_templates(v)
        return v

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, v: str | None) -> str | None:
        if v is not None:
            outcomes.parse(v)  # its ValueError says what is allowed
        return v

    @model_validator(mode="after")
    def _coherent(self) -> ReplySpec:
        content = {
            k: v is not None
            for k, v in (
                ("text", self.text),
                ("tool_calls", self.tool_calls),
                ("json", self.json_),
                ("refusal", self.refusal),
                ("cassette", self.cassette),
            )
        }
        given = [k for k, v in content.items() if v]
        if not given and self.outcome is None:
            raise ValueError("a reply needs one of text, tool_calls, json, refusal, cassette or outcome")
        if self.tool_calls == []:
            raise ValueError("tool_calls: give at least one call, or leave it out")
        for alone in ("cassette", "refusal", "json"):
            others = [k for k in given if k != alone and not (alone == "json" and k == "tool_calls")]
            if alone in given and others:
                raise ValueError(f"{alone} cannot be given with {', '.join(others)}")
        if self.thinking is not None and (self.cassette is not None or not given):
            raise ValueError("thinking goes with text, tool_calls, json or refusal")
        return self

    @property
    def writes(self) -> bool:
        """Whether this step makes the answer itself (else it only sets an outcome or timing for another)."""
        return any(x is not None for x in (self.text, self.tool_calls, self.json_, self.refusal, self.cassette))


def _check_templates(value: Any) -> None:
    if isinstance(value, str):
        template.check(value)
    elif isinstance(value, dict):
        for v in value.values():
            _check_templates(v)
    elif isinstance(value, list):
        for v in value:
            _check_templates(v)


class RuleSpec(_Spec):
    """One rule: what it matches, and what it answers (one reply, or steps in turn)."""

    name: str | None = Field(None, min_length=1, description="Its name (listings, the journal); default rule-<n>.")
    match: MatchSpec = Field(default_factory=MatchSpec, description="What a request must be; left out: any.")
    reply: ReplySpec | None = Field(None, description="The answer, every time.")
    steps: list[ReplySpec] | None = Field(None, min_length=1, description="Answers in turn, one per match.")
    then: Literal["repeat-last", "cycle", "stop"] = Field(
        "repeat-last", description="After the last step: answer it again, start over, or stop matching."
    )
    times: int | None = Field(None, ge=1, description="Matches at most this many requests, then stops matching.")
    once: bool = Field(False, description="Short for times: 1.")

    @model_validator(mode="after")
    def _coherent(self) -> RuleSpec:
        if (self.reply is None) == (self.steps is None):
            raise ValueError("give either reply or steps")
        if self.once and self.times not in (None, 1):
            raise ValueError(f"once and times: {self.times} disagree")
        if self.reply is not None and "then" in self.model_fields_set:
            raise ValueError("then goes with steps, not reply")
        return self

    @property
    def answers(self) -> list[ReplySpec]:
        return self.steps if self.steps is not None else [self.reply] if self.reply is not None else []

    @property
    def limit(self) -> int | None:
        """The number of matches after which the rule stops matching, if any."""
        limits = [1 if self.once else self.times]
        if self.steps is not None and self.then == "stop":
            limits.append(len(self.steps))
        given = [n for n in limits if n is not None]
        return min(given) if given else None


class RulesDoc(_Spec):
    """A rules file, or the body of ``PUT``/``POST /api/rules``."""

    rules: list[RuleSpec] = Field(default_factory=list, description="The rules, first match first.")
    test_id: str | None = Field(
        None, min_length=1, description="Admin API only: the test the rules are for (else they are global)."
    )
