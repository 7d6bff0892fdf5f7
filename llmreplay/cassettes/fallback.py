"""The looser match, off unless asked for: a recording of the same conversation content answers a request
that matched nothing exactly.

The content is the model, the last user message and the tool results after the model's last turn, as the
key sees them (scrubbed and normalised); everything else (sampling settings, tools offered, earlier turns,
fields of any name) may differ. Whatever answers this way says so: the exchange's ``answered_by`` carries
``match: fallback`` (the journal and the ``x-llmreplay-cassette`` header show it).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from llmreplay.cassettes.keys import MatchConfig, RequestLike, canonical, view_of
from llmreplay.cassettes.model import Interaction
from llmreplay.providers.registry import stream_neutral_path

_TURNS = ("messages", "input", "contents")
"""Where each API keeps the conversation: Chat and Anthropic, Responses, Gemini."""
_MODEL_TURNS = frozenset({"assistant", "model"})


def content_key(req: RequestLike, cfg: MatchConfig) -> str | None:
    """The model, last user message and latest tool results of ``req``; None when it holds no conversation."""
    view = view_of(req, cfg)
    try:
        parts = json.loads(view.base)
    except ValueError:
        return None
    body = parts[-1] if parts else None
    if not isinstance(body, dict):
        return None
    turns = next((body[k] for k in _TURNS if k in body), None)
    if isinstance(turns, str):
        last_user: Any = turns
        results: list[Any] = []
    elif isinstance(turns, list):
        last_user = next((t for t in reversed(turns) if _role(t) == "user"), None)
        start = max((i + 1 for i, t in enumerate(turns) if _role(t) in _MODEL_TURNS), default=0)
        results = [t for t in turns[start:] if _role(t) == "tool" or _type(t) == "function_call_output"]
    else:
        return None
    # The model: the body's, else the path's (Gemini names it there); the method and path stay in the key.
    return canonical([req.method.upper(), stream_neutral_path(req.path), body.get("model"), last_user, results])


def _role(turn: Any) -> Any:
    return turn.get("role") if isinstance(turn, dict) else None


def _type(turn: Any) -> Any:
    return turn.get("type") if isinstance(turn, dict) else None


class Fallback:
    """Recordings by content key; the latest recording of a content answers."""

    def __init__(self, cfg: MatchConfig) -> None:
        self.cfg = cfg
        self._by: dict[str, list[tuple[str, Interaction]]] = {}
        self._lock = threading.Lock()

    def add(self, cassette: str, it: Interaction) -> None:
        if it.api is None:
            return  # a path no codec knows holds no conversation to go by
        key = content_key(it.request, self.cfg)
        if key is not None:
            with self._lock:
                self._by.setdefault(key, []).append((cassette, it))

    def absorb(self, other: Fallback) -> None:
        with other._lock:
            items = [(k, list(v)) for k, v in other._by.items()]
        with self._lock:
            for key, entries in items:
                self._by.setdefault(key, []).extend(entries)

    def forget(self, cassette: str) -> None:
        with self._lock:
            for key in list(self._by):
                kept = [e for e in self._by[key] if e[0] != cassette]
                if kept:
                    self._by[key] = kept
                else:
                    del self._by[key]

    def find(self, call: RequestLike) -> tuple[str, Interaction] | None:
        key = content_key(call, self.cfg)
        with self._lock:
            entries = self._by.get(key or "")
            return entries[-1] if entries else None
