"""A tool or output schema that is invalid, or that no value satisfies, is the client's 400: never a 500."""

from __future__ import annotations

import openai
import pytest

BAD = [
    ({"type": "object", "properties": 3}, "Invalid schema"),
    ({"type": "integer", "minimum": 5, "maximum": 1}, "No value can satisfy"),
    ({"type": "foo"}, "Invalid schema"),
    ({"$ref": "#/$defs/missing"}, "No value can satisfy"),
]


@pytest.mark.parametrize(("schema", "says"), BAD)
def test_bad_tool_schema_is_bad_request(server, schema, says):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], tools=[tool], tool_choice="required"
        )
    assert says in info.value.message and "'f'" in info.value.message


@pytest.mark.parametrize(("schema", "says"), BAD)
def test_bad_output_schema_is_bad_request(server, schema, says):
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
    fmt = {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], response_format=fmt)
    assert says in info.value.message
