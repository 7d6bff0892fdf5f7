"""Finding the JSON Schema a prompt carries."""

from __future__ import annotations

import json
import time

from llmreplay.synth.prompt_schema import MAX_TRIES, asked_schema, schema_in

PERSON = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}


def test_a_schema_in_prose_is_found() -> None:
    text = f"You extract people. Answer with JSON that follows this schema:\n{json.dumps(PERSON, indent=2)}\nThanks."
    assert schema_in([text]) == PERSON


def test_the_latest_schema_wins_and_examples_are_not_schemas() -> None:
    other = {"type": "object", "properties": {"city": {"type": "string"}}}
    texts = [f"Old: {json.dumps(PERSON)}", f'Example: {{"name": "Ann"}} then the schema {json.dumps(other)}']
    assert schema_in(texts) == other


def test_a_schema_wrapped_in_an_object_is_found() -> None:
    wrapped = {"name": "Person", "schema": PERSON, "strict": True}
    assert schema_in([json.dumps(wrapped)]) == PERSON


def test_no_schema_no_answer() -> None:
    assert schema_in(["plain words { not json", '{"a": 1}', ""]) is None


def test_words_must_ask_for_json_and_a_schema() -> None:
    assert asked_schema([f"Here is some data: {json.dumps(PERSON)}"]) is None
    assert asked_schema([f"Reply in JSON matching the schema {json.dumps(PERSON)}"]) == PERSON


def test_a_hostile_prompt_costs_a_bounded_number_of_decodes() -> None:
    # Many unclosed objects, each a decode attempt that runs to the end of the text: bounded by MAX_TRIES.
    text = '{"a": ' * 50_000
    start = time.process_time()
    assert schema_in([text] * 10) is None
    # A guard against a hang, not a figure: MAX_TRIES attempts over 100 KB each are milliseconds of work.
    assert time.process_time() - start < 5.0
    assert MAX_TRIES <= 100
