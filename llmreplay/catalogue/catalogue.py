"""The model catalogue: which family a model id belongs to, and what that family declares.

The shipped data (``models.toml``, beside this module) is read once per process; a settings file's
``[models.families]`` override its families field by field (same pattern) or add new ones. A lookup runs for
every request, so its answer is kept per model string: a repeat is one dict lookup (~60 ns); a new string
tries each family's pattern once (~40 compiled regexes, a few µs), and the kept answers are bounded.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from llmreplay.bounded import keep
from llmreplay.catalogue.spec import FamilySpec, Provider, Reasoning

DATA = "models.toml"
_KEPT = 4096
"""Model strings whose answer is kept; past this the kept answers are dropped and found again (clients choose
model strings, so they may be endless)."""
LONGEST = 256
"""Characters of the longest model id a family may match; a longer one (no provider names a model so) is unknown
at once, and neither matched against every pattern nor kept."""


@dataclass(frozen=True, slots=True)
class Family:
    """One family of models, as the catalogue (shipped data and settings together) declares it."""

    pattern: str
    """The glob pattern(s) it was declared under (``gpt-4o*``; several joined by ``|``)."""
    provider: Provider | None = None
    name: str = ""
    context_window: int | None = None
    """Input tokens a prompt may have; None: not enforced."""
    max_output_tokens: int | None = None
    """The most output tokens a request may ask for; None: not enforced."""
    reasoning: Reasoning = "none"
    embedding: bool = False
    input: float | None = None
    """USD per million input tokens; None: no price known."""
    cached_input: float | None = None
    cache_write: float | None = None
    cache_write_1h: float | None = None
    output: float | None = None
    reasoning_output: float | None = None
    """USD per million reasoning tokens where priced apart from output; None: billed as output."""
    long_context_above: int | None = None
    long_input: float | None = None
    long_cached_input: float | None = None
    long_output: float | None = None
    prices_taken: str | None = None
    source: str | None = None

    @property
    def known(self) -> bool:
        """Whether a catalogue family matched (else :data:`UNKNOWN`'s documented defaults apply)."""
        return self is not UNKNOWN

    @property
    def reasons(self) -> bool:
        """Whether the family may reason at all."""
        return self.reasoning != "none"


UNKNOWN = Family("", name="unknown model")
"""What a model id no family matches gets: no context window or output maximum enforced, no reasoning
tokens of its own, no price."""

_FIELDS = tuple(FamilySpec.model_fields)


def _merge(base: Mapping[str, FamilySpec], over: Mapping[str, FamilySpec]) -> dict[str, dict[str, Any]]:
    out = {p: s.model_dump(exclude_none=True) for p, s in base.items()}
    for pattern, spec in over.items():
        out.setdefault(pattern, {}).update(spec.model_dump(exclude_none=True))
    return out


def _specificity(pattern: str) -> int:
    """How much of a model id the pattern fixes: its longest alternative's characters that are not wildcards."""
    return max(len(re.sub(r"[*?]|\[[^]]*\]", "", alt)) for alt in pattern.split("|"))


class Catalogue:
    """Families by pattern, and the family of any model id."""

    def __init__(self, families: Mapping[str, Mapping[str, Any]]) -> None:
        fams = [Family(pattern, **{k: v for k, v in f.items() if k in _FIELDS}) for pattern, f in families.items()]
        # The most specific pattern first: "gpt-4o-mini*" must be tried before "gpt-4o*".
        fams.sort(key=lambda f: -_specificity(f.pattern))
        self.families: tuple[Family, ...] = tuple(fams)
        self._compiled = tuple(
            (re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in f.pattern.split("|"))), f) for f in fams
        )
        self._kept: dict[str, Family] = {}

    @classmethod
    def of(cls, overrides: Mapping[str, FamilySpec] | None = None) -> Catalogue:
        """The shipped catalogue with a settings file's families over it."""
        return cls(_merge(shipped_specs(), overrides or {}))

    def lookup(self, model: str) -> Family:
        """The family of ``model`` (a Gemini ``models/`` prefix is ignored), or :data:`UNKNOWN`."""
        kept = self._kept.get(model)
        if kept is not None:
            return kept
        if len(model) > LONGEST:
            return UNKNOWN
        name = model.removeprefix("models/")
        found = next((f for rx, f in self._compiled if rx.match(name)), UNKNOWN)
        return keep(self._kept, model, found, _KEPT)

    def of_provider(self, provider: str) -> Iterable[Family]:
        return (f for f in self.families if f.provider == provider)


@functools.cache
def shipped_specs() -> dict[str, FamilySpec]:
    """The shipped data file's families, read and checked once per process."""
    raw = tomllib.loads(resources.files(__package__).joinpath(DATA).read_text(encoding="utf-8"))
    return {pattern: FamilySpec.model_validate(spec) for pattern, spec in raw["families"].items()}


@functools.cache
def shipped() -> Catalogue:
    """The shipped catalogue alone (what the model lists show: they take no settings)."""
    return Catalogue.of()
