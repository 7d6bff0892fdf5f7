"""No silent overwrite: an import onto an existing cassette needs --force (replace) or --merge (add), and
``serve --cassettes DIR`` with no such folder stops with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llmreplay.cassettes import store
from tests.cassettes.test_cli_cassettes import imported, run, vcr_yaml


def _one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmreplay: error:"), err
    return lines[0]


def test_import_vcr_onto_an_existing_cassette_is_refused_then_forced_or_merged(tmp_path: Path) -> None:
    path = imported(tmp_path)
    before = path.read_bytes()
    again = ("import-vcr", str(tmp_path / "my_test.yaml"), "--cassettes", str(tmp_path / "c"))
    code, _, err = run(*again)
    line = _one_line_error(code, err)
    assert line == f"llmreplay: error: {path}: cassette exists; use --force to replace it or --merge to add to it"
    assert path.read_bytes() == before  # untouched

    code, out, _ = run(*again, "--merge")
    assert code == 0 and out.strip() == f"{path}: 4 interactions"
    assert len(store.load(path).interactions) == 4

    code, out, _ = run(*again, "--force")
    assert code == 0 and out.strip() == f"{path}: 2 interactions"
    assert len(store.load(path).interactions) == 2

    _one_line_error(*run(*again, "--force", "--merge")[::2])


def test_a_refused_batch_writes_nothing(tmp_path: Path) -> None:
    imported(tmp_path)  # c/my_test.msgpack
    new = vcr_yaml(tmp_path / "fresh.yaml")
    code, _, err = run("import-vcr", str(new), str(tmp_path / "my_test.yaml"), "--cassettes", str(tmp_path / "c"))
    _one_line_error(code, err)
    assert not (tmp_path / "c" / "fresh.msgpack").exists()


def test_import_json_onto_an_existing_cassette_is_refused_then_forced_or_merged(tmp_path: Path) -> None:
    path = imported(tmp_path)
    exported = tmp_path / "my_test.json"
    assert run("export", str(path), "-o", str(exported))[0] == 0
    args = ("import-json", str(exported), "--cassettes", str(tmp_path / "c"))
    code, _, err = run(*args)
    assert "cassette exists; use --force" in _one_line_error(code, err)
    assert run(*args, "--merge")[0] == 0 and len(store.load(path).interactions) == 4
    assert run(*args, "--force")[0] == 0 and len(store.load(path).interactions) == 2
    assert json.loads(exported.read_text())["format"] == "llmreplay-cassette+json"


def test_serve_with_a_missing_cassettes_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    proc = subprocess.run(
        [sys.executable, "-m", "llmreplay", "serve", "--cassettes", str(missing), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    line = _one_line_error(proc.returncode, proc.stderr)
    assert line == f"llmreplay: error: --cassettes {missing}: no such folder"
    assert not missing.exists()
