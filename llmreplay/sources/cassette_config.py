"""How the cassette settings say to scrub and to match: recording and replay build theirs from here alike, so a
request scrubbed when recorded meets its recording when it comes again."""

from __future__ import annotations

from llmreplay.cassettes.keys import DEFAULT_IGNORE, MatchConfig
from llmreplay.cassettes.scrub import DEFAULT_SECRET_HEADERS, ScrubConfig
from llmreplay.config import CassetteSettings


def scrub_config(cfg: CassetteSettings) -> ScrubConfig:
    return ScrubConfig(
        headers=(*DEFAULT_SECRET_HEADERS, *cfg.scrub_headers),
        body_paths=tuple(cfg.scrub_body_paths),
        patterns=tuple(cfg.scrub_patterns),
        personal=cfg.scrub_personal,
    )


def match_config(cfg: CassetteSettings) -> MatchConfig:
    """Raises ``ValueError`` naming a bad match part, normaliser or scrub pattern."""
    return MatchConfig(
        match_on=tuple(cfg.match_on),
        ignore=(*DEFAULT_IGNORE, *cfg.ignore),
        stream_in_key=cfg.stream_in_key,
        repeat=cfg.repeat,
        scrub=scrub_config(cfg),
        normalise=cfg.normalise,
        normalisers=tuple(cfg.normalisers),
        significant=tuple(cfg.significant),
        fallback=cfg.fallback,
    )
