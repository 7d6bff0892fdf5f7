"""The clock of every deadline (an exchange's start, its frames' due times)."""

from __future__ import annotations

import time
from collections.abc import Callable

clock: Callable[[], float] = time.monotonic
"""Not the event loop's: uvloop's ``loop.time()`` moves in 1 ms steps, which put up to a millisecond of error on
every deadline."""
