"""The express lane: a provider call answered on the connection that received it, as soon as aiohttp's parser has
read it, without aiohttp's request, middleware, router, response and stream writer.

Those cost about as much as llmreplay's own answer to a plain chat request (docs/performance.md, "The express
lane"), and an answer that is whole and due at once needs none of them: the lane runs the same road
(:func:`llmreplay.road.prepare`: the same admission, sources and shaper), writes the status line, headers and
body in one write, and tells the observers and the access log as the road's handler does.

Whatever the lane cannot write at once goes on to aiohttp, with the work already done, so nothing is done twice
and nothing is answered out of order:

- a stream, once its request is read: untouched (unless it goes upstream, below);
- an answer that is not whole and due now (a delay, a fault, a 429): the handler sends it when due
  (:func:`llmreplay.arrival.handed`);
- a road that has to wait (a worker thread, say): the handler's task goes on from where it stopped
  (:class:`~llmreplay.resume.Resume`);
- a request the lane does not take at all (a body still arriving, HTTP/1.0, a query or a path that would need
  decoding): aiohttp reads it as it always did. A query of plain ``name=value`` pairs (Azure's
  ``api-version``) needs none, and is taken.

With shared state in play there is no lane (:meth:`Lane.of`): it waits on I/O at every step. A call to an upstream
(the record proxy's, a live upstream's) is begun here, and leaves for the upstream as soon as it is read; its
answer is written by a task of the lane's own (:mod:`llmreplay.lane_relay`), which keeps the connection until it
is out, and hands it to aiohttp only where a stage stands between the upstream and the client. A request that
asks for its connection to close is taken only then.

The lane takes a request only while its connection is idle, so a pipelined request never overtakes the one
before it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from aiohttp.http import HttpVersion11
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader

from llmreplay import offload, road
from llmreplay.drawn import Drawn
from llmreplay.errors import ApiError
from llmreplay.heads import head_of, whole
from llmreplay.kept import Kept, KeptAnswers
from llmreplay.lane_relay import logged, relayed
from llmreplay.middleware import log_access
from llmreplay.model import Call, Reply, Wire
from llmreplay.observers import Done
from llmreplay.providers import registry
from llmreplay.resume import Resume, ready
from llmreplay.runtime import Runtime
from llmreplay.shaping.directives import passed_on
from llmreplay.shaping.writer import clock
from llmreplay.state.memory import MemoryState

if TYPE_CHECKING:
    from llmreplay.arrival import Parsed, _StampedHandler
    from llmreplay.codec import Route
    from llmreplay.journal.entry import Entry

log = logging.getLogger("llmreplay")

Found = tuple["Route", str, Mapping[str, str], Mapping[str, str]]
"""A request the lane takes: its route, its path, the path's parameters and its query."""


