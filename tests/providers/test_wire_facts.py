"""Wire facts declared on the codecs and gathered by the registry; quotas, scrubbing, import and matching ask it."""

from __future__ import annotations

import hashlib

from llmreplay.cassettes import keys, scrub, vcr
from llmreplay.errors import ErrorKind
from llmreplay.providers import anthropic_messages, gemini, openai_chat
from llmreplay.providers.registry import (
    CODECS,
    CREDENTIAL_HEADERS,
    CREDENTIAL_QUERY,
    api_key_of,
    codec_of,
    match_route,
    stream_neutral_path,
    streams_by_path,
)
from llmreplay.sources import capture

GEMINI_STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


def test_every_credential_header_is_digested_and_scrubbed() -> None:
    assert {"authorization", "x-api-key", "x-goog-api-key", "api-key"} <= set(CREDENTIAL_HEADERS)
    for name in CREDENTIAL_HEADERS:
        assert api_key_of({name: "Bearer k1"}, {}) == hashlib.sha256(b"k1").hexdigest()[:16]
        assert name in scrub.DEFAULT_SECRET_HEADERS and name in vcr.SECRET_HEADERS
    for name in CREDENTIAL_QUERY:
        assert api_key_of({}, {name: "k2"}) == hashlib.sha256(b"k2").hexdigest()[:16]
        assert name in scrub.DEFAULT_SECRET_QUERY and name in keys.SECRET_QUERY
    assert api_key_of({}, {}) == "anonymous"


def test_account_headers_are_scrubbed() -> None:
    for codec in CODECS:
        assert set(codec.account_headers) <= set(scrub.DEFAULT_SECRET_HEADERS)


def test_stream_paths_come_from_the_codec() -> None:
    assert streams_by_path(GEMINI_STREAM) and not streams_by_path("/v1/chat/completions")
    assert stream_neutral_path(GEMINI_STREAM).endswith(":generateContent")
    assert capture.is_stream("application/json", GEMINI_STREAM)


def test_the_error_a_stream_fails_with() -> None:
    assert anthropic_messages.CODEC.stream_error_kind is ErrorKind.OVERLOADED
    assert openai_chat.CODEC.stream_error_kind is ErrorKind.SERVER
    assert gemini.CODEC.stream_error_kind is ErrorKind.SERVER


def test_path_alias_and_model_from_path() -> None:
    vertex = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent"
    found = match_route("POST", vertex)
    # Vertex words its 429 its own way: a Gemini codec of its own (providers/vertex.py)
    assert (
        found is not None and isinstance(found[0].codec, gemini.GeminiCodec) and found[1]["model"] == "gemini-2.5-pro"
    )
    assert codec_of("anthropic-messages") is anthropic_messages.CODEC and codec_of("nope") is None


def test_volatile_fields_are_the_default_ignore_list() -> None:
    assert {"user", "metadata", "stream_options"} <= set(keys.DEFAULT_IGNORE)
    for codec in CODECS:
        assert set(codec.volatile_fields) <= set(keys.DEFAULT_IGNORE)
