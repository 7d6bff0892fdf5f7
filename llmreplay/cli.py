"""The ``llmreplay`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from llmreplay import __version__, logs
from llmreplay.config import ConfigError, Settings, load
from llmreplay.urls import redacted


def _settings(config: str | None, overrides: dict[str, dict[str, Any]]) -> Settings:
    import os

    return load(config or os.environ.get("LLMREPLAY_CONFIG") or None, overrides=overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="llmreplay")
def cli() -> None:
    """llmreplay: a stand-in for the OpenAI, Anthropic and Gemini APIs.

    Serves synthetic replies, replays recorded cassettes, or records a real
    provider, all through one stream shaper with honest timing.
    """


def _common(fn: Any) -> Any:
    """Options every server command takes."""
    for opt in reversed(
        [
            click.option("--host", default=None, help="Address to bind. [default: 127.0.0.1; env HOST]"),
            click.option("--port", type=int, default=None, help="Port to listen on. [default: 57593; env PORT]"),
            click.option(
                "--config",
                "config",
                type=click.Path(dir_okay=False),
                default=None,
                help="TOML settings file. [env LLMREPLAY_CONFIG]",
            ),
            click.option("--quiet", "-q", is_flag=True, default=None, help="Do not log one line per request."),
            click.option(
                "--log-format",
                type=click.Choice(["text", "json"]),
                default=None,
                help="Log lines as text, or one JSON object per line. [default: text; env LLMREPLAY_LOG_FORMAT]",
            ),
            click.option(
                "--workers",
                type=int,  # bounded by the settings field, like every other source of the value
                default=None,
                help="Worker processes on the one port (SO_REUSEPORT, Linux only). [default: 1; env LLMREPLAY_WORKERS]",
            ),
            click.option(
                "--uvloop/--no-uvloop",
                default=None,
                help="Use uvloop when installed (pip install llmreplay[fast]). [default: on; env LLMREPLAY_UVLOOP]",
            ),
            click.option(
                "--state",
                default=None,
                help="Share rate limits, scenarios, config and metrics: redis://host:port/db. [env LLMREPLAY_STATE]",
            ),
            click.option(
                "--admin-token",
                default=None,
                help="Require this bearer token on the admin API and /ws. [env LLMREPLAY_ADMIN_TOKEN]",
            ),
            click.option(
                "--cassettes",
                "cassette_dir",
                type=click.Path(file_okay=False),
                default=None,
                help="Folder of cassettes to replay and record into. [env LLMREPLAY_CASSETTES]",
            ),
            click.option("--cassette", default=None, help="Cassette that new recordings go into. [default: recorded]"),
            click.option(
                "--rules",
                "rules_file",
                type=click.Path(dir_okay=False),
                default=None,
                help="Rules file of scripted replies (YAML, TOML or JSON). [env LLMREPLAY_RULES]",
            ),
            click.option(
                "--upstream",
                default=None,
                help=(
                    "Where to forward: openai, anthropic, gemini, azure:RESOURCE, vertex:PROJECT/LOCATION, "
                    "bedrock:REGION or a base URL. [env LLMREPLAY_UPSTREAM]"
                ),
            ),
        ]
    ):
        fn = opt(fn)
    return fn


@cli.command()
@click.option(
    "--synthetic", is_flag=True, help="Answer with generated replies (the default when no cassettes are given)."
)
@click.option(
    "--seed", type=int, default=None, help="Make every response reproducible, ids included. [env LLMREPLAY_SEED]"
)
@_common
@click.option(
    "--record-mode",
    type=click.Choice(["none", "once", "new_episodes", "all"]),
    default=None,
    help="vcrpy's record modes. [default: none]",
)
@click.option(
    "--on-miss",
    type=click.Choice(["error", "synthetic", "forward"]),
    default=None,
    help="What a request no cassette matches gets. [default: error]",
)
@click.option("--speed", type=float, default=None, help="Replay pace: 2 twice as fast, 0 as fast as possible.")
@click.option(
    "--usage-report",
    default=None,
    metavar="FILE",
    help="Write which recordings were used and which requests missed to FILE when stopping (for 'cassettes "
    "stale'). [env LLMREPLAY_USAGE_REPORT]",
)
@click.option(
    "--timing", type=click.Choice(["recorded", "synthetic"]), default=None, help="Recorded pace or latency settings."
)
@click.option(
    "--watch",
    is_flag=True,
    default=None,
    help="Read cassette files again when they change, and load new ones in --cassettes. [env LLMREPLAY_WATCH]",
)
def serve(
    synthetic: bool,
    seed: int | None,
    record_mode: str | None,
    on_miss: str | None,
    speed: float | None,
    timing: str | None,
    usage_report: str | None,
    watch: bool | None,
    **common: Any,
) -> None:
    """Run the server: synthetic replies, or replay of the cassettes in --cassettes.

    Settings come from the embedded defaults, then the TOML file, then the
    environment (the original server's names: PORT, STREAM_*, RATE_LIMIT_*,
    TOOL_CALL_PROBABILITY, DEFAULT_RESPONSE), then these flags.
    """
    cassettes = {"record_mode": record_mode, "on_miss": on_miss, "speed": speed, "timing": timing, "watch": watch}
    cassettes["usage_report"] = usage_report
    if synthetic and common.get("cassette_dir"):
        raise click.UsageError("--synthetic and --cassettes exclude each other (use --on-miss synthetic)")
    _run(common, {"synthetic": {"seed": seed} if seed is not None else {}}, cassettes)


@cli.command()
@_common
@click.option(
    "--record-mode",
    type=click.Choice(["once", "new_episodes", "all"]),
    default="all",
    show_default=True,
    help="all: forward and record every call; new_episodes: replay what is recorded, record the rest; "
    "once: record only if the cassette does not exist yet.",
)
def record(record_mode: str, **common: Any) -> None:
    """Record a real provider: a proxy that forwards every call to --upstream and saves it.

    Point your SDK at this server instead of the provider; credentials pass
    through untouched and never reach the cassette.
    """
    if not common.get("upstream"):
        raise click.UsageError(
            "missing option --upstream (openai, anthropic, gemini, azure:RESOURCE, vertex:PROJECT/LOCATION, "
            "bedrock:REGION or a base URL)"
        )
    common["cassette_dir"] = common.get("cassette_dir") or "cassettes"
    _run(common, {}, {"record_mode": record_mode, "on_miss": "forward"})


def _run(common: dict[str, Any], extra: dict[str, dict[str, Any]], cassettes: dict[str, Any]) -> None:

    keys = ("host", "port", "quiet", "admin_token", "workers", "uvloop", "state", "log_format")
    server = {k: common[k] for k in keys if common.get(k) is not None}
    cassettes = {
        **cassettes,
        "dir": common.get("cassette_dir"),
        "cassette": common.get("cassette"),
        "upstream": common.get("upstream"),
    }
    overrides: dict[str, dict[str, Any]] = {
        "server": server,
        "cassettes": {k: v for k, v in cassettes.items() if v is not None},
        "rules": {"file": common["rules_file"]} if common.get("rules_file") else {},
        **extra,
    }
    settings = _settings(common.get("config"), overrides)
    logs.configure(settings.server.log_format)
    cs = settings.cassettes
    if cs.dir and cs.record_mode == "none" and not Path(cs.dir).is_dir():
        # Replaying from a folder that is not there would start with nothing loaded and miss every call.
        raise ConfigError(f"--cassettes {cs.dir}: no such folder")
    if settings.rules.file:
        from llmreplay.rules import RuleBook

        RuleBook.from_settings(settings)  # a bad rules file stops the start here, before any worker starts
    s = settings.server
    if s.workers > 1:
        from llmreplay import workers

        workers.check_supported(s.workers)
        if settings.cassettes.record_mode != "none" and (settings.cassettes.dir or settings.cassettes.upstream):
            # A cassette file takes one recorder at a time (an exclusive lock), so a second worker could not record.
            raise ConfigError(f"--workers {s.workers} cannot record (one cassette has one writer); use --workers 1")
        code = workers.supervise(settings, _banner)
        if code:
            sys.exit(code)
        return
    from llmreplay import serving

    app = serving.build_app(settings)
    mode, source = serving.summary(app)
    # Printed once listening, so that whoever waits for the banner can connect.
    serving.serve(app, s.host, s.port, drain_s=s.drain_s, on_listening=lambda: _banner(settings, mode, source))


def _banner(settings: Settings, mode: str, source: str, pids: list[int] | None = None) -> None:
    """The start-up lines, printed once (by the supervisor under --workers)."""
    s = settings.server
    lat = settings.latency
    if pids:
        # With shared state, only the event feed stays per worker.
        per_worker = (
            "per worker: the dashboard's event feed"
            if s.state
            else f"per worker, as nothing is shared between them: {_per_worker()}"
        )
        workers = (
            f"\n  workers: {len(pids)} processes (pids {', '.join(map(str, pids))}) sharing port {s.port} "
            f"through SO_REUSEPORT (Linux only)\n  {per_worker}; /metrics (Prometheus) sums all workers"
        )
    else:
        workers = ""
    base = f"http://{s.host}:{s.port}"
    dim, bold = {"dim": True}, {"bold": True}
    lines = [
        click.style("llmreplay ", bold=True)
        + click.style(__version__, **dim)
        + " · "
        + click.style(mode, fg="green", bold=True)
        + " · "
        + click.style(base, fg="cyan", bold=True),
        f"  {click.style('source', **bold)}     {source}",
        f"  {click.style('latency', **bold)}    first token {lat.initial_delay_ms:g} ms, gap {lat.delay_ms:g} ms "
        f"± {lat.jitter_ms:g} ms, {lat.chunk_size} chars per chunk",
        f"  {click.style('base URLs', **bold)}  OpenAI {base}/v1 · Anthropic {base} · Gemini {base}",
        f"  {click.style('dashboard', **bold)}  "
        + click.style(f"{base}/dashboard", fg="cyan")
        + f" · admin API {base}/api · metrics {base}/metrics",
    ]
    if s.state:
        lines.append(
            f"  {click.style('state', **bold)}      shared through {redacted(s.state)}: rate limits, scenarios, "
            f"live config, JSON metrics (fail {s.state_on_error} when unreachable)"
        )
    if workers:
        lines.append(workers.lstrip("\n"))
    lines.append(
        click.style(f"  Ctrl-C to stop (in-flight requests get {s.drain_s:g} s; twice to stop at once).", **dim)
    )
    # click drops the colours when stderr is not a terminal (CI logs, pipes).
    click.echo("\n".join(lines), err=True)
    if s.host not in ("127.0.0.1", "localhost", "::1") and not s.admin_token:
        click.echo(
            f"llmreplay: warning: listening on {s.host} with no admin token: anyone who can reach it can change "
            "its configuration (set --admin-token or LLMREPLAY_ADMIN_TOKEN)",
            err=True,
        )


def _per_worker() -> str:
    from llmreplay.workers import PER_WORKER

    return PER_WORKER


def _register() -> None:
    from llmreplay.cli_cassettes import cassettes
    from llmreplay.cli_rules import rules

    cli.add_command(cassettes)
    cli.add_command(rules)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors are one line on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="llmreplay", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "llmreplay"
        click.echo(f"llmreplay: error: {exc.format_message()} (see '{cmd} --help')", err=True)
        sys.exit(2)
    except ConfigError as exc:
        for line in str(exc).splitlines():  # one line per problem (a rules file may have several)
            click.echo(f"llmreplay: error: {line}", err=True)
        sys.exit(2)
    except click.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
