"""A connection's HTTP parser with the express lane in front of it (:mod:`llmreplay.lane`): the lane sees each
request aiohttp's parser reads before aiohttp does, and a request read while the lane answers one in its own time
waits for that answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmreplay.arrival import Lane, Parsed, _StampedHandler


class LaneParser:
    """A connection's HTTP parser, whose requests the express lane sees first: those it answers aiohttp never
    sees; from the first it does not, every later one goes to aiohttp, in order. A request the lane would take
    whose body is still to come is held until the next read (which brings it, or else aiohttp has the request
    then) or for :data:`~llmreplay.arrival.HOLD_S` at most."""

    __slots__ = ("_conn", "_feeding", "_held", "_lane", "_later", "_parser", "_waiting")

    def __init__(self, parser: Any, conn: _StampedHandler, lane: Lane) -> None:
        self._parser = parser
        self._conn = conn
        self._lane = lane
        self._held: Parsed | None = None
        self._waiting: list[Parsed] = []
        """Requests read while the lane answers one on this connection, aiohttp's once that is out."""
        self._feeding = False
        self._later: list[Parsed] = []
        """Requests parsed while the lane read a body (:meth:`feed_data` re-entered), to be seen after it."""

    @property
    def waiting(self) -> bool:
        """Whether requests wait for the lane's answer on this connection."""
        return bool(self._waiting)

    def feed_data(self, data: bytes) -> tuple[list[Parsed], bool, bytes]:
        messages, upgraded, tail = self._parser.feed_data(data)
        if self._feeding:
            # Re-entered from the lane's read of a body: aiohttp parses what it holds back whenever a body is read.
            # These come after the request being taken, and are seen after it, in order.
            self._later += messages
            return [], upgraded, tail
        self._feeding = True
        try:
            return self._seen(messages), upgraded, tail
        finally:
            self._feeding = False

    def _seen(self, messages: list[Parsed]) -> list[Parsed]:
        """The lane sees ``messages`` in order; those it leaves are aiohttp's."""
        conn = self._conn
        if conn.lane_busy():
            self._waiting += messages
            return []
        if self._waiting:  # they came while the lane answered the one before: read now, in order
            messages, self._waiting = [*self._waiting, *messages], []
        held, self._held = self._held, None
        if held is not None:
            conn.held(False)
            messages = [held, *messages]
        if not messages or not conn.lane_open():
            return messages
        passed: list[Parsed] = []
        i = 0
        while i < len(messages):
            parsed = messages[i]
            message, payload = parsed
            if conn.lane_busy():  # the lane answers the one before in its own time: these wait for it
                self._waiting += messages[i:]
                break
            i += 1
            if passed or not conn.lane_open():
                kept: Parsed | None = parsed
            elif parsed is not held and not payload.is_eof() and self._lane.waits_for(message):
                # Only the last request read can still want its body: nothing comes after it yet.
                self._held = parsed
                conn.held(True)
                continue
            else:
                kept = self._lane.take(conn, message, payload)
                if self._later:
                    messages, self._later = [*messages, *self._later], []
            if kept is not None:
                passed.append(kept)
            elif not conn.lane_busy():  # answered (one the lane answers in its own time tells lane_done)
                self._parser.message_consumed()  # the parser counts the requests waiting for aiohttp
                conn.lane_answered()
        return passed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)
