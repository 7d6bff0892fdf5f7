"""Unseeded synthetic answers drawn anew into the bytes of the first of their second, cut once where the draws go.

An unseeded answer is a new draw every time: its text and its ids (the synthetic source's promise). For the
common reply (one text of the pool, ended whole, and nothing else drawn:
:meth:`~llmreplay.sources.synthetic.SyntheticSource.draws_alike`), what the draws change in the answer's bytes is
known: the request id (a header), the reply's id, the text, the output and total tokens, and so the body's
length. The rest is the same for every answer to the same request within one second (``created`` and ``Date``
are the second's). So the express lane keeps the bytes of such an answer cut around those values
(:class:`Drawn`), and answers the same request again within that second by making the draws the road would
make, in its order (:func:`llmreplay.road.first_draws`, then
:meth:`~llmreplay.sources.synthetic.SyntheticSource.draw_again`), and filling them in, with a journal entry of
its own. Parsing, the road, the reply's making and its rendering are skipped; the bytes are what they would
have made of the same draws.

Where the cut goes is found by rendering the reply again with a mark in place of each drawn value. A codec that
writes the request id in a form of its own says how (:meth:`~llmreplay.codec.Codec.request_id_form`: Anthropic's
``request-id`` is the request id in base 58), and that form is marked and written too. Before the cut is kept it
is filled with the first answer's own values, and must give back that answer byte for byte and its reply field
for field. Where a codec draws anything else, it does not, nothing is kept, and that request is made afresh
every time.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from llmreplay.codec import RenderOptions
from llmreplay.heads import head_of, whole
from llmreplay.labels import REQUEST_ID
from llmreplay.model import Candidate, Finish, Reply, Text, Usage

if TYPE_CHECKING:
    from llmreplay.codec import Codec
    from llmreplay.configmodels import EndpointConfig
    from llmreplay.journal.entry import Entry
    from llmreplay.model import Answer, Request
    from llmreplay.observers import Done
    from llmreplay.sources.synthetic import SyntheticSource

RID, ID, TEXT, OUT, TOTAL, JOURNAL, LENGTH, FORM = range(8)
"""The slots of a cut: the request id, the reply's id, its text, its output and total tokens, the journal id, the
body's length and the request id in the codec's own form."""

_RID = "9e3779b97f4a7c15f39cc0605cedc834"
_ID = "c6a4a7935bd1e995a5b5c3d2"
_TEXT = 'The "mark" of 21°C'
"""A quote and a character past ASCII: how the codec writes them tells its JSON encoder (see :func:`_encoder`)."""
_OUT = 730_000_019
_JOURNAL = b"\0journal\0"
_LENGTH = b"\0length\0"

Encoder = Callable[[str], bytes]


def _utf8(text: str) -> bytes:
    return orjson.dumps(text)[1:-1]


def _ascii(text: str) -> bytes:
    return json.dumps(text).encode()[1:-1]


Pick = Callable[[Sequence[bytes]], tuple[bytes, ...]]
"""The values of a cut's slots, in their order, out of all the values by slot."""


def _picker(slots: Sequence[int]) -> Pick:
    if len(slots) == 1:
        slot = slots[0]
        return lambda values: (values[slot],)
    return operator.itemgetter(*slots) if slots else lambda values: ()


_TEXT_OF = "_text"


class _Redrawn(Reply):
    """A drawn answer's reply, its one candidate made when first read. Only the journal's view of an entry reads
    it, and most entries leave the journal unread: making every candidate (two frozen objects) took a tenth of
    the drawn answer's time."""

    def __getattr__(self, name: str) -> Any:
        if name != "candidates":
            raise AttributeError(name)
        text: str = self.__dict__[_TEXT_OF]
        made = self.__dict__[name] = (Candidate((Text(text),), Finish.STOP, None, self.usage.output_tokens),)
        return made


