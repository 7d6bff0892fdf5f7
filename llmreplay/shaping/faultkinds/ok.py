"""``ok``: no fault; the answer goes out as its source made it."""

from __future__ import annotations

from typing import ClassVar

from llmreplay.shaping.faultkinds.base import FaultKind, When


class Ok(FaultKind):
    name = "ok"
    description = "Answer normally."
    when: ClassVar[When] = "never"
