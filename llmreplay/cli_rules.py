"""``llmreplay rules check FILE``: validate a rules file, summarise it, and list rules that can never match.

Problems are one line each on stderr (``llmreplay: error: rules.yaml: rule 'x' (rules[0]): match.model: …``)
and exit code 2; rules shadowed by an earlier one are listed as warnings (exit code 1 with ``--strict``).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from llmreplay.rules import Rule


@click.group()
def rules() -> None:
    """Rules files: scripted replies (docs/rules.md)."""


@rules.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--cassettes",
    "cassette_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder that cassette: answers read from. [env LLMREPLAY_CASSETTES]",
)
@click.option("--strict", is_flag=True, help="Exit 1 when a rule can never match.")
def check(file: str, cassette_dir: str | None, strict: bool) -> None:
    """Validate FILE (YAML, TOML or JSON): every problem on a line, and rules that can never match."""
    from llmreplay.rules import RulesError, load_rules, shadowed

    folder = cassette_dir or os.environ.get("LLMREPLAY_CASSETTES") or None
    try:
        loaded = load_rules(file, cassettes_dir=folder)
    except RulesError as exc:
        for line in exc.lines:
            click.echo(f"llmreplay: error: {line}", err=True)
        sys.exit(2)
    unreachable = shadowed(loaded)
    for rule, cover in unreachable:
        click.echo(
            f"llmreplay: warning: {file}: {_label(loaded, rule)} can never match: {_label(loaded, cover)} comes "
            "first, never stops matching, and matches everything it does",
            err=True,
        )
    click.echo(f"{file}: OK, {summary(loaded)}")
    if strict and unreachable:
        sys.exit(1)


def summary(loaded: list[Rule]) -> str:
    """``3 rules: 1 with steps, 1 limited (times/once); answers: text 2, tool_calls 1``."""
    if not loaded:
        return "no rules"
    kinds: Counter[str] = Counter()
    for rule in loaded:
        for step in rule.spec.answers:
            given = step.model_dump(by_alias=True, exclude_none=True)
            kinds.update(k for k in given if k in ("text", "tool_calls", "json", "refusal", "cassette", "outcome"))
    stepped = sum(1 for r in loaded if r.spec.steps is not None)
    limited = sum(1 for r in loaded if r.limit is not None)
    answers = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    noun = "rule" if len(loaded) == 1 else "rules"
    return f"{len(loaded)} {noun} ({stepped} with steps, {limited} that stop matching); answers: {answers}"


def _label(loaded: list[Rule], rule: Rule) -> str:
    i = next(i for i, r in enumerate(loaded) if r is rule)
    return f"rule {rule.name!r} (rules[{i}])"
