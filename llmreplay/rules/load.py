"""Reading rules: a file (YAML, TOML or JSON) or a parsed document, validated whole and compiled once.

Every problem is reported, one line each, naming the rule (its name and position) and the field::

    rules.yaml: rule 'weather-call' (rules[0]): match.model: ...

:class:`RulesError` carries them both as lines (the CLI, start-up) and as field errors (the admin API's 422).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from llmreplay.errors import ConfigError
from llmreplay.model import Reply
from llmreplay.rules.answer import Step
from llmreplay.rules.book import Rule
from llmreplay.rules.spec import RulesDoc, RuleSpec

SUFFIXES = (".yaml", ".yml", ".toml", ".json")
_UNION_TAG = re.compile(r"^(?:bool|int|str|float|none|list\[.*\]|dict\[.*\]|function-[\w-]+\[.*\]|[A-Z]\w*)$")
"""The names pydantic gives the members of a union in an error's location: not fields, so left out."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rules document."""

    loc: tuple[str | int, ...]
    """Where, from the document's top (``("rules", 0, "match", "model")``)."""
    msg: str
    type: str
    rule: str | None = None
    """The rule it is in, as a line names it: ``rule 'weather-call' (rules[0])`` or ``rules[3]``."""

    def line(self, origin: str) -> str:
        inner = self.loc[2:] if self.rule is not None else self.loc
        where = ".".join(str(x) for x in inner)
        parts = [origin, self.rule, where]
        return ": ".join(p for p in parts if p) + f": {self.msg}"

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


class RulesError(ConfigError):
    """A rules document with problems; ``str()`` is one line per problem."""

    def __init__(self, origin: str, problems: list[Problem]) -> None:
        self.origin, self.problems = origin, problems
        super().__init__("\n".join(p.line(origin) for p in problems))

    @property
    def lines(self) -> list[str]:
        return [p.line(self.origin) for p in self.problems]


