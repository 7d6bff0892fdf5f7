"""Rules that can never match: an earlier rule that never stops matching answers everything they match.

The check is conservative: it reports a rule only when an earlier one, with no ``times``/``once`` and no
``steps`` that stop, asks for a subset of its matchers with the same values (or none at all). Two matchers
that differ but overlap (``gpt-*`` and ``gpt-4o``) are never reported, so every rule reported is truly
unreachable, though not every unreachable rule is reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmreplay.rules.book import Rule


def _constraints(rule: Rule) -> dict[str, object]:
    """The rule's matchers, each as a comparable value."""
    return rule.spec.match.model_dump(mode="json", by_alias=True, exclude_none=True)


def shadowed(rules: Sequence[Rule]) -> list[tuple[Rule, Rule]]:
    """(rule that can never match, the earlier rule that answers first), in file order."""
    out: list[tuple[Rule, Rule]] = []
    endless: list[tuple[Rule, dict[str, object]]] = []
    for rule in rules:
        mine = _constraints(rule)
        cover = next((early for early, theirs in endless if _covers(theirs, mine)), None)
        if cover is not None:
            out.append((rule, cover))
        if rule.limit is None:
            endless.append((rule, mine))
    return out


def _covers(theirs: dict[str, object], mine: dict[str, object]) -> bool:
    """Whether every matcher of the earlier rule is also one of this rule's, with the same value."""
    for key, value in theirs.items():
        if key not in mine:
            return False
        if isinstance(value, dict) and isinstance(mine[key], dict) and key in ("headers", "body"):
            # Each header or body path is a matcher of its own.
            if not _covers(value, mine[key]):  # type: ignore[arg-type]
                return False
        elif mine[key] != value:
            return False
    return True
