"""instructor's JSON modes, and its Anthropic tools mode, against a real server (issue 17): 100 of 100 replies
parse into a model with a nested one, each from one request.

instructor cannot be installed beside the test environment's openai (requirements/instructor.in says why), so
it runs in .venv-instructor, which scripts/test makes from requirements/instructor.lock; the runs are in
instructor_modes.py, run with that environment's python. Skipped where the environment is absent (pytest run
without scripts/test).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.frameworks.conftest import RUNS

pytestmark = pytest.mark.sdk

HERE = Path(__file__).resolve().parent
PYTHON = HERE.parents[1] / ".venv-instructor" / "bin" / "python"

# How each mode asks for JSON: JSON is issue 17's case, the JSON Schema in the system prompt and
# response_format json_object; MD_JSON and ANTHROPIC_JSON have only the prompt, JSON_SCHEMA sends the schema as
# response_format json_schema, and ANTHROPIC_TOOLS as a tool.
ASKED = {
    "JSON": "response_format json_object, schema in system True",
    "MD_JSON": "response_format None, schema in system True",
    "JSON_SCHEMA": "response_format json_schema, schema in system False",
    "ANTHROPIC_JSON": "response_format None, schema in system True",
    "ANTHROPIC_TOOLS": "response_format None, schema in system False",
}


def test_instructor_modes() -> None:
    if not PYTHON.exists():
        pytest.skip("instructor's environment .venv-instructor is absent: scripts/test makes it")
    # Only 127.0.0.1 is reached: no proxy is passed on.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with BackgroundServer(settings()) as server:
        done = subprocess.run(
            [str(PYTHON), str(HERE / "instructor_modes.py"), server.url, str(RUNS)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-4000:]
    # Compared whole, so a failure shows every mode and every way its runs ended.
    expected = {mode: {"outcomes": {"parsed": RUNS}, "requests": {asked: RUNS}} for mode, asked in ASKED.items()}
    assert json.loads(done.stdout) == expected
