"""Every Python and curl snippet in the README runs against a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
DEFAULT = "http://127.0.0.1:57593"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), re.S)


@pytest.mark.parametrize(
    "code", [c for c in blocks("python") if not c.startswith("# file: ")], ids=lambda c: c.splitlines()[0][:40]
)
def test_python_snippet_runs(server, make_server, code, capsys):
    first = code.splitlines()[0]
    if first.startswith("# replays: "):
        # A replay example: a server of its own on the repository's cassette folder, at full speed.
        folder = README.parent / first.removeprefix("# replays: ").strip()
        server = make_server(cassettes={"dir": str(folder), "speed": 0})
    exec(compile(code.replace(DEFAULT, server.url), "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def curl_blocks() -> list[str]:
    return [b for b in blocks("bash") if "curl " in b]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("code", curl_blocks(), ids=lambda c: c.splitlines()[0][:40])
def test_curl_snippets_run(make_server, code):
    server = make_server()  # a server of its own: admin snippets change its configuration
    out = subprocess.run(["bash", "-c", code.replace(DEFAULT, server.url)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()
    assert "Traceback" not in out.stdout
    if '"model"' in code:
        assert '"chat.completion"' in out.stdout and "message_stop" in out.stdout and "finishReason" in out.stdout
    else:
        first = out.stdout.split("\n")[0]
        # Admin answers are bodies, not errors (an action's answer has a message too, beside its status).
        assert '"message"' not in first or '"status": "ok"' in first
