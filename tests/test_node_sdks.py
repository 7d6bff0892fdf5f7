"""The official Node.js SDKs (openai, @anthropic-ai/sdk, @google/genai) against a real server.

tests/node/sdk.test.mjs holds the cases (node:test); this starts the server and runs them. Skipped where
Node.js or the installed packages are missing (`npm ci --prefix tests/node` installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from llmreplay.server import BackgroundServer

from .conftest import settings

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.mark.sdk
def test_node_sdks() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules").is_dir():
        pytest.skip("the Node.js SDKs are not installed: npm ci --prefix tests/node")
    with BackgroundServer(settings()) as server:
        env = {**os.environ, "LLMREPLAY_URL": server.url, "NO_COLOR": "1"}
        # No file named: the runner finds *.test.mjs under tests/node and leaves node_modules out.
        done = subprocess.run(
            [node, "--test", "--test-reporter=tap"],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
    assert "# pass 9" in done.stdout, done.stdout[-2000:]
