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

    __slots__ = ("_conn", "_held", "_lane", "_parser", "_waiting")

    def __init__(self, parser: Any, conn: _StampedHandler, lane: Lane) -> None:
        self._parser = parser
        self._conn = conn
        self._lane = lane
        self._held: Parsed | None = None
        self._waiting: list[Parsed] = []
        """Requests read while the lane answers one on this connection, aiohttp's once that is out."""

    @property
    def waiting(self) -> bool:
        """Whether requests wait for the lane's answer on this connection."""
        return bool(self._waiting)

    def feed_data(self, data: bytes) -> tuple[list[Parsed], bool, bytes]:
        messages, upgraded, tail = self._parser.feed_data(data)
        conn = self._conn
        if conn.lane_busy():
            self._waiting += messages
            return [], upgraded, tail
        if self._waiting:  # they came while the lane answered the one before: read now, in order
            messages, self._waiting = [*self._waiting, *messages], []
        held, self._held = self._held, None
        if held is not None:
            conn.held(False)
            messages = [held, *messages]
        if not messages or not conn.lane_open():
            return messages, upgraded, tail
        passed: list[Parsed] = []
        for i, parsed in enumerate(messages):
            message, payload = parsed
            if conn.lane_busy():  # the lane answers the one before in its own time: these wait for it
                self._waiting += messages[i:]
                break
            if passed or not conn.lane_open():
                kept: Parsed | None = parsed
            elif parsed is not held and not payload.is_eof() and self._lane.waits_for(message):
                # Only the last request read can still want its body: nothing comes after it yet.
                self._held = parsed
                conn.held(True)
                continue
            else:
                kept = self._lane.take(conn, message, payload)
            if kept is not None:
                passed.append(kept)
            elif not conn.lane_busy():  # answered (one the lane answers in its own time tells lane_done)
                self._parser.message_consumed()  # the parser counts the requests waiting for aiohttp
                conn.lane_answered()
        return passed, upgraded, tail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)
