"""Install the peers at their pinned versions into the benchmark's own folder, once.

npm packages go into ``<root>/npm/<name>@<version>/node_modules`` (``npm install --prefix``; a scope's ``/``
becomes ``+``), PyPI packages each into a venv of their own, ``<root>/pypi/<name>@<version>``, made with this
interpreter. ``<root>`` is
``$XDG_CACHE_HOME/llmreplay-bench/peers`` (``~/.cache/...``) unless ``--peers-dir`` says otherwise: outside
the repository, kept between runs. A folder counts as installed once its ``.installed`` marker is written.

    python -m benchmarks.peers_install [--peers aimock,llmock] [--peers-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.peers import Peer, select

INSTALL_TIMEOUT_S = 180
"""Each install takes 10-30 s here; offline, npm and pip retry for minutes before giving up."""
MARKER = ".installed"


class PeerError(Exception):
    """A peer could not be installed or started; the message is what the table shows."""


def default_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "llmreplay-bench" / "peers"


def home_of(peer: Peer, root: Path) -> Path:
    return root / peer.registry / f"{peer.name.replace('/', '+')}@{peer.version}"


def _run(cmd: list[str], what: str) -> None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerError(f"{what}: {exc}") from None
    if out.returncode != 0:
        lines = [x for x in (out.stderr or out.stdout).splitlines() if x.strip() and "complete log" not in x]
        # npm's first error line names the cause (``npm error code ECONNREFUSED``), pip's last one does.
        said = next((x for x in lines if x.startswith("npm error")), lines[-1] if lines else "no output")
        raise PeerError(f"{what} exited with {out.returncode}: {said[:200]}")


def install(peer: Peer, root: Path) -> Path:
    """The peer's install folder, installing it first if needed; raises PeerError saying why it cannot."""
    home = home_of(peer, root)
    if peer.registry == "local" or (home / MARKER).exists():
        return home
    shutil.rmtree(home, ignore_errors=True)  # a half-done earlier attempt
    home.mkdir(parents=True)
    spec = f"{peer.name}@{peer.version}"
    if peer.registry == "npm":
        npm = shutil.which("npm")
        if not npm:
            raise PeerError("npm is not installed")
        (home / "package.json").write_text('{"private": true}\n')
        _run([npm, "install", "--prefix", str(home), "--no-audit", "--no-fund", "--save-exact", spec], "npm install")
    elif peer.registry == "pypi":
        _run([sys.executable, "-m", "venv", str(home)], "python -m venv")
        pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, f"{peer.name}=={peer.version}"], "pip install")
    else:
        raise PeerError(f"unknown registry {peer.registry!r}")
    (home / MARKER).write_text(spec + "\n")
    return home


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peers", default="all", help="comma-separated peer names (default: all)")
    ap.add_argument("--peers-dir", type=Path, default=default_root())
    args = ap.parse_args(argv)
    failed = 0
    for peer in select(args.peers):
        try:
            print(f"{peer.name}@{peer.version}: {install(peer, args.peers_dir)}")
        except PeerError as exc:
            failed += 1
            print(f"{peer.name}@{peer.version}: not installed: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