@dataclass(slots=True)
class Drawn:
    """An unseeded answer's bytes cut where its draws go, and what its observers need."""

    whole: bytes
    """The status line, the headers and the body, with a ``%b`` for each of their slots, which ``whole_pick``
    picks out of the values by slot."""
    whole_pick: Pick
    headless: bytes
    """``whole`` without the journal id's header line, for an answer whose entry the journal failed to take."""
    headless_pick: Pick
    body_slots: tuple[int, ...]
    body_size: int
    """The body's bytes besides its slots' values."""
    encode: Encoder
    """The codec's writing of a text in a JSON string."""
    reply: Reply
    """The first answer's reply, whose model, second, usage and fingerprint every other shares."""
    done: Done
    first: Entry | None
    """The first answer's journal entry, whose fields the next entries copy (None: the journal is off)."""
    config: EndpointConfig
    settings: object
    """The synthetic source's settings when it was made."""
    form: Callable[[str], str | None] | None
    """The codec's form of the request id, where the cut holds one (:meth:`~llmreplay.codec.Codec.request_id_form`)."""
    shared: dict[str, Any] = dataclasses.field(init=False)
    """The fields of the first answer's reply that every other's shares: model, second and fingerprint."""
    counts: dict[int, tuple[Usage, bytes, bytes, int]] = dataclasses.field(default_factory=dict)
    """By output tokens (a few dozen recur): the usage, the output and total tokens as written, and the body's
    length but for its text."""

    def __post_init__(self) -> None:
        reply = self.reply
        self.shared = {"model": reply.model, "created": reply.created, "fingerprint": reply.fingerprint}

    @property
    def size(self) -> int:
        return len(self.whole) + len(self.headless)

    def fill(
        self, rid: str, text: str, counted: int, reply_id: str, entry: Entry | None, form: str | None = None
    ) -> tuple[bytes, Reply]:
        """The answer for these draws (``counted``: the text's tokens) and its reply, with ``entry``'s id.
        ``form``: the request id in the codec's form, when it is known already (the cut's self-check reads it)."""
        counts = self.counts.get(counted)
        if counts is None:
            counts = self.counts[counted] = self._counts(counted)
        encoded = self.encode(text)
        if form is None and self.form is not None:
            form = self.form(rid)
        formed = b"" if form is None else form.encode()
        values = (rid.encode(), reply_id.encode(), encoded, counts[1], counts[2])
        length = b"%d" % (counts[3] + self.body_slots.count(TEXT) * len(encoded))
        if entry is not None:
            data = self.whole % self.whole_pick((*values, entry.id.encode(), length, formed))
        elif self.first is not None:
            data = self.headless % self.headless_pick((*values, b"", length, formed))
        else:
            data = self.whole % self.whole_pick((*values, b"", length, formed))
        reply = object.__new__(_Redrawn)
        object.__setattr__(reply, "__dict__", {**self.shared, "id": reply_id, "usage": counts[0], _TEXT_OF: text})
        return data, reply

    def _counts(self, counted: int) -> tuple[Usage, bytes, bytes, int]:
        usage = Usage(self.reply.usage.input_tokens, counted)
        out, total = b"%d" % counted, b"%d" % usage.total_tokens
        sizes = {RID: len(_RID), ID: len(_ID), TEXT: 0, OUT: len(out), TOTAL: len(total)}
        return usage, out, total, self.body_size + sum(sizes[slot] for slot in self.body_slots)


