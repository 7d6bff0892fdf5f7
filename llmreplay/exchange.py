"""The context of one exchange as it passes through source, shaper and writer."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmreplay.codec import RenderOptions, Route
from llmreplay.configmodels import EndpointConfig, LatencyConfig
from llmreplay.errors import ApiError
from llmreplay.model import Call, Reply, Request
from llmreplay.model import Usage as TokenUsage
from llmreplay.shaping.directives import NONE, Directives
from llmreplay.shaping.outcomes import Outcome
from llmreplay.shaping.ratelimit.quotas import Admission

if TYPE_CHECKING:
    from llmreplay.catalogue import Family
    from llmreplay.journal.entry import Entry


@dataclass
class Exchange:
    """One request being answered: what came in and the choices made for it."""

    call: Call
    route: Route
    t0: float
    """When the request arrived, on the writer's clock (``shaping.writer.clock``); every deadline is relative to it."""
    rng: random.Random
    """Its generator (reply, jitter and ids all draw from it): its own when seeded, so that they are reproduced;
    else the runtime's one shared generator."""
    latency: LatencyConfig
    """Latency in force for this exchange (live configuration and request headers; later changes do not apply)."""
    opts: RenderOptions = field(default_factory=RenderOptions)
    request: Request | None = None
    """The neutral request, once the codec has parsed it."""
    config: EndpointConfig = field(default_factory=EndpointConfig)
    """The endpoint's live configuration, as it was when the request arrived."""
    directives: Directives = NONE
    outcome: Outcome | None = None
    """The chosen fault or status (header or scenario), or None to let failure injection draw."""
    api_key: str = "anonymous"
    """Digest of the caller's credential, taken only where a quota is kept per key (a sha256 of it cost 2 µs a
    request that no quota weighed)."""
    admission: Admission | None = None
    """What the quota said (taken before the shaper runs); None when rate limiting is off."""
    input_tokens: int | None = None
    """The request's prompt tokens once counted (by the synthetic reply or the quota), so they are counted once."""
    output_tokens: int = 0
    tokens_later: Callable[[], TokenUsage | None] | None = None
    """Where the tokens come from when they are counted after the answer (a replayed recording's: counted as a
    burst of replays arrived, they held every stream's next event)."""
    verbatim: bool = False
    """A path no codec knows: replayed or forwarded byte for byte; the route's codec only lends its envelope."""
    unreadable: ApiError | None = None
    """Why the codec could not read the request, kept while a recording or the upstream may still answer it
    (the provider's own answer to a bad request is worth replaying)."""
    read_later: bool = False
    """The codec reads the request only after the answer is sent: a call forwarded first, which needs none of
    it on the way (its model and prompt tokens are for the observers)."""
    source: str | None = None
    """Which source answered (``rule``, ``cassette``, ``upstream``, ``synthetic``); None for an early answer."""
    answered_by: dict[str, Any] | None = None
    """What of the source answered, for the journal and ``x-llmreplay-source``: ``{"rule": name, "step": i}``,
    ``{"cassette": name, "index": i}``, ``{"upstream": url}`` or ``{"synthetic": True}``."""
    reply: Reply | None = None
    """The neutral reply, where the source built one (synthetic, rule): the journal shows it."""
    test_id: str | None = None
    """The test this exchange belongs to (``x-llmreplay-test-id``): it scopes the journal, rules and scenario
    keys, so tests sharing one server do not see each other."""
    entry: Entry | None = None
    """Its journal entry (whose id is sent back as ``x-llmreplay-request-id``); None when none is kept."""
    settled: asyncio.Future[None] | None = None
    """Done once what the source keeps of the exchange is kept (a recording written): the handler waits for it
    after the last byte, so that a call that follows this one's answer finds it recorded."""
    family: Family | None = None
    """Its model's catalogue family (:data:`llmreplay.catalogue.UNKNOWN` for a model the catalogue does not
    know); None where no request was read."""
    load: float = 1.0
    """What its latencies (time to first token, gaps, jitter) are multiplied by: the endpoint's load factor
    when the exchange was admitted, under load degradation; else 1."""

    @property
    def denied(self) -> bool:
        """Refused by a rate limit (not by an unreachable shared state, which is an outage)."""
        a = self.admission
        return a is not None and not a.allowed and a.reason != "state"
