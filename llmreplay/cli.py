"""The ``llmreplay`` command line."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from llmreplay import __version__
from llmreplay.config import ConfigError, Settings, load


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
                "--upstream",
                default=None,
                help="Where to forward: openai, anthropic, gemini or a base URL. [env LLMREPLAY_UPSTREAM]",
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
    "--timing", type=click.Choice(["recorded", "synthetic"]), default=None, help="Recorded pace or latency settings."
)
def serve(
    synthetic: bool,
    seed: int | None,
    record_mode: str | None,
    on_miss: str | None,
    speed: float | None,
    timing: str | None,
    **common: Any,
) -> None:
    """Run the server: synthetic replies, or replay of the cassettes in --cassettes.

    Settings come from the embedded defaults, then the TOML file, then the
    environment (the original server's names: PORT, STREAM_*, RATE_LIMIT_*,
    TOOL_CALL_PROBABILITY, DEFAULT_RESPONSE), then these flags.
    """
    cassettes = {"record_mode": record_mode, "on_miss": on_miss, "speed": speed, "timing": timing}
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
        raise click.UsageError("missing option --upstream (openai, anthropic, gemini or a base URL)")
    common["cassette_dir"] = common.get("cassette_dir") or "cassettes"
    _run(common, {}, {"record_mode": record_mode, "on_miss": "forward"})


def _run(common: dict[str, Any], extra: dict[str, dict[str, Any]], cassettes: dict[str, Any]) -> None:
    from aiohttp import web

    from llmreplay.app import RUNTIME, create_app

    server = {k: common[k] for k in ("host", "port", "quiet", "admin_token") if common.get(k) is not None}
    cassettes = {
        **cassettes,
        "dir": common.get("cassette_dir"),
        "cassette": common.get("cassette"),
        "upstream": common.get("upstream"),
    }
    overrides: dict[str, dict[str, Any]] = {
        "server": server,
        "cassettes": {k: v for k, v in cassettes.items() if v is not None},
        **extra,
    }
    settings = _settings(common.get("config"), overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    app = create_app(settings)
    s = settings.server
    lat = settings.latency
    deck = app[RUNTIME].deck
    if deck is None:
        mode = "synthetic"
        source = f"seed {settings.synthetic.seed}"
    else:
        mode = {"all": "record", "new_episodes": "replay + record", "none": "replay"}[deck.mode]
        upstream = deck.proxy.upstream if deck.proxy else "none"
        source = (
            f"cassettes {deck.folder} ({len(deck.names)} loaded, {deck.interactions} interactions); "
            f"recording into {deck.target.name if deck.records else 'nothing'}; upstream {upstream}"
        )
    click.echo(
        f"llmreplay {__version__} · {mode} · http://{s.host}:{s.port}\n"
        f"  latency: first token {lat.initial_delay_ms:g} ms, gap {lat.delay_ms:g} ms ± {lat.jitter_ms:g} ms, "
        f"{lat.chunk_size} chars per chunk; {source}\n"
        f"  OpenAI base URL: http://{s.host}:{s.port}/v1 · Anthropic: http://{s.host}:{s.port} · "
        f"Gemini: http://{s.host}:{s.port}\n  Ctrl-C to stop.",
        err=True,
    )
    if s.host not in ("127.0.0.1", "localhost", "::1") and not s.admin_token:
        click.echo(
            f"llmreplay: warning: listening on {s.host} with no admin token: anyone who can reach it can change "
            "its configuration (set --admin-token or LLMREPLAY_ADMIN_TOKEN)",
            err=True,
        )
    try:
        web.run_app(app, host=s.host, port=s.port, access_log=None, print=None)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {s.host}:{s.port}: {exc.strerror or exc}") from None


def _register() -> None:
    from llmreplay.cli_cassettes import cassettes

    cli.add_command(cassettes)


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
        click.echo(f"llmreplay: error: {exc}", err=True)
        sys.exit(2)
    except click.Abort:
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