class Lane:
    """Answers, on their connections, the calls of ``rt`` whose answers are whole and due at once."""

    def __init__(self, rt: Runtime, max_body: int) -> None:
        self.rt = rt
        self.max_body = min(max_body, offload.BIG_BODY)
        """Bodies above this go aiohttp's way: over the server's limit (its 413), or read on a worker thread."""
        posts = [r for r in registry.routes() if r.method == "POST"]
        self._routes = {r.path: r for r in posts if "{" not in r.path}
        """The POST routes with a fixed path, by the raw target that names them: generation, embeddings and token
        counts."""
        self._patterns = [(r.path[: r.path.index("{")], _pattern(r.path), r) for r in posts if "{" in r.path]
        """The POST routes whose paths have parameters (Gemini's model, Azure's deployment), in aiohttp's order:
        each one's fixed start, and its path as a regex."""
        self.answered = 0
        """Calls the lane answered itself (the rest of those it took went on to aiohttp)."""
        self.forwarded = 0
        """Calls the lane sent upstream."""
        self.relayed = 0
        """Calls sent upstream whose answers the lane wrote too (the rest went to aiohttp to write)."""
        self.kept = KeptAnswers(rt)
        self._told: list[tuple[Done, Entry | None, int, float, float]] = []
        """Answers written this turn of the loop whose observers are yet to hear of them."""
        self._wire = rt.deck is not None and rt.deck.proxy is not None
        """Calls may go upstream: each is kept as it came too (:class:`~llmreplay.model.Wire`), and begun here so
        that it is on its way while aiohttp's handler gets ready to write its answer."""

    @classmethod
    def of(cls, rt: Runtime, max_body: int) -> Lane | None:
        """The lane of ``rt``; None where it would only hand every call on: shared state (Redis) waits on I/O at
        every step. A call to an upstream is begun here and handed on once it waits for the upstream's head: it is
        forwarded as soon as it is read, and aiohttp makes its request and handler while the upstream answers."""
        return cls(rt, max_body) if isinstance(rt.state, MemoryState) else None

    def route_of(self, message: RawRequestMessage) -> Found | None:
        """The route of a request the lane takes once its body is in, its path, the path's parameters and the
        query."""
        path, _, raw_query = message.path.partition("?")
        route = self._routes.get(path)
        params: Mapping[str, str] = _NO_PARAMS
        if route is None and message.method == "POST":
            route, params = self._with_params(path)
        if (
            route is None
            or message.version != HttpVersion11
            or (message.should_close and not self._wire)  # handed on, to be closed by aiohttp after its answer
            or message.upgrade
            or message.method != "POST"
            or "Expect" in message.headers  # aiohttp's answers it (a 100 Continue) before the body is read
        ):
            return None
        query = _plain_query(raw_query)  # read only for a request the lane would take
        return None if query is None else (route, path, params, query)

    def waits_for(self, message: RawRequestMessage) -> bool:
        size = message.headers.get("Content-Length", "")
        return size.isdigit() and int(size) <= self.max_body and self.route_of(message) is not None

    def take(self, conn: _StampedHandler, message: RawRequestMessage, payload: StreamReader) -> Parsed | None:
        found = self.route_of(message)
        if found is None or not payload.is_eof():
            return message, payload
        route, path, params, query = found
        body = payload.read_nowait()
        if len(body) > self.max_body:
            return conn.hand_on(message, body, None)
        started = time.perf_counter()
        rt = self.rt
        t0 = conn.arrived or clock()
        key = (message.path, message.raw_headers, body)
        kept = self.kept.find(key, route)
        if kept is not None:
            if isinstance(kept, Drawn):
                self._drawn(conn, kept, t0, started)
            else:
                self._again(conn, kept, t0, started)
            return None
        second = int(time.time())
        headers = {k.lower(): v for k, v in message.headers.items()}
        wire = None
        if self._wire:
            wire = Wire(message.path, passed_on(message.headers.items()), tuple(query.items()))
        call = Call("POST", path, params, query, headers, body, wire=wire)
        request = None
        if route.op is None and wire is None:
            try:
                request = route.codec.parse_request(call)
            except ApiError:
                pass  # the road answers it with the provider's own 400, which the lane writes
            else:
                if request.stream:
                    # A stream is aiohttp's to write, frame by frame: it goes there untouched.
                    return conn.hand_on(message, body, None)
        coro = road.prepare(rt, call, route, t0, request)
        try:
            waiting = coro.send(None)
        except StopIteration as stop:
            prepared: road.Prepared = stop.value
        except Exception:
            # aiohttp's road meets the same error and answers it as it answers every unexpected one.
            log.debug("the express lane could not prepare %s; handed on", message.path, exc_info=True)
            return conn.hand_on(message, body, None)
        else:
            begun = Resume(coro, waiting)
            if wire is None:
                return conn.hand_on(message, body, (t0, begun))
            self.forwarded += 1
            job = asyncio.get_running_loop().create_task(relayed(rt, conn, message, body, route, t0, started, begun))
            job.add_done_callback(self._relayed)
            conn.lane_keeps(job)
            return None
        answer, later, settled = prepared
        head = (
            head_of(answer, later)
            if settled is None and isinstance(later, Done) and whole(answer) and not message.should_close
            else None
        )
        if head is None:
            return conn.hand_on(message, body, (t0, ready(prepared)))
        assert isinstance(later, Done)
        transport = conn.transport
        assert transport is not None  # lane_open
        transport.write(head + answer.body)
        self.answered += 1
        self._tell(later, answer.status, t0)
        self.kept.keep(key, second, call, route, request, answer, later, head)
        rt.writer.poll()
        if not rt.settings.server.quiet:
            logged(call.path, answer.status, started, later)
        return None

    def _relayed(self, job: asyncio.Task[bool]) -> None:
        if job.cancelled():
            return
        exc = job.exception()
        if exc is not None:
            # Past its head an answer has no error left to give; the handler's middleware says the same of its own.
            log.error("unexpected error relaying an upstream's answer", exc_info=exc)
        elif job.result():
            self.relayed += 1

    def _with_params(self, target: str) -> tuple[Route | None, Mapping[str, str]]:
        """The route of a path with parameters and their values, as aiohttp's router would find them; none for a
        path with an escape or a dot segment, which aiohttp decodes or normalises first."""
        if "%" in target or "/." in target or "//" in target or "#" in target:
            return None, _NO_PARAMS
        for start, pattern, route in self._patterns:
            if target.startswith(start) and (found := pattern.fullmatch(target)) is not None:
                return route, found.groupdict()
        return None, _NO_PARAMS

    def _again(self, conn: _StampedHandler, kept: Kept, t0: float, started: float) -> None:
        """Write ``kept`` again with a journal entry of its own, and tell the observers as for any answer."""
        rt = self.rt
        done = kept.done
        entry = rt.observers.again(kept.first, t0) if kept.first is not None else None
        transport = conn.transport
        assert transport is not None  # lane_open
        if entry is not None:
            transport.write(kept.before + entry.id.encode() + kept.after)
        elif kept.first is not None:
            # The journal failed to take this one (contained and counted): no id to give, so no id header, as the
            # road sends none without an entry. The kept head was cut just after that header's name.
            transport.write(kept.before[: kept.before.rfind(b"\r\n")] + kept.after)
        else:
            transport.write(kept.before + kept.after)
        self.answered += 1
        done.entry = entry  # the kept Done is told of with each answer's own entry (see _told_all)
        self._tell(done, 200, t0)
        rt.writer.poll()
        if not rt.settings.server.quiet:
            log_access("POST", done.path, 200, started, "synthetic", None, None)

    def _drawn(self, conn: _StampedHandler, drawn: Drawn, t0: float, started: float) -> None:
        """Draw another answer into ``drawn`` as the road would draw it, and write it as :meth:`_again` does."""
        rt = self.rt
        rng = rt.unseeded
        rid, _ = road.first_draws(rng)
        text, counted, reply_id = rt.source.draw_again(rng)
        entry = rt.observers.again(drawn.first, t0) if drawn.first is not None else None
        data, reply = drawn.fill(rid, text, counted, reply_id, entry)
        transport = conn.transport
        assert transport is not None  # lane_open
        transport.write(data)
        self.answered += 1
        done = drawn.done
        done.entry = entry  # told of with each answer's own entry and reply, as a kept Done is (see _told_all)
        self._tell(done, 200, t0, reply)
        rt.writer.poll()
        if not rt.settings.server.quiet:
            log_access("POST", done.path, 200, started, "synthetic", None, None)

    def _tell(self, done: Done, status: int, t0: float, reply: Reply | None = None) -> None:
        """Tell the observers of an answer just written, once every answer of this turn of the loop is out: in one
        go after them (``_told_all``), which keeps their tables and the answers' bytes out of each other's way in
        the processor's caches, and sends each answer before the bookkeeping of those before it. ``reply``: a
        drawn answer's own, told of in its shared Done."""
        told = self._told
        told.append((done, done.entry, reply, status, t0, clock()))
        if len(told) == 1:
            asyncio.get_running_loop().call_soon(self._told_all)

    def _told_all(self) -> None:
        told, self._told = self._told, []
        rt = self.rt
        observers, poll = rt.observers, rt.writer.poll
        for done, entry, reply, status, t0, end in told:
            done.entry = entry
            if reply is not None:
                # A drawn answer's Done is shared with the answer it was cut from, told of before any drawn from it.
                done.reply, done.output_tokens = reply, reply.usage.output_tokens
            observers.started(done.endpoint, "POST", done.path, False, done.key)
            observers.finished(done, status, False, {"first": end}, t0, end)
            poll()


