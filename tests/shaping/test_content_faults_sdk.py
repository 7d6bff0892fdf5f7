"""Each content fault, for each of the four APIs, streamed and not, through the official SDK: what the
application sees is what the SDK shows for the real thing (the exception it raises, or the field it reads).
Field names as in /work/shared/reference (OpenAI ``refusal``, ``finish_reason: content_filter``, Responses
``incomplete_details.reason``, Anthropic ``stop_reason: refusal``, Gemini ``finishReason: SAFETY`` with
``safetyRatings``, ``promptFeedback.blockReason``, ``MALFORMED_FUNCTION_CALL``)."""

from __future__ import annotations

import json

import anthropic
import jsonschema
import openai
import pydantic
import pytest
from google.genai import errors, types

from llmreplay.shaping.faultkinds.refusal import WORDS
from tests.shaping.content_kit import WEATHER, chat, chat_parse, claude, gemini, responses

pytestmark = pytest.mark.sdk
STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


def _gemini_text(chunks: list) -> str:
    return "".join(p.text or "" for c in chunks for cand in c.candidates or () for p in cand.content.parts or ())


@STREAMS
def test_refusal(server, stream: bool) -> None:
    msg = chat(server, "refusal", stream).choices[0]
    assert msg.message.refusal == WORDS and msg.finish_reason == "stop" and not msg.message.content
    assert chat_parse(server, "refusal", stream).choices[0].message.parsed is None
    part = responses(server, "refusal", stream).output[0].content[0]
    assert part.type == "refusal" and part.refusal == WORDS
    assert claude(server, "refusal", stream).stop_reason == "refusal"
    last = gemini(server, "refusal", stream)[-1].candidates[0]
    assert last.finish_reason == types.FinishReason.SAFETY


@STREAMS
def test_content_filter_on_the_output(server, stream: bool) -> None:
    assert chat(server, "content-filter", False).choices[0].finish_reason == "content_filter"
    with pytest.raises(openai.ContentFilterFinishReasonError):
        chat_parse(server, "content-filter", stream)
    r = responses(server, "content-filter", stream)
    assert r.status == "incomplete" and r.incomplete_details.reason == "content_filter"
    m = claude(server, "content-filter", stream)
    assert m.stop_reason == "refusal" and m.content == []
    cand = gemini(server, "content-filter", stream)[-1].candidates[0]
    assert cand.finish_reason == types.FinishReason.SAFETY and cand.content is None
    assert [r.blocked for r in cand.safety_ratings] == [None, None, None, True]
    assert cand.safety_ratings[-1].probability == types.HarmProbability.HIGH


@STREAMS
def test_content_filter_on_the_prompt(server, stream: bool) -> None:
    for ask in (chat, responses):
        with pytest.raises(openai.BadRequestError) as err:
            ask(server, "content-filter-prompt", stream)
        assert err.value.code == "content_filter" and err.value.param == "prompt"
        assert "content management policy" in err.value.message
    m = claude(server, "content-filter-prompt", stream)
    assert m.stop_reason == "refusal" and m.content == [] and m.usage.output_tokens == 0
    got = gemini(server, "content-filter-prompt", stream)
    assert len(got) == 1 and got[0].candidates is None
    assert got[0].prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert got[0].usage_metadata.prompt_token_count > 0


@STREAMS
def test_context_length(server, stream: bool) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        chat(server, "context-length", stream)
    assert err.value.code == "context_length_exceeded" and err.value.param == "messages"
    assert err.value.body["message"].startswith("This model's maximum context length is 128000 tokens.")
    with pytest.raises(openai.BadRequestError) as err:
        responses(server, "context-length", stream)
    assert err.value.code == "context_length_exceeded" and err.value.param == "input"
    with pytest.raises(anthropic.BadRequestError) as aerr:
        claude(server, "context-length", stream)
    assert aerr.value.body["error"]["message"].endswith(" tokens > 200000 maximum")
    with pytest.raises(errors.ClientError) as gerr:
        gemini(server, "context-length", stream)
    assert gerr.value.code == 400 and "exceeds the maximum number of tokens allowed (1048576)" in gerr.value.message


@STREAMS
def test_bad_tool_args(server, stream: bool) -> None:
    call = chat(server, "bad-tool-args", stream, tools=True).choices[0].message.tool_calls[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(call.function.arguments)
    item = responses(server, "bad-tool-args", stream, tools=True).output[0]
    assert item.type == "function_call" and item.name == "get_weather"
    with pytest.raises(json.JSONDecodeError):
        json.loads(item.arguments)
    if stream:
        # Streamed tool input is sent unvalidated: the SDK's accumulator refuses it.
        with pytest.raises(ValueError, match="Unable to parse tool parameter JSON"):
            claude(server, "bad-tool-args", stream, tools=True)
    else:
        # The API validates a non-streamed tool input: an object, empty.
        assert claude(server, "bad-tool-args", stream, tools=True).content[0].input == {}
    cand = gemini(server, "bad-tool-args", stream, tools=True)[-1].candidates[0]
    assert cand.finish_reason == types.FinishReason.MALFORMED_FUNCTION_CALL
    assert cand.content is None  # no call to run (the SDK drops the finishMessage that names it)


@STREAMS
def test_schema_violation(server, stream: bool) -> None:
    with pytest.raises(pydantic.ValidationError):
        chat_parse(server, "schema-violation", stream)
    if not stream:
        with pytest.raises(pydantic.ValidationError):
            responses(server, "schema-violation", stream, parse=True)
    args = [
        json.loads(
            chat(server, "schema-violation", stream, tools=True).choices[0].message.tool_calls[0].function.arguments
        ),
        json.loads(responses(server, "schema-violation", stream, tools=True).output[0].arguments),
        claude(server, "schema-violation", stream, tools=True).content[0].input,
        gemini(server, "schema-violation", stream, tools=True)[-1].candidates[0].content.parts[0].function_call.args,
    ]
    for value in args:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(value, WEATHER)


@STREAMS
def test_unknown_tool(server, stream: bool) -> None:
    names = [
        chat(server, "unknown-tool", stream, tools=True).choices[0].message.tool_calls[0].function.name,
        responses(server, "unknown-tool", stream, tools=True).output[0].name,
        claude(server, "unknown-tool", stream, tools=True).content[0].name,
        gemini(server, "unknown-tool", stream, tools=True)[-1].candidates[0].content.parts[0].function_call.name,
    ]
    assert names == ["unknown_tool"] * 4  # the request offered get_weather only


@STREAMS
def test_empty_reply(server, stream: bool) -> None:
    c = chat(server, "empty-reply", stream).choices[0]
    assert c.message.content == "" and c.finish_reason == "stop" and not c.message.tool_calls
    r = responses(server, "empty-reply", stream)
    assert r.status == "completed" and r.output_text == ""
    m = claude(server, "empty-reply", stream)
    assert m.content == [] and m.stop_reason == "end_turn" and m.usage.output_tokens == 0
    got = gemini(server, "empty-reply", stream)
    assert _gemini_text(got) == "" and got[-1].candidates[0].finish_reason == types.FinishReason.STOP


@STREAMS
def test_cut_json(server, stream: bool) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        chat_parse(server, "cut-json", stream)
    r = responses(server, "cut-json", stream)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    m = claude(server, "cut-json", stream)
    assert m.stop_reason == "max_tokens"
    got = gemini(server, "cut-json", stream)
    assert got[-1].candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    for text in (r.output_text, m.content[0].text, _gemini_text(got)):
        assert text.startswith("{")
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
