"""Keeps Python's cyclic garbage collector from pausing held streams.

A collection walks every object of the generations it collects. With thousands of
streams held, their objects (the request, the response, the handler's coroutine
frames, the frames still to send) number in the hundreds of thousands, and a pass
over them pauses every stream's timing by tens of milliseconds; collecting less
often only makes each pass longer. So under load, whatever is alive when a stream
starts to be held is frozen (``gc.freeze``: a list splice, not a walk), and the
collector's passes only ever see objects younger than the newest held stream.

Reference counting frees everything that is not in a cycle whether frozen or not,
and the usual request paths make no cycles (a run of 2,000 streams and 770 plain
requests with the collector off left none to collect), so nothing piles up. Once
the server is idle again (at most ``QUIET_AT_MOST`` connections open and no answer
in flight), one full collection looks at all of it: that pass is itself a pause
(~60 ms over a served app's objects), so it waits rather than falling on the
streams still held as the load ebbs. A valve does the same if what is frozen ever grows past a bound.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Sized
from typing import Protocol

HELD_ABOVE = 256
"""Open connections above which held streams' objects are kept from the collector."""
QUIET_AT_MOST = 8
"""Open connections at or below which, after a busy spell and with no answer in flight, the full collection
runs (idle keep-alive connections may stay open)."""
FROZEN_VALVE = 3_000_000
"""Frozen objects past which the collector looks at them all anyway (counting them walks them, so the count
is taken every ``VALVE_EVERY_S``)."""
VALVE_EVERY_S = 60.0

_busy = False


class _Server(Protocol):
    @property
    def connections(self) -> Sized: ...


def busy() -> bool:
    return _busy


def hold() -> None:
    """A stream has started to be held: under load, freeze everything now alive (~2 µs)."""
    if _busy:
        gc.freeze()


def collect_all() -> None:
    """One full collection over everything frozen; the survivors are frozen again. At start-up, this moves
    everything built so far (codecs, routes, loaded cassettes) out of the collector's reach."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


async def watch(
    server: Callable[[], _Server | None], every_s: float = 0.1, in_flight: Callable[[], int] = lambda: 0
) -> None:
    """Follow the number of open connections: busy above ``HELD_ABOVE``, until they are down to ``QUIET_AT_MOST``
    and nothing is ``in_flight``, then one full collection."""
    global _busy
    since_valve = 0.0
    try:
        while True:
            srv = server()
            open_now = len(srv.connections) if srv is not None else 0
            if not _busy and open_now > HELD_ABOVE:
                _busy = True
            elif _busy and open_now <= QUIET_AT_MOST and not in_flight():
                _busy = False
                collect_all()
            since_valve = since_valve + every_s if _busy else 0.0
            if since_valve >= VALVE_EVERY_S:
                since_valve = 0.0
                if gc.get_freeze_count() > FROZEN_VALVE:
                    collect_all()
            await asyncio.sleep(every_s)
    finally:
        if _busy:
            _busy = False
            collect_all()
