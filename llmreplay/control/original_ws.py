"""The original Mock LLM Server's WebSocket messages, sent on ``/ws`` beside the dashboard's own.

Each is ``{"type": T, "data": …}``: ``config`` (on connect and after each change), ``metrics`` (the
dashboard's ``metrics`` message carries it as ``data`` beside its ``snapshot``), ``detailed_metrics`` and
``event``. An ``event`` comes from the event hub's ``request.start``, ``request.end``, ``rate_limited`` and
``fault`` (as ``error``), with the endpoint under the original's id. The dashboard ignores these types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from llmreplay.control import original

TYPES = {
    "request.start": "request_start",
    "request.end": "request_end",
    "rate_limited": "rate_limited",
    "fault": "error",
}
"""The hub's event kinds the original had, and its names for them."""


def message(kind: str, data: Any) -> str:
    return json.dumps({"type": kind, "data": data}, separators=(",", ":"), ensure_ascii=False)


def endpoint_of(ev: dict[str, Any]) -> str:
    """The original's id of an event's endpoint: the route's finer configuration key where it has one
    (Gemini's generate or stream, v1 or v1beta), which the hub's events carry; else its endpoint's."""
    return original.original_id(str(ev.get("key") or ev.get("endpoint")))


def event(ev: dict[str, Any]) -> dict[str, Any] | None:
    """The original's ``event`` data for a hub event, or None for a kind it did not have."""
    kind = TYPES.get(ev.get("kind", ""))
    if kind is None:
        return None
    data: dict[str, Any] = {"type": kind, "endpoint": endpoint_of(ev), "timestamp": ev.get("t")}
    if ev.get("request_id"):
        data["requestId"] = ev["request_id"]
    if "stream" in ev:
        data["streaming"] = bool(ev["stream"])
    if "duration_ms" in ev:
        data["latencyMs"] = ev["duration_ms"]
    if "fault" in ev:
        data["error"] = ev["fault"]
    return data


def messages(events: Iterable[dict[str, Any]], live: Any) -> list[str]:
    """The original's messages for a batch of hub events: one ``event`` each, and the configuration once if
    it changed."""
    out = [message("event", data) for data in map(event, events) if data is not None]
    if any(ev.get("kind") == "config" for ev in events):
        out.append(message("config", original.config_view(live)))
    return out
