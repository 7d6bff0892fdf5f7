"""Settings: each option declared once, with its help text, environment name, default and bounds.

Precedence: defaults ← TOML config file ← environment ← CLI flags. The original
Mock LLM Server's environment variable names are kept (``PORT``, ``STREAM_*``,
``RATE_LIMIT_*``, ``TOOL_CALL_PROBABILITY``, ``DEFAULT_RESPONSE``).

The ``[latency]`` and ``[rate_limit]`` sections are the live configuration's own models
(:mod:`llmreplay.configmodels`), so start-up and the admin API check the same fields, bounds and all.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, model_validator

from llmreplay.catalogue.spec import FamilySpec
from llmreplay.configmodels import GlobalConfig, LatencyConfig, RateLimitConfig
from llmreplay.errors import ConfigError
from llmreplay.options import describe, explain, option_of
from llmreplay.options import option as _opt

__all__ = [
    "CassetteSettings",
    "ConfigError",
    "JournalSettings",
    "LatencySettings",
    "ModelSettings",
    "RateLimitSettings",
    "RulesSettings",
    "ServerSettings",
    "Settings",
    "SyntheticSettings",
    "env_table",
    "load",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ServerSettings(_Section):
    host: str = _opt("127.0.0.1", "Address to bind.", "HOST")
    port: int = _opt(57593, "Port to listen on.", "PORT", ge=0, le=65535)
    quiet: bool = _opt(False, "Do not log one line per request.", "LLMREPLAY_QUIET")
    log_format: Literal["text", "json"] = _opt(
        "text", "Log lines as text, or one JSON object per line.", "LLMREPLAY_LOG_FORMAT"
    )
    max_body_mb: float = _opt(32, "Largest request body accepted, in MiB.", "LLMREPLAY_MAX_BODY_MB", gt=0)
    body_timeout_s: float = _opt(
        30, "Seconds a request body may take to arrive; a slower one gets 408.", "LLMREPLAY_BODY_TIMEOUT_S", gt=0
    )
    header_timeout_s: float = _opt(
        5,
        "Seconds a new connection's request line and headers (and each later request's on it) may take to "
        "arrive; a slower one is closed.",
        "LLMREPLAY_HEADER_TIMEOUT_S",
        gt=0,
        le=3600,
    )
    keepalive_timeout_s: float = _opt(
        75, "Seconds an idle keep-alive connection is kept open.", "LLMREPLAY_KEEPALIVE_TIMEOUT_S", gt=0, le=86400
    )
    max_connections: int = _opt(
        0,
        "Most connections open at once; one more is closed at once, with a log line. 0: the open-file limit "
        "less a margin for cassettes, logs and the upstream.",
        "LLMREPLAY_MAX_CONNECTIONS",
        ge=0,
    )
    max_ws_clients: int = _opt(
        128,
        "Most /ws (dashboard and event feed) clients at once; one more gets a 503, with a log line. Each may hold "
        "up to 320 KiB unsent before it is dropped, so this bounds their memory.",
        "LLMREPLAY_MAX_WS_CLIENTS",
        ge=1,
        le=100_000,
    )
    admin_token: str | None = _opt(
        None,
        "Bearer token the admin API, /ws and the dashboard's data require (API endpoints never do).",
        "LLMREPLAY_ADMIN_TOKEN",
    )
    workers: int = _opt(
        1,
        "Worker processes sharing the port (SO_REUSEPORT, Linux only); without shared state each keeps its own.",
        "LLMREPLAY_WORKERS",
        ge=1,
        le=256,
    )
    drain_s: float = _opt(
        10, "On SIGTERM or Ctrl-C, seconds in-flight requests and streams get to finish.", "LLMREPLAY_DRAIN_S", ge=0
    )
    uvloop: bool = _opt(
        True, "Use uvloop's event loop when installed (pip install llmreplay[fast]).", "LLMREPLAY_UVLOOP"
    )
    state: str | None = _opt(
        None,
        "Shared state for workers and replicas: redis://host:port/db (rate limits, scenarios, live config, "
        "metrics); unset keeps it in this process.",
        "LLMREPLAY_STATE",
    )
    state_on_error: Literal["open", "closed"] = _opt(
        "open",
        "When the shared state cannot be reached: open admits requests (no rate limit), closed answers 503.",
        "LLMREPLAY_STATE_ON_ERROR",
    )
    metrics_require_token: bool = _opt(
        False, "Whether GET /metrics needs the admin token too (when one is set).", "LLMREPLAY_METRICS_REQUIRE_TOKEN"
    )


LatencySettings = LatencyConfig
"""The ``[latency]`` section: the live latency model itself."""

RateLimitSettings = RateLimitConfig
"""The ``[rate_limit]`` section: the live rate-limit model itself."""


class SyntheticSettings(_Section):
    # The live fields' declarations, copied: the admin API changes these same values at run time.
    tool_call_probability: float = copy.copy(GlobalConfig.model_fields["tool_call_probability"])
    tool_call_after_result_probability: float = _opt(
        0.0,
        "Probability of another tool call when the latest turn is a tool's result (a real model answers it in "
        "text, so agent loops end).",
        "LLMREPLAY_TOOL_CALL_AFTER_RESULT_PROBABILITY",
        ge=0,
        le=1,
    )
    default_response: str | None = copy.copy(GlobalConfig.model_fields["default_response"])
    seed: int | None = _opt(None, "Seed that makes every response reproducible, ids included.", "LLMREPLAY_SEED")


class CassetteSettings(_Section):
    dir: str | None = _opt(None, "Folder of cassettes to replay, and to record into.", "LLMREPLAY_CASSETTES")
    record_mode: Literal["none", "once", "new_episodes", "all"] = _opt(
        "none",
        "none: replay only; once: record a cassette that does not exist yet; new_episodes: record misses; "
        "all: record everything (vcrpy's meanings).",
        "LLMREPLAY_RECORD_MODE",
    )
    on_miss: Literal["error", "synthetic", "forward"] = _opt(
        "error",
        "What a request no cassette matches gets: the provider's error naming the closest recording, "
        "a synthetic reply, or the upstream's answer (recorded per the record mode).",
        "LLMREPLAY_ON_MISS",
    )
    upstream: str | None = _opt(
        None,
        "Where to forward: openai, anthropic, gemini, azure:RESOURCE, vertex:PROJECT/LOCATION, bedrock:REGION or a "
        "base URL.",
        "LLMREPLAY_UPSTREAM",
    )
    cassette: str = _opt("recorded", "Cassette that new recordings go into.", "LLMREPLAY_CASSETTE")
    watch: bool = _opt(
        False,
        "Read cassette files again when they change on disk, and load new ones in the folder (polled twice a "
        "second, off the data path).",
        "LLMREPLAY_WATCH",
    )
    usage_report: str | None = _opt(
        None,
        "File the cassette usage report (recordings played, requests missed) is written to when the server stops; "
        "llmreplay cassettes stale --usage reads it.",
        "LLMREPLAY_USAGE_REPORT",
    )
    speed: float = _opt(1.0, "Replay pace: 2 is twice as fast, 0 as fast as possible.", "LLMREPLAY_SPEED", ge=0)
    timing: Literal["recorded", "synthetic"] = _opt(
        "recorded", "Replay at the recorded pace, or with the latency settings.", "LLMREPLAY_TIMING"
    )
    match_on: tuple[str, ...] = _opt(("method", "path", "body"), "Request parts that must match (vcrpy's match_on).")
    ignore: tuple[str, ...] = _opt((), "More JSON body fields (dotted paths) left out of matching.")
    stream_in_key: bool = _opt(False, "Whether a stream and a non-stream request are different matches.")
    repeat: Literal["last", "cycle", "none"] = _opt(
        "last", "After the recorded answers of a request are used: repeat the last, start over, or miss."
    )
    scrub_headers: tuple[str, ...] = _opt((), "More header names whose values never reach a cassette.")
    scrub_body_paths: tuple[str, ...] = _opt((), "JSON body fields (dotted paths) replaced before saving.")
    scrub_patterns: tuple[str, ...] = _opt((), "Regular expressions replaced wherever they appear before saving.")
    scrub_personal: bool = _opt(
        True, "Replace e-mail addresses, phone numbers and card-like numbers before saving (and before matching)."
    )
    normalise: bool = _opt(
        True,
        "Match generated ids (call_, toolu_, msg_, resp_, UUIDs) and timestamps (ISO, epoch seconds) as placeholders.",
    )
    normalisers: tuple[str, ...] = _opt(
        (), "More normalisers for matching, each 'PATH REGEX -> PLACEHOLDER' (PATH: dotted, * any key, $ all)."
    )
    significant: tuple[str, ...] = _opt(
        (), "More body fields that must match even when the recording lacks them (unknown ones are ignored)."
    )
    fallback: bool = _opt(
        False,
        "When nothing matches exactly, answer from a recording with the same model, last user message and tool "
        "results (said in the x-llmreplay-cassette header and the journal).",
    )
    max_recording_mb: int = _opt(
        64,
        "Largest answer recorded, in MiB; a longer one is still relayed whole but not recorded (one warning line).",
        "LLMREPLAY_MAX_RECORDING_MB",
        ge=1,
        le=16384,
    )


class RulesSettings(_Section):
    file: str | None = _opt(
        None,
        "Rules file (YAML, TOML or JSON) of scripted replies, asked before cassettes and synthesis.",
        "LLMREPLAY_RULES",
    )


class JournalSettings(_Section):
    size: int = _opt(
        2000, "Recent exchanges the request journal keeps (0 keeps none).", "LLMREPLAY_JOURNAL_SIZE", ge=0, le=1_000_000
    )
    max_body_kb: int = _opt(
        256,
        "Largest request body the journal keeps whole, in KiB; a longer one is kept cut to this size.",
        "LLMREPLAY_JOURNAL_MAX_BODY_KB",
        ge=0,
        le=32768,
    )


class ModelSettings(_Section):
    enforce_limits: bool = _opt(
        True,
        "Refuse a prompt over its model's context window, and an output limit over its maximum, with the "
        "provider's own 400 (models in the catalogue only).",
        "LLMREPLAY_ENFORCE_MODEL_LIMITS",
    )
    families: dict[str, FamilySpec] = _opt(
        {}, "Model families by glob pattern: a shipped pattern's fields overridden, or new families (docs/models.md)."
    )


class Settings(_Section):
    """All of llmreplay's settings."""

    server: ServerSettings = ServerSettings()
    latency: LatencySettings = LatencySettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    synthetic: SyntheticSettings = SyntheticSettings()
    cassettes: CassetteSettings = CassetteSettings()
    rules: RulesSettings = RulesSettings()
    journal: JournalSettings = JournalSettings()
    models: ModelSettings = ModelSettings()

    @model_validator(mode="before")
    @classmethod
    def _file_keys(cls, data: Any) -> Any:
        return _canonical(data) if isinstance(data, Mapping) else data