def load_rules(path: str | Path, cassettes_dir: str | None = None) -> list[Rule]:
    """The rules of a file; raises :class:`RulesError` (a ConfigError) naming every problem."""
    path = Path(path)
    origin = str(path)
    if path.suffix.lower() not in SUFFIXES:
        raise RulesError(origin, [Problem((), f"expected a {', '.join(SUFFIXES)} file", "file_type")])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(origin, [Problem((), "no such file", "file_missing")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(origin, [Problem((), f"cannot be read: {exc}", "file_unreadable")]) from None
    return parse_rules(read_text(text, path.suffix.lower(), origin), origin, cassettes_dir)


def read_text(text: str, suffix: str, origin: str) -> Any:
    """A document from its text, by its format; raises :class:`RulesError` when it does not parse."""
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, ValueError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise RulesError(origin, [Problem((), f"not valid {suffix.lstrip('.').upper()}: {detail}", "syntax")]) from None


def parse_rules(data: Any, origin: str = "rules", cassettes_dir: str | None = None) -> list[Rule]:
    """The rules of a parsed document (``{rules: [...]}``, or the list alone); raises :class:`RulesError`
    naming every problem of every rule (each rule is validated on its own, so one bad rule hides no other's)."""
    if data is None:
        data = {"rules": []}
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, Mapping):
        raise RulesError(origin, [Problem((), "expected a mapping with a rules list, or a list of rules", "type")])
    raw = data.get("rules", [])
    problems: list[Problem] = []
    try:
        RulesDoc.model_validate({**data, "rules": []})
    except pydantic.ValidationError as exc:
        problems += _problems(exc, data)
    if not isinstance(raw, list):
        raise RulesError(origin, [*problems, Problem(("rules",), "expected a list of rules", "list_type")])
    specs: list[RuleSpec] = []
    positions: list[int] = []
    problems += _duplicates(raw, data)
    for i, item in enumerate(raw):
        try:
            specs.append(RuleSpec.model_validate(item))
            positions.append(i)
        except pydantic.ValidationError as exc:
            problems += _problems(exc, data, ("rules", i))
    try:
        rules = compile_rules(specs, origin, cassettes_dir, positions)
    except RulesError as exc:
        problems += exc.problems
        rules = []
    if problems:
        problems.sort(key=lambda p: [(0, x) if isinstance(x, int) else (1, str(x)) for x in p.loc[:2]])
        raise RulesError(origin, problems)
    return rules


def compile_rules(
    specs: list[RuleSpec], origin: str, cassettes_dir: str | None = None, positions: list[int] | None = None
) -> list[Rule]:
    """Validated specs → rules: names given or filled in, no name twice, recorded answers read now.
    ``positions``: each spec's place in its document, where some rules of it did not validate."""
    problems: list[Problem] = []
    rules: list[Rule] = []
    recordings = _Recordings(cassettes_dir)
    for k, spec in enumerate(specs):
        i = positions[k] if positions is not None else k
        name = spec.name or f"rule-{i}"
        label = _label(spec.name, i)
        steps = []
        for j, step in enumerate(spec.answers):
            where: tuple[str | int, ...] = ("rules", i, "steps", j) if spec.steps is not None else ("rules", i, "reply")
            recorded = None
            if step.cassette is not None:
                recorded, why = recordings.reply(step.cassette.name, step.cassette.index)
                if why is not None:
                    problems.append(Problem((*where, "cassette"), why, "cassette", label))
            problems += [Problem((*where, *loc), msg, "value_error", label) for loc, msg in _tool_problems(spec, j)]
            steps.append(Step(name, step, recorded))
        rules.append(Rule(name, spec, steps))
    if problems:
        raise RulesError(origin, problems)
    return rules


def _duplicates(raw: list[Any], data: Mapping[str, Any]) -> list[Problem]:
    """A name given twice: listings, the journal and ``x-llmreplay-source`` name rules, so each is one rule's."""
    seen: dict[str, int] = {}
    out = []
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            loc: tuple[str | int, ...] = ("rules", i, "name")
            out.append(Problem(loc, f"the name is taken by rules[{seen[name]}]", "duplicate", _rule_of(loc, data)))
        seen.setdefault(name, i)
    return out


def _tool_problems(spec: RuleSpec, j: int) -> list[tuple[tuple[str | int, ...], str]]:
    """Calls with generated arguments of tools the rule does not require offered: knowable at load time only
    where the rule names the tools it requires, so that is what is asked."""
    offered = spec.match.tools
    if offered is None:
        return []
    step = spec.answers[j]
    return [
        (
            ("tool_calls", k, "arguments"),
            f"no arguments for {c.name!r}, which match.tools does not list: list it there (so the rule answers "
            "only requests that offer it, whose schema the arguments are generated from) or give arguments",
        )
        for k, c in enumerate(step.tool_calls or ())
        if c.arguments is None and c.name not in offered
    ]


class _Recordings:
    """Replies of cassettes named by ``cassette:`` answers, each file read once per load."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder
        self._loaded: dict[str, Any] = {}

    def reply(self, name: str, index: int) -> tuple[Reply | None, str | None]:
        from llmreplay.cassettes import store
        from llmreplay.cassettes.summary import reply_of

        if self.folder is None:
            return None, "no cassettes folder to read it from (give --cassettes)"
        if name not in self._loaded:
            try:
                self._loaded[name] = store.load(store.cassette_path(self.folder, name)).interactions
            except FileNotFoundError:
                self._loaded[name] = f"no cassette {name!r} in {self.folder}"
            except (OSError, ValueError) as exc:
                self._loaded[name] = f"cassette {name!r} cannot be read: {exc}"
        found = self._loaded[name]
        if isinstance(found, str):
            return None, found
        if index >= len(found):
            return None, f"cassette {name!r} has {len(found)} recordings; index {index} is past its end"
        reply = reply_of(found[index])
        if reply is None:
            return None, f"recording {index} of {name!r} is not a successful generation with a reply to replay"
        return reply, None


def _label(name: str | None, i: int) -> str:
    return f"rule {name!r} (rules[{i}])" if name else f"rules[{i}]"


def _problems(
    exc: pydantic.ValidationError, data: Mapping[str, Any], prefix: tuple[str | int, ...] = ()
) -> list[Problem]:
    """One problem per place: the errors of a union's members at one place are one problem, told by the
    member that fits the value's kind (an object's own errors, rather than "not a boolean"), or, when the value
    fits none, as what is expected there."""
    by_place: dict[tuple[str | int, ...], list[dict[str, Any]]] = {}
    for err in exc.errors(include_url=False, include_context=False):
        loc = prefix + tuple(x for x in err["loc"] if not (isinstance(x, str) and _UNION_TAG.match(x)))
        by_place.setdefault(loc, []).append(err)
    problems = []
    for loc, errs in by_place.items():
        specific = [e for e in errs if not _is_type_error(e)]
        if specific:
            msg = "; ".join(dict.fromkeys(_msg(e) for e in specific))
        else:
            msg = "expected " + " or ".join(dict.fromkeys(_expected(e) for e in errs))
        problems.append(Problem(loc, msg, (specific or errs)[0]["type"], _rule_of(loc, data)))
    return problems


def _is_type_error(err: Mapping[str, Any]) -> bool:
    return str(err["type"]).endswith(("_type", "_parsing"))


_EXPECTED = (
    ("instance of TextMatch", "a string or a test {contains | equals | glob | regex | json}"),
    ("instance of ToolResultMatch", "a test {name, contains | equals | glob | regex | json}"),
    ("instance of Range", "{min, max}"),
    ("valid integer", "a whole number"),
    ("valid boolean", "true or false"),
    ("valid string", "a string"),
    ("valid list", "a list"),
    ("valid dictionary", "a mapping"),
)


def _expected(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    return next((what for key, what in _EXPECTED if key in msg), msg)


def _msg(err: Mapping[str, Any]) -> str:
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _rule_of(loc: tuple[str | int, ...], data: Mapping[str, Any]) -> str | None:
    if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
        return None
    rules = data.get("rules")
    raw = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return _label(name if isinstance(name, str) else None, loc[1])
