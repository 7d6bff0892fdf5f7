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


@cli.command()
@click.option(
    "--synthetic", is_flag=True, help="Answer with generated replies (the default when no cassettes are given)."
)
@click.option("--host", default=None, help="Address to bind. [default: 127.0.0.1; env HOST]")
@click.option("--port", type=int, default=None, help="Port to listen on. [default: 57593; env PORT]")
@click.option(
    "--seed", type=int, default=None, help="Make every response reproducible, ids included. [env LLMREPLAY_SEED]"
)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML settings file. [env LLMREPLAY_CONFIG]",
)
@click.option("--quiet", "-q", is_flag=True, default=None, help="Do not log one line per request.")
def serve(
    synthetic: bool, host: str | None, port: int | None, seed: int | None, config: str | None, quiet: bool | None
) -> None:
    """Run the server.

    Settings come from the embedded defaults, then the TOML file, then the
    environment (the original server's names: PORT, STREAM_*, RATE_LIMIT_*,
    TOOL_CALL_PROBABILITY, DEFAULT_RESPONSE), then these flags.
    """
    from aiohttp import web

    from llmreplay.app import create_app

    overrides: dict[str, dict[str, Any]] = {
        "server": {k: v for k, v in {"host": host, "port": port, "quiet": quiet}.items() if v is not None},
        "synthetic": {"seed": seed} if seed is not None else {},
    }
    settings = _settings(config, overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    app = create_app(settings)
    s = settings.server
    lat = settings.latency
    click.echo(
        f"llmreplay {__version__} · synthetic · http://{s.host}:{s.port}\n"
        f"  latency: first token {lat.initial_delay_ms:g} ms, gap {lat.delay_ms:g} ms ± {lat.jitter_ms:g} ms, "
        f"{lat.chunk_size} chars per chunk; seed {settings.synthetic.seed}\n"
        f"  OpenAI base URL: http://{s.host}:{s.port}/v1 · Anthropic: http://{s.host}:{s.port} · "
        f"Gemini: http://{s.host}:{s.port}\n  Ctrl-C to stop.",
        err=True,
    )
    try:
        web.run_app(app, host=s.host, port=s.port, access_log=None, print=None)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {s.host}:{s.port}: {exc.strerror or exc}") from None


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
