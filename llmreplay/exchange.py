"""The context of one exchange as it passes through source, shaper and writer."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from llmreplay.config import LatencySettings
from llmreplay.model import Call, Request
from llmreplay.providers.base import RenderOptions, Route


@dataclass
class Exchange:
    """One request being answered: what came in and the choices made for it."""

    call: Call
    route: Route
    t0: float
    """Event-loop time at which the request arrived; every deadline is relative to it."""
    rng: random.Random
    """The exchange's own seeded generator: reply, jitter and ids all draw from it."""
    latency: LatencySettings
    """Latency settings in force for this exchange (a snapshot; later changes do not apply)."""
    opts: RenderOptions = field(default_factory=RenderOptions)
    request: Request | None = None
    """The neutral request, once the codec has parsed it."""
