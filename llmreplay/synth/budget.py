"""What one request may spend on faking values for the schemas it sent, so that no schema holds the event loop.

Every cap is a size the faker checks before it builds (a ``minLength``, ``minItems`` or repeat count over the cap
is refused at once, not built and then measured), plus a running count of work done (values made, schema keywords
checked, characters written), which is deterministic, so a seeded reply is the same on a busy machine; a
wall-clock deadline is only the last line, and neither a full collection of the process's garbage collector (over a
second in a test process holding thousands of tests' objects) nor the meta-schema check is counted against it.
One ``Budget`` covers a whole request: ``requested.value_for`` keys it by the exchange's random generator, so
``n: 128`` choices or many tools share it instead of each having their own.
Going over is :class:`OverBudget`, which the client gets as the provider's 400 naming the parameter.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MAX_STRING = 65_536
"""Characters in one generated string (``minLength`` or a pattern's fixed length above this is refused)."""
MAX_ITEMS = 1_000
"""Items in one generated array, and properties in one generated object (``minItems``/``minProperties``)."""
MAX_STEPS = 3_000
"""Steps of work for one request, all schemas and choices together: a value generated, or a keyword that descends
(``anyOf``, ``$ref``, ``properties`` ...) checked, one step per member of the array or object it visits. The
most complex schema of the test corpus (a recursive UI tree) takes under 900; 3,000 took 30–90 ms on a busy
2-core machine."""
MAX_CHARS = 1_000_000
"""Characters of generated strings for one request, all schemas and choices together."""
MAX_SECONDS = 1.0
"""Wall-clock time one request may spend faking: a backstop behind the counts above, never reached by them."""


class OverBudget(Exception):
    """The schema asks for more work than one request may spend; the message says which cap."""


class Budget:
    """The running account of one request's faking work."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, seconds: float = MAX_SECONDS) -> None:
        self._clock = clock
        self._seconds = seconds
        self._deadline = clock() + seconds
        self._full = _full_collections() if clock is time.monotonic else None
        """The collector's full collections so far, on the real clock (an injected one runs on its own time)."""
        self.steps = MAX_STEPS
        self.chars = MAX_CHARS

    def spend(self, steps: int = 1, chars: int = 0) -> None:
        """Count work done (or about to be done); raise :class:`OverBudget` when a cap is passed."""
        self.steps -= steps
        self.chars -= chars
        if self.steps < 0:
            raise OverBudget(_TOO_MANY_STEPS)
        if self.chars < 0:
            raise OverBudget(f"it needs more than {MAX_CHARS} generated characters")
        if self._clock() > self._deadline and not self._collected():
            raise OverBudget(f"generating a value took longer than {MAX_SECONDS} s")

    def _collected(self) -> bool:
        """Whether the collector made a full collection since the deadline was set; if so the deadline is set again
        from now: the pause was the process's, not this request's work."""
        if self._full is None:
            return False
        full = _full_collections()
        if full == self._full:
            return False
        self._full = full
        self._deadline = self._clock() + self._seconds
        return True

    @contextmanager
    def uncounted(self) -> Iterator[None]:
        """Work done inside is not charged to the deadline: checking a client's schema against the meta-schema is
        work no count covers (over a second for a 44 KB schema on a slow, busy machine), and it is not faking."""
        start = self._clock()
        try:
            yield
        finally:
            self._deadline += self._clock() - start

    def reserve(self, steps: int) -> None:
        """Raise :class:`OverBudget` now when fewer than ``steps`` remain: work sure to run out is not begun."""
        if steps > self.steps:
            raise OverBudget(_TOO_MANY_STEPS)


_TOO_MANY_STEPS = f"it needs more than {MAX_STEPS} steps of work"


def _full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


def check_size(what: str, wanted: float, cap: int) -> int:
    """``wanted`` (a schema's minimum size) as an int, or :class:`OverBudget` when it is above ``cap``."""
    if wanted != wanted or wanted > cap:  # NaN compares false to everything
        raise OverBudget(f"{what} {wanted} is above the cap of {cap}")
    return int(wanted)
