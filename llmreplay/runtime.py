"""What the running app holds, wired once: settings, live configuration, sources, shaper, writer, state,
metrics and events. Every part of the app reaches it through :data:`RUNTIME`, imported from here."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass

from aiohttp import web

from llmreplay.cassettes.usage import Usage
from llmreplay.catalogue import Catalogue, shipped
from llmreplay.config import JournalSettings, Settings
from llmreplay.control.events import EventHub
from llmreplay.control.live import LiveConfig, initial
from llmreplay.journal import Journal, feed
from llmreplay.metrics import Metrics
from llmreplay.model import Call
from llmreplay.observers import Observers
from llmreplay.rules import RuleBook
from llmreplay.shaping.directives import SEED
from llmreplay.shaping.faults import FaultStage, OutcomeDraw, StreamFaultStage
from llmreplay.shaping.ratelimit.stage import RateLimitStage
from llmreplay.shaping.shaper import Shaper
from llmreplay.shaping.timing import TimingStage
from llmreplay.shaping.writer import Writer
from llmreplay.sources.base import Source
from llmreplay.sources.deck import Deck
from llmreplay.sources.synthetic import SyntheticSource
from llmreplay.state.base import State
from llmreplay.state.factory import make_state
from llmreplay.state.responses import ResponseStore
from llmreplay.synth.text import Unseeded


@dataclass
class Runtime:
    """What the running app holds: settings, live configuration, source, shaper, writer and metrics."""

    settings: Settings
    live: LiveConfig
    source: SyntheticSource
    shaper: Shaper
    draw: OutcomeDraw
    """The outcome of an exchange that asks for none (the endpoint's error rate)."""
    writer: Writer
    state: State
    """Rate-limit quotas and scenario cursors (this process's memory, or shared)."""
    metrics: Metrics
    events: EventHub
    """What happens, for the dashboard's WebSocket clients."""
    observers: Observers
    sources: tuple[Source, ...]
    """Asked in this order for an answer; the first that has one gives it."""
    deck: Deck | None = None
    """Cassettes in play (replay, record, forward); None when serving synthetic replies only."""
    unseeded: random.Random = dataclasses.field(default_factory=Unseeded)
    """The one generator of every unseeded exchange. Nothing is to be reproduced there, so draws interleaved
    with other exchanges' are as good as a generator of its own, which would cost 4 µs to seed."""
    rules: RuleBook = dataclasses.field(default_factory=RuleBook)
    """Scripted replies (``--rules`` and ``/api/rules``), asked before any source."""
    journal: Journal = dataclasses.field(default_factory=lambda: Journal.of(JournalSettings()))
    """Recent exchanges, what was sent and what answered (``/api/requests``, the dashboard's journal)."""
    catalogue: Catalogue = dataclasses.field(default_factory=shipped)
    """The model catalogue: the shipped families with the settings file's over them."""
    responses: ResponseStore = dataclasses.field(default_factory=ResponseStore)
    """The OpenAI Responses this process kept (``previous_response_id``, ``GET /v1/responses/{id}``)."""

    @property
    def forwards_first(self) -> bool:
        """Whether every call goes upstream first (record mode ``all``)."""
        return self.sources[0].name == "upstream"

    def seed_of(self, call: Call) -> str | None:
        """The seed of ``call``'s exchange: its own header's, else the server's; None when unseeded."""
        seed = call.headers.get(SEED)
        if seed is None and self.settings.synthetic.seed is not None:
            seed = str(self.settings.synthetic.seed)
        return seed

    def rng_for(self, call: Call) -> random.Random:
        """The exchange's generator: its own, seeded from the request or server seed and the call; else the
        shared one."""
        seed = self.seed_of(call)
        if seed is None:
            return self.unseeded
        digest = hashlib.sha256(call.method.encode() + call.path.encode() + b"\0" + call.body).hexdigest()
        # Random encodes a str seed as UTF-8 itself; bytes that are not UTF-8 reach here as aiohttp's lone
        # surrogates, which that would refuse: encoding them back gives the same seed for every valid one.
        return random.Random(f"{seed}:{digest}".encode("utf-8", "surrogateescape"))


RUNTIME = web.AppKey("llmreplay.runtime", Runtime)


def build_runtime(settings: Settings) -> Runtime:
    """Every long-lived part, wired once: the stage order is written out here."""
    live = LiveConfig(initial(settings))
    seed = settings.synthetic.seed
    state = make_state(settings)
    stages = [FaultStage(), RateLimitStage(), TimingStage(), StreamFaultStage()]
    catalogue = Catalogue.of(settings.models.families)
    source = SyntheticSource(settings.synthetic, catalogue=catalogue)
    events, metrics = EventHub(), Metrics()
    cs = settings.cassettes
    deck = Deck(cs, notify=events.publish) if cs.dir or cs.upstream else None
    sources = deck.sources(source) if deck is not None else (source,)
    journal = Journal.of(settings.journal)
    observers = Observers(metrics, events, journal, Usage() if deck is not None else None)
    shaper, draw = Shaper(stages), OutcomeDraw(random.Random(seed))
    parts = (settings, live, source, shaper, draw, Writer(), state, metrics, events, observers, sources, deck)
    rt = Runtime(*parts, journal=journal, catalogue=catalogue)
    rt.rules = RuleBook.from_settings(settings)
    rt.responses.forwarding = deck is not None
    if hasattr(state, "attach_metrics"):
        state.attach_metrics(rt.metrics)
    journal.listeners.append(feed.to_hub(events))
    state.attach_journal(journal)
    state.attach_rules(rt.rules)
    state.attach_responses(rt.responses)
    if deck is not None:
        state.attach_cassettes(deck.take_shared)
    live.listeners.append(lambda what, endpoint: _on_change(rt, what, endpoint))
    _on_change(rt, "reset", None)
    if deck is not None:
        deck.listeners.append(
            lambda name, it: rt.events.publish(
                "cassette.recorded", endpoint=it.endpoint, cassette=name, status=it.response.status
            )
        )
    return rt


def _on_change(rt: Runtime, what: str, endpoint: str | None) -> None:
    rt.events.publish("config", what=what, endpoint=endpoint)
    glob = rt.live.glob
    rt.source.settings = rt.settings.synthetic.model_copy(
        update={"tool_call_probability": glob.tool_call_probability, "default_response": glob.default_response}
    )
