"""Our event-stream encoder, read back by botocore's own parser (the one boto3 streams Bedrock answers with)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator

import botocore.session
import pytest
from botocore.eventstream import ChecksumMismatch, EventStream, EventStreamBuffer
from botocore.exceptions import EventStreamError
from botocore.parsers import EventStreamJSONParser

from llmreplay import eventstream


class _Raw:
    """What botocore's EventStream reads from: a urllib3 response's ``stream()``."""

    def __init__(self, body: bytes, size: int = 7) -> None:
        self.body, self.size = body, size

    def stream(self) -> Iterator[bytes]:
        for i in range(0, len(self.body), self.size):
            yield self.body[i : i + self.size]

    def close(self) -> None:
        pass


def _stream(body: bytes, operation: str = "ConverseStream", member: str = "stream") -> EventStream:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    shape = model.operation_model(operation).output_shape.members[member]
    return EventStream(_Raw(body), shape, EventStreamJSONParser(), operation)


def test_botocore_reads_each_message_with_its_headers_payload_and_crcs() -> None:
    body = eventstream.event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"h\xc3\xa9"}}')
    buf = EventStreamBuffer()
    buf.add_data(body)
    [msg] = list(buf)
    assert msg.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(msg.payload) == {"contentBlockIndex": 0, "delta": {"text": "hé"}}
    assert msg.crc == zlib.crc32(body[:-4])


def test_a_converse_stream_parses_as_boto3_sees_it() -> None:
    body = b"".join(
        [
            eventstream.event("messageStart", b'{"role":"assistant"}'),
            eventstream.event("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"Hi"}}'),
            eventstream.event("contentBlockStop", b'{"contentBlockIndex":0}'),
            eventstream.event("messageStop", b'{"stopReason":"end_turn"}'),
        ]
    )
    events = list(_stream(body))
    assert events == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hi"}}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
    ]


@pytest.mark.parametrize("kind", ["modelStreamErrorException", "throttlingException", "internalServerException"])
def test_an_in_stream_exception_is_raised_by_botocore_under_its_name(kind: str) -> None:
    body = eventstream.event("messageStart", b'{"role":"assistant"}') + eventstream.exception(
        kind, b'{"message":"The model stopped."}'
    )
    it = iter(_stream(body))
    assert next(it) == {"messageStart": {"role": "assistant"}}
    with pytest.raises(EventStreamError) as caught:
        next(it)
    assert caught.value.response["Error"] == {"Code": kind, "Message": "The model stopped."}


def test_an_invoke_chunk_parses_with_its_bytes_decoded() -> None:
    body = eventstream.event("chunk", b'{"bytes":"eyJ0eXBlIjoibWVzc2FnZV9zdG9wIn0="}')
    events = list(_stream(body, "InvokeModelWithResponseStream", "body"))
    assert events == [{"chunk": {"bytes": b'{"type":"message_stop"}'}}]


def test_split_reads_back_what_was_written_and_refuses_a_bad_crc() -> None:
    one = eventstream.event("messageStop", b'{"stopReason":"end_turn"}')
    two = eventstream.exception("throttlingException", b'{"message":"slow down"}')
    got = list(eventstream.split(one + two))
    assert [(h[":message-type"], p, raw) for h, p, raw in got] == [
        ("event", b'{"stopReason":"end_turn"}', one),
        ("exception", b'{"message":"slow down"}', two),
    ]
    bad = one[:-1] + bytes([one[-1] ^ 1])
    with pytest.raises(ValueError, match="CRC"):
        list(eventstream.split(bad))
    # botocore refuses the same bytes: what we check is what the client checks.
    buf = EventStreamBuffer()
    buf.add_data(bad)
    with pytest.raises(ChecksumMismatch):
        list(buf)
    with pytest.raises(ValueError, match="torn"):
        list(eventstream.split(one[:-3]))


def test_headers_of_an_event_type_are_encoded_once() -> None:
    assert eventstream.event_prefix("contentBlockDelta") is eventstream.event_prefix("contentBlockDelta")


def test_a_garbled_message_keeps_its_framing_and_loses_its_json() -> None:
    full = b'{"contentBlockIndex":0,"delta":{"text":"Hello"}}'
    one = eventstream.event("contentBlockDelta", full)
    two = eventstream.event("contentBlockStop", b'{"contentBlockIndex":0}')
    garbled = eventstream.garble(one + two)
    assert garbled is not None and garbled.endswith(two)
    [(headers, payload, _), _] = list(eventstream.split(garbled))
    assert headers[":event-type"] == "contentBlockDelta" and payload == full[: len(full) // 2]
    buf = EventStreamBuffer()
    buf.add_data(garbled)
    assert len(list(buf)) == 2  # both CRCs right: botocore reads both messages
    assert eventstream.garble(b"data: {}\n\n") is None


def test_the_recorder_cuts_one_event_per_message_however_the_network_chunks_them() -> None:
    from llmreplay.cassettes.splitter import split_chunks

    one = eventstream.event("messageStart", b'{"role":"assistant"}')
    two = eventstream.event("messageStop", b'{"stopReason":"end_turn"}')
    body = one + two
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    events = split_chunks(chunks, list(range(len(chunks))), eventstream.CONTENT_TYPE, 999)
    assert [e.data for e in events] == [one, two]
    # each at the arrival of the chunk holding its last byte
    assert [e.at_us for e in events] == [(len(one) - 1) // 7, len(chunks) - 1]