def _sections() -> Iterator[tuple[str, type[BaseModel]]]:
    for section, sfield in Settings.model_fields.items():
        model = sfield.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        yield section, model


def _canonical(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the settings file's keys (``rate_limit.mode``) renamed to the fields they set
    (``strategy``), so that a file, the environment and flags can each set the same field."""
    out = dict(data)
    for section, model in _sections():
        values = out.get(section)
        if not isinstance(values, Mapping):
            continue
        renamed = dict(values)
        for name, info in model.model_fields.items():
            key = option_of(info).key
            if key is None or key not in renamed:
                continue
            if name in renamed:
                raise ValueError(f"[{section}] {key} and {name} are the same setting; give one")
            renamed[name] = renamed.pop(key)
        out[section] = renamed
    return out


def env_table() -> Iterator[tuple[str, str, str, pydantic.fields.FieldInfo]]:
    """(environment name, section, field, field info) for every option that has one."""
    for section, model in _sections():
        for name, info in model.model_fields.items():
            env = option_of(info).env
            if env:
                yield env, section, name, info


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out.get(k, {}), v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _check_section_keys(data: Mapping[str, Any], origin: str) -> None:
    for section, values in data.items():
        if section not in Settings.model_fields:
            allowed = ", ".join(Settings.model_fields)
            raise ConfigError(f"{origin}: unknown section [{section}] (allowed: {allowed})")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{origin}: [{section}] must be a table")


def load(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build the settings from defaults, a TOML file, the environment and flag overrides.

    Raises :class:`ConfigError` with one line naming the bad option and what it allows.
    """
    data: dict[str, Any] = {}
    if config_file is not None:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        _check_section_keys(data, str(path))
        try:
            data = _canonical(data)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        _validate(data, lambda section, key: f"{path}: [{section}] {key}", " = ")

    env = os.environ if environ is None else environ
    for name, section, fname, info in env_table():
        raw = env.get(name)
        if raw is None or (raw == "" and fname != "default_response"):
            continue
        candidate = _merge(data, {section: {fname: raw}})
        try:
            Settings.model_validate(candidate)
        except pydantic.ValidationError:
            raise ConfigError(f"{name}={raw!r}: expected {describe(info)}") from None
        data = candidate

    if overrides:
        data = _merge(data, {k: v for k, v in overrides.items() if v})
        _validate(data, lambda section, key: f"--{key.replace('_', '-')}", " ")
    return Settings.model_validate(data)


def _validate(data: Mapping[str, Any], where: Callable[[str, str], str], sep: str) -> None:
    """Raise :class:`ConfigError` for the first bad value, named by ``where(section, key)``, then ``sep``
    and the value as it was given."""
    try:
        Settings.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        section, name = [*(str(x) for x in err["loc"]), "", ""][:2]
        model = dict(_sections()).get(section)
        info = model.model_fields.get(name) if model is not None else None
        key = (option_of(info).key if info is not None else None) or name
        if len(err["loc"]) > 2:
            # Inside a table of tables ([models.families."gpt-4o*"]): name the entry and field, in pydantic's words.
            inner = ".".join(str(x) for x in err["loc"][2:])
            raise ConfigError(f"{where(section, key)} {inner}{sep}{err['input']!r}: {err['msg']}") from None
        shown = f"{sep}{err['input']!r}" if info is not None and "input" in err else ""
        raise ConfigError(f"{where(section, key)}{shown}: {explain(Settings, err)}") from None