_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
"""The parameters of a fixed path, and an empty query: one mapping for every call, so it cannot be changed."""
_PLAIN_PAIR = re.compile(r"([A-Za-z0-9._~-]+)=([A-Za-z0-9._~-]*)")
"""A query's ``name=value`` pair that reads the same before and after decoding: no escape, no ``+`` (a space to
aiohttp), no ``;``."""


def _plain_query(raw: str) -> Mapping[str, str] | None:
    """The query ``raw`` as aiohttp would read it, when it is plain ``name=value`` pairs, each name once; else None,
    and the request is aiohttp's to decode."""
    if not raw:
        return _NO_PARAMS
    query: dict[str, str] = {}
    for pair in raw.split("&"):
        found = _PLAIN_PAIR.fullmatch(pair)
        if found is None or found[1] in query:
            return None
        query[found[1]] = found[2]
    return query


_PARAMETER = re.compile(r"\{(\w+)(?::([^{}]*))?\}")
"""A parameter in an aiohttp route's path: ``{name}``, or ``{name:regex}``."""


def _pattern(path: str) -> re.Pattern[str]:
    """An aiohttp route's ``path`` as a regex with a named group for each parameter, which matches what aiohttp's
    router matches (a bare parameter takes a segment's characters but braces, as aiohttp's does)."""
    out, at = [], 0
    for found in _PARAMETER.finditer(path):
        out += [re.escape(path[at : found.start()]), f"(?P<{found[1]}>{found[2] or '[^{}/]+'})"]
        at = found.end()
    return re.compile("".join([*out, re.escape(path[at:])]))
