"""Prompt caching as the providers report it: a bounded per-server memory of the prompt prefixes seen lately.

- **Anthropic** caches what the request marks: each block with ``cache_control`` (tools, system, message
  content, in that order) ends a prefix. A prefix of at least :data:`ANTHROPIC_MIN` tokens (2,048 for Haiku
  models) is written to the cache (``cache_creation_input_tokens``); the same prefix again within its TTL
  (5 minutes, or ``ttl: "1h"``) is read from it (``cache_read_input_tokens``) and its TTL starts again.
- **OpenAI** (and Gemini's implicit caching) caches on its own: a prompt of at least :data:`AUTO_MIN` tokens
  is remembered message by message, and a later prompt that starts with a remembered prefix reports it as
  ``cached_tokens`` (``cachedContentTokenCount``), in steps of 128 tokens, for 5 minutes after its last use.

Prefixes are kept as digests (never their text), at most :data:`SIZE` of them, the least recently used
forgotten first. Each process has its own memory (workers and replicas do not share it). Nothing is hashed for a
request that cannot use the cache (short, or no ``cache_control``), so small prompts cost nothing here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from llmreplay.model import Request
from llmreplay.synth import tokens

ANTHROPIC_MIN = 1024
ANTHROPIC_HAIKU_MIN = 2048
AUTO_MIN = 1024
AUTO_STEP = 128
FIVE_MINUTES = 300.0
ONE_HOUR = 3600.0
SIZE = 4096
SMALLEST = min(ANTHROPIC_MIN, AUTO_MIN)
"""No prompt of fewer tokens is read from or written to the cache."""
MAX_BREAKPOINTS = 4
"""Blocks with ``cache_control`` Anthropic accepts in one request (it refuses more); only so many are kept."""
_PER_BLOCK = 4
"""Tokens a block or message adds besides its text, as :func:`llmreplay.synth.tokens.prompt_tokens` counts."""

Cached = tuple[int, int, int]
"""(tokens read from the cache, tokens written to it, of which written for an hour)."""
NONE: Cached = (0, 0, 0)


class PromptCache:
    """The prefixes one server has seen, with when each expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, size: int = SIZE) -> None:
        self._clock = clock
        self._size = size
        self._expiry: OrderedDict[bytes, float] = OrderedDict()
        # A big request is answered on a worker thread (llmreplay.offload) while the loop answers others.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._expiry)

    def use(self, req: Request, prompt_tokens: int) -> Cached:
        """What ``req``'s prompt (``prompt_tokens`` in all) reads from and writes to the cache; remembers it."""
        if req.caching == "marked":
            marks = list(itertools.islice(_breakpoints(req.body), MAX_BREAKPOINTS))
            if not marks:
                return NONE
            with self._lock:
                return self._marked(req, marks, prompt_tokens)
        if req.caching == "automatic" and prompt_tokens >= AUTO_MIN:
            prefixes = list(_message_prefixes(req))
            with self._lock:
                return self._automatic(prefixes, prompt_tokens)
        return NONE

    # ---- Anthropic: prefixes the request marks ------------------------------------------------------

    def _marked(self, req: Request, marks: list[tuple[bytes, int, float]], prompt_tokens: int) -> Cached:
        least = ANTHROPIC_HAIKU_MIN if "haiku" in req.model else ANTHROPIC_MIN
        now = self._clock()
        read = 0
        for digest, n, _ in marks:
            if self._alive(digest, now):
                read = n
        _, last, ttl = marks[-1]
        written = max(0, min(last, prompt_tokens) - read) if last >= least else 0
        for digest, n, t in marks:
            if n >= least:
                self._keep(digest, now + t)
        read = min(read, prompt_tokens)
        return read, written, written if ttl == ONE_HOUR else 0

    # ---- OpenAI and Gemini: prefixes found on their own --------------------------------------------

    def _automatic(self, prefixes: list[tuple[bytes, int]], prompt_tokens: int) -> Cached:
        now = self._clock()
        read = 0
        for digest, n in prefixes:
            if self._alive(digest, now):
                read = n
            if n >= AUTO_MIN:
                self._keep(digest, now + FIVE_MINUTES)
        read = min(read, prompt_tokens)
        return (read // AUTO_STEP * AUTO_STEP if read >= AUTO_MIN else 0), 0, 0

    # ---- the memory ----------------------------------------------------------------------------------

    def _alive(self, digest: bytes, now: float) -> bool:
        expiry = self._expiry.get(digest)
        return expiry is not None and expiry > now

    def _keep(self, digest: bytes, expiry: float) -> None:
        self._expiry[digest] = expiry
        self._expiry.move_to_end(digest)
        while len(self._expiry) > self._size:
            self._expiry.popitem(last=False)


def _breakpoints(body: Any) -> Iterator[tuple[bytes, int, float]]:
    """(prefix digest, prefix tokens, TTL) at each block the request marks with ``cache_control``, in the
    order Anthropic reads a prompt: tools, system, messages."""
    if not isinstance(body, dict):
        return
    h = hashlib.blake2b(str(body.get("model", "")).encode(), digest_size=16)
    n = 0
    for block in _blocks(body):
        if not isinstance(block, dict):
            block = {"text": block}
        mark = block.get("cache_control")
        shown = {k: v for k, v in block.items() if k != "cache_control"}
        h.update(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        text = shown.get("text")
        n += _PER_BLOCK + tokens.count(text if isinstance(text, str) else json.dumps(shown, sort_keys=True))
        if isinstance(mark, dict):
            yield h.copy().digest(), n, ONE_HOUR if mark.get("ttl") == "1h" else FIVE_MINUTES


def _blocks(body: dict[str, Any]) -> Iterator[Any]:
    yield from body.get("tools") or ()
    system = body.get("system")
    if isinstance(system, list):
        yield from system
    elif system:
        yield system
    for m in body.get("messages") or ():
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            yield from ({"role": m.get("role"), **b} if isinstance(b, dict) else b for b in content)
        elif content is not None:
            yield {"role": m.get("role"), "text": content}


def _message_prefixes(req: Request) -> Iterator[tuple[bytes, int]]:
    """(digest, tokens) of each prefix of the prompt ending at a message: the system prompt and tools first."""
    h = hashlib.blake2b(req.model.encode("utf-8", "surrogatepass"), digest_size=16)
    head = json.dumps([req.system, [(t.name, t.description, t.schema) for t in req.tools]], sort_keys=True)
    h.update(head.encode("utf-8", "surrogatepass"))
    n = tokens.count(head)
    for m in req.messages:
        h.update(b"\0" + m.role.encode() + b"\0" + m.text.encode("utf-8", "surrogatepass"))
        n += _PER_BLOCK + tokens.count(m.text)
        yield h.copy().digest(), n
