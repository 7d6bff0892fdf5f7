"""How each recording was made (recorded live, imported, edited by hand) and its model, kept in the cassette."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from llmreplay.cassettes import jsonio, provenance, store
from llmreplay.cassettes.model import Interaction, RecordedRequest
from tests.cassettes.test_cli_cassettes import imported, run
from tests.cassettes.test_fields import recording, write_cassette

REPO_EXAMPLE = Path(__file__).parents[2] / "cassettes" / "example.msgpack"


def test_older_cassettes_load_unchanged_and_write_no_new_keys(tmp_path: Path) -> None:
    old = recording(0).to_obj()
    assert "model" not in old and "provenance" not in old
    c = store.load(write_cassette(tmp_path / "old.msgpack", [old]))
    (it,) = c.interactions
    assert it.model is None and it.provenance == {} and c.header.provenance == {}
    assert provenance.model_of(it) == "gpt-4o-mini"  # read from the request, as before
    assert store.load(REPO_EXAMPLE).interactions  # the repository's example still loads


def test_model_and_provenance_round_trip_through_msgpack(tmp_path: Path) -> None:
    it = dataclasses.replace(recording(0), model="gpt-4o-mini", provenance={"how": "edited", "file": "x.json"})
    header = dataclasses.replace(store.new_header("u"), provenance={"how": "imported", "from": "vcr"})
    path = tmp_path / "c.msgpack"
    store.save(path, header, [it])
    back = store.load(path)
    assert back.interactions == [it] and back.header == header


def test_a_provenance_that_is_not_a_map_of_strings_skips_the_recording(tmp_path: Path) -> None:
    bad = recording(1).to_obj()
    bad["provenance"] = {"how": 3}
    c = store.load(write_cassette(tmp_path / "c.msgpack", [recording(0).to_obj(), bad]))
    assert len(c.interactions) == 1
    assert c.skipped == [f"{tmp_path / 'c.msgpack'}: recording #1 skipped: provenance is not a map of strings"]


def test_a_live_recording_names_its_upstream_user_agent_and_sdk() -> None:
    headers = (
        ("user-agent", "OpenAI/Python 1.54.0"),
        ("x-stainless-lang", "python"),
        ("x-stainless-package-version", "1.54.0"),
    )
    it = dataclasses.replace(recording(0), request=dataclasses.replace(recording(0).request, headers=headers))
    done = provenance.recorded(it, "https://api.openai.com")
    assert done.model == "gpt-4o-mini"
    assert done.provenance == {
        "how": "recorded",
        "upstream": "https://api.openai.com",
        "user_agent": "OpenAI/Python 1.54.0",
        "client": "python openai 1.54.0",
    }
    gemini = Interaction(
        RecordedRequest(
            "POST",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            headers=(("x-goog-api-client", "google-genai-sdk/1.2.0 gl-python/3.12"),),
        ),
        recording(0).response,
    )
    done = provenance.recorded(gemini, "https://generativelanguage.googleapis.com")
    assert done.model == "gemini-2.5-flash" and done.provenance["client"] == "google-genai-sdk/1.2.0 gl-python/3.12"
    assert provenance.describe(done).startswith("recorded from https://generativelanguage.googleapis.com by google")


def test_a_vcr_import_says_so_with_the_file(tmp_path: Path) -> None:
    c = store.load(imported(tmp_path))
    assert [it.provenance for it in c.interactions] == [{"how": "imported", "from": "vcr", "file": "my_test.yaml"}] * 2
    assert [it.model for it in c.interactions] == ["gpt-4o", "gpt-4o-mini"]
    assert c.header.provenance == {"how": "imported", "from": "vcr", "file": "my_test.yaml"}


def test_json_round_trip_keeps_provenance_an_edit_is_seen_and_foreign_json_is_imported(tmp_path: Path) -> None:
    path = imported(tmp_path)
    doc = jsonio.to_json(store.load(path).header, store.load(path).interactions)
    exported = tmp_path / "e.json"
    exported.write_text(json.dumps(doc))
    _, items = jsonio.load(exported)
    assert [it.provenance["how"] for it in items] == ["imported", "imported"]  # unchanged: as it was

    doc["interactions"][1]["response"]["body"] = doc["interactions"][1]["response"]["body"].replace("Hello", "Bye")
    exported.write_text(json.dumps(doc))
    _, items = jsonio.load(exported)
    assert items[0].provenance["how"] == "imported"
    assert items[1].provenance == {"how": "edited", "file": "e.json"}

    for obj in doc["interactions"]:
        del obj["digest"]
    exported.write_text(json.dumps(doc))
    code, out, _ = run("import-json", str(exported), "--cassettes", str(tmp_path / "back"))
    assert code == 0, out
    back = store.load(tmp_path / "back" / "e.msgpack")
    assert [it.provenance for it in back.interactions] == [{"how": "imported", "from": "json", "file": "e.json"}] * 2


def test_show_lists_how_each_recording_was_made(tmp_path: Path) -> None:
    code, out, _ = run("show", str(imported(tmp_path)))
    assert code == 0 and out.count("imported from vcr") == 2


def test_a_recording_through_the_server_names_its_upstream_and_the_sdk(make_server, tmp_path: Path) -> None:
    import openai

    upstream = make_server()
    recorder = make_server(
        cassettes={"dir": str(tmp_path), "record_mode": "all", "upstream": upstream.url, "cassette": "rec"}
    )
    client = openai.OpenAI(base_url=recorder.url + "/v1", api_key="k", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    c = store.load(tmp_path / "rec.msgpack")
    assert c.header.provenance == {"how": "recorded"}
    (it,) = c.interactions
    assert it.model == "gpt-4o-mini" and it.recorded_at
    assert it.provenance["how"] == "recorded" and it.provenance["upstream"] == upstream.url
    assert it.provenance["user_agent"] == f"OpenAI/Python {openai.__version__}"
    assert it.provenance["client"] == f"python openai {openai.__version__}"
