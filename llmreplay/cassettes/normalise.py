"""What changes from run to run without changing the answer, replaced by stable placeholders for matching.

Ids that a provider or an SDK generated (``call_…``, ``toolu_…``, ``msg_…``, ``resp_…``, UUIDs) and
timestamps (ISO 8601 with a time, epoch seconds) are carried back in a conversation's history and differ on
every run. Only the match key sees the placeholders: cassettes keep what was sent. Each distinct id gets its
own numbered placeholder in order of first appearance (``call_<1>``), so a tool result still has to answer
the call it answered when recorded; times all read ``<time>`` and epoch seconds ``1000000000`` (a number
still, so the text stays JSON wherever the number was).

The passes run over canonical JSON text and each is tried only where its mark is (an id's prefix, a ``-``,
enough digits), so a body with nothing to replace costs a few substring tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from llmreplay.cassettes.scrub_views import matches
from llmreplay.cassettes.textmarks import Marks, anchored, substitute

ID_PREFIXES: tuple[str, ...] = ("call_", "toolu_", "srvtoolu_", "msg_", "resp_", "fc_", "rs_", "chatcmpl-")
"""Starts of the ids OpenAI and Anthropic generate (tool calls, messages, responses, reasoning items)."""
_ID = re.compile(
    r"(?<![A-Za-z0-9_-])(srvtoolu_|toolu_|call_|msg_|resp_|fc_|rs_|chatcmpl-)[A-Za-z0-9]{8,}(?![A-Za-z0-9_-])"
)
_DIGIT = re.compile(r"\d")
_ID_FIELD = re.compile(r'"(?:id|tool_call_id|call_id|tool_use_id)" ?: ?"\Z')
"""Where a value is an id whatever its letters: one in 68 of OpenAI's 24-letter call ids has no digit."""
_UUID = re.compile(
    r"(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f-])"
)
_ISO = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\d:])")
_EPOCH = re.compile(r"(?<![\w.])1\d{9}(?:\.\d+)?(?![\w.])")
"""Epoch seconds from 2001 to 2033."""
TIME = "<time>"
EPOCH = "1000000000"


def builtin(text: str, seen: dict[str, str], marks: Marks | None = None) -> str:
    """``text`` with generated ids and timestamps replaced; ``seen`` numbers the ids across the texts of one
    key; ``marks``: the text's, when the caller has them already."""
    marks = marks or Marks(text)

    def numbered(prefix: str | None) -> Callable[[str], str]:
        def how(found: str) -> str:
            got = seen.get(found)
            if got is None:
                head = prefix if prefix is not None else found[: max(found.find("_"), found.find("-")) + 1]
                got = seen[found] = f"{head}<{len(seen) + 1}>"
            return got

        return how

    spans: list[tuple[int, int, Callable[[str], str]]] = []
    # Every prefix but one ends in "_", which most plain chat bodies do not hold at all.
    if ("_" in text or "chatcmpl-" in text) and any(p in text for p in ID_PREFIXES):
        by_prefix = numbered(None)
        found = matches(text, _ID, ID_PREFIXES)
        # An id is one wherever the body quotes it (a tool result naming its call), once an id field holds it.
        held = {text[a:b] for a, b in found if _in_id_field(text, a)}
        spans += [(a, b, by_prefix) for a, b in found if _is_id(text, a, b, held, seen)]
    if "-" in text:
        if marks.has_hex(_UUID_SKELETON):
            uuid = numbered("uuid:")
            spans += [(a, b, uuid) for a, b in anchored(text, _UUID, marks.hex(_UUID_SKELETON))]
        if marks.has_digits(_DATE):
            spans += [(a, b, _time) for a, b in anchored(text, _ISO, marks.digits(_DATE))]
    if marks.has_digits(_TEN):
        spans += [(a, b, _epoch) for a, b in anchored(text, _EPOCH, marks.digits(_TEN))]
    if not spans:
        return text
    # Numbered in order of appearance: the same text numbers the same way wherever it is keyed.
    return substitute(text, spans)


_UUID_SKELETON = b"hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh"
_DATE = b"0000-00-00"
_TEN = b"0" * 10


def _in_id_field(text: str, start: int) -> bool:
    return _ID_FIELD.search(text[max(0, start - 20) : start]) is not None


def _is_id(text: str, start: int, end: int, held: set[str], seen: dict[str, str]) -> bool:
    """An id has a digit in its random part, so that a function named ``call_weather`` is not one, unless an
    id field (``tool_call_id``) of the body holds it: a generated id with no digit is still an id there and
    wherever the body quotes it. ``seen``: ids already found in the key's other texts."""
    return _DIGIT.search(text, start, end) is not None or text[start:end] in held or text[start:end] in seen


def _time(_: str) -> str:
    return TIME


def _epoch(_: str) -> str:
    return EPOCH


@dataclass(frozen=True)
class Rule:
    """A user's normaliser: at the dotted ``path`` (``*`` any key or index; ``$`` the whole body), ``regex``
    matches are replaced by ``placeholder``."""

    path: str
    regex: re.Pattern[str]
    placeholder: str

    @classmethod
    def parse(cls, spec: str) -> Rule:
        """``PATH REGEX -> PLACEHOLDER``, e.g. ``messages.*.content \\d{4}-\\d\\d-\\d\\d -> <date>``."""
        head, sep, placeholder = spec.rpartition(" -> ")
        path, _, pattern = head.strip().partition(" ")
        if not sep or not path or not pattern.strip():
            raise ValueError(f"normaliser {spec!r}: expected 'PATH REGEX -> PLACEHOLDER'")
        try:
            regex = re.compile(pattern.strip())
        except re.error as exc:
            raise ValueError(f"normaliser {spec!r}: not a valid regex: {exc}") from None
        return cls(path, regex, placeholder.strip())

    def apply(self, doc: Any) -> Any:
        """``doc`` (a parsed body) with the rule applied in place at its path; returns the new root."""
        if self.path == "$":
            return doc
        return _at(doc, self.path.split("."), self)

    def text(self, value: str) -> str:
        return self.regex.sub(self.placeholder, value)


def _at(node: Any, parts: list[str], rule: Rule) -> Any:
    if not parts:
        return rule.text(node) if isinstance(node, str) else node
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        for k in list(node) if head == "*" else [head] if head in node else []:
            node[k] = _at(node[k], rest, rule)
    elif isinstance(node, list):
        idx = range(len(node)) if head == "*" else [int(head)] if head.isdigit() and int(head) < len(node) else []
        for i in idx:
            node[i] = _at(node[i], rest, rule)
    return node


def parse_rules(specs: Iterable[str]) -> tuple[Rule, ...]:
    return tuple(Rule.parse(s) for s in specs)