def cut(
    source: SyntheticSource,
    codec: Codec,
    request: Request,
    answer: Answer,
    later: Done,
    written: bytes,
    config: EndpointConfig,
) -> Drawn | None:
    """``written`` (the answer's head and body) cut where the draws go, or None where other answers to ``request``
    would differ in more than those (see the module's docstring)."""
    reply = later.reply
    if reply is None or not source.draws_alike(request, reply):
        return None
    usage = reply.usage
    if usage != Usage(usage.input_tokens, usage.output_tokens):
        return None
    marked = codec.render(
        dataclasses.replace(
            reply,
            id=_ID,
            candidates=(Candidate((Text(_TEXT),), Finish.STOP, None, _OUT),),
            usage=Usage(usage.input_tokens, _OUT),
        ),
        request,
        RenderOptions(request_id=_RID),
    )
    head = head_of(marked, later) if whole(marked) else None
    encode = _encoder(marked.body)
    if head is None or encode is None:
        return None
    head = _marked(head, b"\r\nContent-Length: %d\r\n" % len(marked.body), _LENGTH)
    id_line = b"\r\n%s: " % REQUEST_ID.encode()
    entry = later.entry
    if entry is not None:
        head = _marked(head, id_line + entry.id.encode() + b"\r\n", _JOURNAL)
    if head is None:
        return None
    marks = {
        _RID.encode(): RID,
        _ID.encode(): ID,
        encode(_TEXT): TEXT,
        b"%d" % _OUT: OUT,
        b"%d" % (usage.input_tokens + _OUT): TOTAL,
        _JOURNAL: JOURNAL,
        _LENGTH: LENGTH,
    }
    form = codec.request_id_form(_RID)
    if form is not None:
        marks[form.encode()] = FORM
    finder = re.compile(b"|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True)))
    bodies = _split(finder, marks, marked.body)
    if FORM in bodies[1]:
        return None  # the body's length is counted from fixed widths, and a form's need not be one
    pieces, slots = _joined(_split(finder, marks, head), bodies)
    drawn = Drawn(
        *_format(pieces, slots),
        *_format(*_joined(_split(finder, marks, head.replace(id_line + _JOURNAL, b"")), bodies)),
        tuple(bodies[1]),
        sum(map(len, bodies[0])),
        encode,
        reply,
        later,
        entry,
        config,
        source.settings,
        codec.request_id_form if FORM in slots else None,
    )
    return drawn if _gives_back(drawn, pieces, slots, written) else None


def _marked(head: bytes | None, line: bytes, mark: bytes) -> bytes | None:
    """``head`` with the value in its one ``line`` replaced by ``mark``; None where that line is not there once."""
    if head is None or head.count(line) != 1:
        return None
    name = line[: line.index(b": ") + 2]
    return head.replace(line, name + mark + b"\r\n")


def _encoder(body: bytes) -> Encoder | None:
    """How the codec wrote the marked text into ``body``: as orjson does (UTF-8), or as ``json.dumps`` (ASCII)."""
    for encode in (_utf8, _ascii):
        if encode(_TEXT) in body:
            return encode
    return None


Split = tuple[list[bytes], list[int]]
"""Bytes cut at their marks: the pieces between them, and each mark's slot."""


def _split(finder: re.Pattern[bytes], marks: dict[bytes, int], data: bytes) -> Split:
    return finder.split(data), [marks[m] for m in finder.findall(data)]


def _joined(head: Split, body: Split) -> Split:
    """The head's pieces and slots, then the body's: the pieces where they meet are one."""
    return [*head[0][:-1], head[0][-1] + body[0][0], *body[0][1:]], [*head[1], *body[1]]


def _format(pieces: list[bytes], slots: list[int]) -> tuple[bytes, Pick]:
    """``pieces`` joined by a ``%b`` where each slot goes (their own ``%`` doubled), and the slots' picker."""
    return b"%b".join(p.replace(b"%", b"%%") for p in pieces), _picker(slots)


def _gives_back(drawn: Drawn, pieces: list[bytes], slots: list[int], written: bytes) -> bool:
    """Whether ``drawn`` filled with the first answer's own draws is that answer (``written``, head and body) and
    its reply. The request id, and its codec's form, are read from ``written`` where the cut holds them: no other
    record of them is kept."""
    reply = drawn.reply
    text = reply.candidates[0].parts[0]
    assert isinstance(text, Text)
    usage = reply.usage
    entry = drawn.first
    values = {
        ID: reply.id.encode(),
        TEXT: drawn.encode(text.text),
        OUT: b"%d" % usage.output_tokens,
        TOTAL: b"%d" % usage.total_tokens,
        JOURNAL: b"" if entry is None else entry.id.encode(),
    }
    out = [re.escape(pieces[0])]
    rid, form = rb"(?P<rid>[0-9a-f]{32})", rb"(?P<form>[!-~]+?)"
    for slot, piece in zip(slots, pieces[1:], strict=True):
        if slot == RID:
            out.append(rid)
            rid = b"(?P=rid)"
        elif slot == FORM:
            out.append(form)
            form = b"(?P=form)"
        else:
            out.append(rb"\d+" if slot == LENGTH else re.escape(values[slot]))
        out.append(re.escape(piece))
    found = re.fullmatch(b"".join(out), written, re.DOTALL)
    if found is None:
        return False
    groups = found.groupdict()
    rid_text = _RID if groups.get("rid") is None else groups["rid"].decode()
    form_text = None if groups.get("form") is None else groups["form"].decode()
    again, made = drawn.fill(rid_text, text.text, usage.output_tokens, reply.id, entry, form_text)
    return again == written and dataclasses.astuple(made) == dataclasses.astuple(reply)
