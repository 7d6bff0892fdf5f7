"""Deterministic token estimates.

Not a real tokenizer: a stable rule (words, numbers and punctuation marks; long
words count one token per four characters) so that the same text always gives
the same count, a streamed reply reports what the same reply does unstreamed,
and count_tokens agrees with a generation's prompt usage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from llmreplay.model import Candidate, Part, Request, Text, Thinking, ToolCall

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_PIECE = re.compile(r"\w{1,8}|[^\w\s]", re.UNICODE)
"""One match per token: a word of n characters is ceil(n / 8) matches, as :func:`_word_tokens` counts."""
_PER_MESSAGE = 4
_PER_TOOL = 8
_PRIMING = 3
_WORD = 8
"""Characters of a word per token: short words are one token, long ones a few."""


def _word_tokens(word: str) -> int:
    return max(1, (len(word) + _WORD - 1) // _WORD)


_SLICE = 1 << 16
"""Characters counted in one call into the regex engine (a multiple of :data:`_WORD`): a 30 MB prompt in one
call held the process ~1 s, with no other thread able to run, a worker thread's loop included."""
_CUT = re.compile(r"\W\w*\Z", re.UNICODE)
"""The last character of a slice that is not part of a word, where the count may cut it."""


def _cut(text: str, start: int, end: int) -> int:
    """Where to end the slice ``text[start:end]``: after its last character that is no part of a word."""
    for i in range(end - 1, max(start, end - 256) - 1, -1):
        c = text[i]
        if not (c.isalnum() or c == "_"):  # what \w is
            return i + 1
    cut = _CUT.search(text, start, end)  # a long word at the end: the last break before it, if any
    return cut.start() + 1 if cut is not None else end


def count(text: str) -> int:
    """Tokens in ``text`` (one regex pass in C: this runs for every prompt and reply; a long text in slices)."""
    if len(text) <= _SLICE:
        return len(_PIECE.findall(text))
    total = start = 0
    while start < len(text):
        end = min(start + _SLICE, len(text))
        if end < len(text):
            # Cut after a character that is no part of a word, so no token spans the cut; a slice that is all one
            # word is cut at a multiple of _WORD from where it started, which is where that word's tokens end.
            end = _cut(text, start, end)
        total += len(_PIECE.findall(text, start, end))
        start = end
    return total


def pieces(text: str) -> Iterable[str]:
    """The text cut into spans of one token each (whitespace rides with the next token)."""
    last = 0
    for m in _TOKEN.finditer(text):
        word = m.group()
        start = last
        for i in range(0, len(word), _WORD):
            end = m.start() + min(i + _WORD, len(word))
            yield text[start:end]
            start = end
        last = m.end()
    if last < len(text):
        yield text[last:]


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that is at most ``limit`` tokens."""
    if limit <= 0:
        return ""
    out: list[str] = []
    for i, piece in enumerate(pieces(text)):
        if i >= limit:
            break
        out.append(piece)
    return "".join(out)


def prompt_tokens(req: Request) -> int:
    """Input tokens of a request: system prompt, every message, and the tool declarations."""
    total = _PRIMING
    if req.system:
        total += _PER_MESSAGE + count(req.system)
    for m in req.messages:
        total += _PER_MESSAGE + count(m.text)
    for t in req.tools:
        total += _PER_TOOL + count(t.name) + count(t.description)
        total += count(json.dumps(t.schema, sort_keys=True))
    if req.output.schema is not None:
        total += count(json.dumps(req.output.schema, sort_keys=True))
    return total


def candidate_tokens(c: Candidate) -> tuple[int, int]:
    """(output tokens, of which reasoning) of one candidate's parts."""
    return parts_tokens(c.parts)


def parts_tokens(parts: Iterable[Part]) -> tuple[int, int]:
    """(output tokens, of which reasoning) of a candidate's ``parts``."""
    out = reasoning = 0
    for p in parts:
        if isinstance(p, Text):
            out += count(p.text)
        elif isinstance(p, ToolCall):
            out += _PRIMING + count(p.name) + count(p.arguments)
        elif isinstance(p, Thinking):
            n = count(p.text)
            out += n
            reasoning += n
    return out, reasoning
