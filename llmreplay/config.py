"""Settings: each option declared once, with its help text, environment name and default.

Precedence: defaults ← TOML config file ← environment ← CLI flags. The original
Mock LLM Server's environment variable names are kept (``PORT``, ``STREAM_*``,
``RATE_LIMIT_*``, ``TOOL_CALL_PROBABILITY``, ``DEFAULT_RESPONSE``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from llmreplay.errors import ConfigError


def _opt(default: Any, help: str, env: str | None = None, **kw: Any) -> Any:
    extra = {"env": env} if env else {}
    return Field(default, description=help, json_schema_extra=extra, **kw)


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


class LatencySettings(_Section):
    initial_delay_ms: float = _opt(300, "Time to first token, in ms.", "STREAM_INITIAL_DELAY_MS", ge=0)
    delay_ms: float = _opt(50, "Delay between streamed chunks, in ms.", "STREAM_DELAY_MS", ge=0)
    jitter_ms: float = _opt(30, "Random extra delay per chunk, from 0 to this many ms.", "STREAM_JITTER_MS", ge=0)
    chunk_size: int = _opt(10, "Characters of text per streamed chunk.", "STREAM_CHUNK_SIZE", ge=1)


class RateLimitSettings(_Section):
    enabled: bool = _opt(False, "Enable rate limiting.", "RATE_LIMIT_ENABLED")
    mode: Literal[
        "always", "random", "after_n", "none", "fixed-window", "sliding-window", "token-bucket", "leaky-bucket"
    ] = _opt(
        "after_n",
        "Rate-limit strategy: the original's always, random or after_n, or any of GET /api/rate-limit/strategies.",
        "RATE_LIMIT_MODE",
    )
    after_n: int = _opt(5, "Requests that succeed before every request gets 429 (after_n).", "RATE_LIMIT_AFTER_N", ge=0)
    random_probability: float = _opt(
        0.3, "Probability of a 429 per request (random).", "RATE_LIMIT_RANDOM_PROBABILITY", ge=0, le=1
    )
    requests: int = _opt(10, "Requests allowed per window.", "RATE_LIMIT_REQUESTS", ge=1)
    window_ms: int = _opt(60000, "Rate-limit window, in ms.", "RATE_LIMIT_WINDOW_MS", ge=1)


class SyntheticSettings(_Section):
    tool_call_probability: float = _opt(
        0.75, "Probability of a tool call when tools are offered.", "TOOL_CALL_PROBABILITY", ge=0, le=1
    )
    default_response: str | None = _opt(
        None, "Fixed reply text; unset: half from a pool of answers, half lorem ipsum.", "DEFAULT_RESPONSE"
    )
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
        None, "Where to forward: openai, anthropic, gemini or a base URL.", "LLMREPLAY_UPSTREAM"
    )
    cassette: str = _opt("recorded", "Cassette that new recordings go into.", "LLMREPLAY_CASSETTE")
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


class Settings(_Section):
    """All of llmreplay's settings."""

    server: ServerSettings = ServerSettings()
    latency: LatencySettings = LatencySettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    synthetic: SyntheticSettings = SyntheticSettings()
    cassettes: CassetteSettings = CassetteSettings()


def env_table() -> Iterator[tuple[str, str, str, pydantic.fields.FieldInfo]]:
    """(environment name, section, field, field info) for every option that has one."""
    for section, sfield in Settings.model_fields.items():
        model = sfield.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        for name, info in model.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get("env"):
                yield str(extra["env"]), section, name, info


def _describe(info: pydantic.fields.FieldInfo) -> str:
    """What values a field allows, in a few words."""
    ann = info.annotation
    args = getattr(ann, "__args__", ())
    if getattr(ann, "__origin__", None) is Literal:
        return "one of " + ", ".join(map(str, args))
    kinds = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    kind = next((kinds[t] for t in (ann, *args) if t in kinds), "a value")
    lo = next((getattr(m, a) for m in info.metadata for a in ("ge", "gt") if hasattr(m, a)), None)
    hi = next((getattr(m, a) for m in info.metadata for a in ("le", "lt") if hasattr(m, a)), None)
    if lo is not None and hi is not None:
        return f"{kind} from {lo} to {hi}"
    if lo is not None:
        return f"{kind} ≥ {lo}"
    return kind


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
        _validate(data, lambda s, f: f"{path}: [{s}] {f}")

    env = os.environ if environ is None else environ
    for name, section, fname, info in env_table():
        raw = env.get(name)
        if raw is None or (raw == "" and fname != "default_response"):
            continue
        candidate = _merge(data, {section: {fname: raw}})
        try:
            Settings.model_validate(candidate)
        except pydantic.ValidationError:
            raise ConfigError(f"{name}={raw!r}: expected {_describe(info)}") from None
        data = candidate

    if overrides:
        data = _merge(data, {k: v for k, v in overrides.items() if v})
        _validate(data, lambda s, f: f"--{f.replace('_', '-')}")
    return Settings.model_validate(data)


def _validate(data: Mapping[str, Any], name: Any) -> None:
    try:
        Settings.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = [str(x) for x in err["loc"]]
        section, field = [*loc, "", ""][:2]
        raise ConfigError(f"{name(section, field)}: {err['msg']}") from None
