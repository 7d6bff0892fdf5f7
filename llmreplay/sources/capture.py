"""What has been seen of one upstream exchange, and the record it becomes once the upstream's answer is over.

Chunks are only kept with their arrival times while the answer runs; they are cut into events once it is over
(:func:`~llmreplay.cassettes.splitter.split_chunks`), so that the relay does no parsing between reading a chunk
and handing it on. They are kept up to a limit (``cassettes.max_recording_mb``): an answer that outgrows it is
let go of at once and not recorded, so a huge answer costs its relay and nothing more.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.splitter import split_chunks, split_mode
from llmreplay.codec import Codec, RenderOptions
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Frame
from llmreplay.providers.registry import streams_by_path
from llmreplay.shaping.clock import clock

# Connection-level headers (RFC 9110 §7.6.1) belong to one hop; each side's HTTP code sets its own.
_HOP_BY_HOP = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "te", "trailer", "upgrade"}
)

_URL_QUERY = re.compile(r"""(\b[a-z][a-z0-9+.-]*://[^\s'"?#]*)\?[^\s'"#]*""", re.IGNORECASE)
"""A URL's query inside an error's text (``url='…?key=…'``, as an HTTP or TLS library may name what it asked): a
query may carry the client's key, which must reach neither the client's 502 nor the recording."""

_WHAT = {"connect": "is unreachable", "timeout": "timed out", "disconnect": "closed the connection"}


def skip_header(name: str) -> bool:
    """Whether a header belongs to one hop only, and so is neither passed on nor recorded."""
    n = name.lower()
    return n in _HOP_BY_HOP or n.startswith("proxy-")


def is_stream(content_type: str, path: str, query: dict[str, str] | None = None) -> bool:
    """Whether a response is recorded as a stream (events) rather than a plain body.

    The byte cutting is the splitter's (which knows no codec, so the shaper may use it); which paths ask
    for a JSON-array stream is the codecs' (``providers/registry.py``)."""
    mode = split_mode(content_type)
    if mode in ("sse", "ndjson", "eventstream"):
        return True
    # A JSON body is a stream (a JSON array of chunks) when the path asked for one; the codecs know which paths do.
    return mode == "json" and streams_by_path(path)


class Capture:
    """One upstream exchange as it happens: offsets count from when the request went upstream."""

    def __init__(
        self,
        req: RecordedRequest,
        api: str | None,
        endpoint: str,
        settled: asyncio.Future[None] | None = None,
        limit: int = sys.maxsize,
    ) -> None:
        self.req, self.api, self.endpoint = req, api, endpoint
        self.settled = settled
        """Done once the record has gone to the sink."""
        self.limit = limit
        """Most bytes of the answer kept for the record."""
        self.size = 0
        """Bytes of the answer seen so far, kept or not."""
        self.dropped = False
        """The answer outgrew ``limit``: what was kept is let go and the exchange is not recorded."""
        self.start = clock()
        self.status = 0
        self.headers: tuple[tuple[str, str], ...] = ()
        self.stream_type: str | None = None
        self.headers_us = 0
        self.chunks: list[bytes] = []
        self.arrivals: list[float] = []
        """Each chunk's arrival on the clock, turned into offsets once the answer is over (not per chunk)."""

    def answered(self, status: int, headers: tuple[tuple[str, str], ...], stream_type: str | None) -> None:
        """The upstream's status line and headers are in; ``stream_type`` is its content type when it streams."""
        self.status, self.headers, self.stream_type = status, headers, stream_type
        self.headers_us = self._us(clock())

    def add(self, chunk: bytes, now: float) -> None:
        size = self.size = self.size + len(chunk)
        if size <= self.limit:
            self.chunks.append(chunk)
            self.arrivals.append(now)
        elif not self.dropped:
            # Let go now, not when the answer ends: memory stays within the limit however long it runs.
            self.dropped = True
            self.chunks, self.arrivals = [], []

    def interaction(self, error: str | None, end: float | None = None) -> Interaction:
        """The record, ended at ``end`` (the clock's time the answer was over; now when None). Made once: the
        chunks are let go of as the record takes their bytes."""
        end_us = self._us(clock() if end is None else end)
        chunks, self.chunks = self.chunks, []
        events: tuple[RecordedEvent, ...] | None = None
        body: bytes | None = None
        if self.stream_type is not None:
            start = self.start
            offsets = [int((at - start) * 1_000_000) for at in self.arrivals]  # as _us has it, without its call
            events = tuple(split_chunks(chunks, offsets, self.stream_type, end_us))
        else:
            body = b"".join(chunks)
        del chunks  # the record holds the bytes now; the chunks (as large again) go before the scrub copies them
        resp = RecordedResponse(
            status=self.status,
            headers=self.headers,
            body=body,
            events=events,
            headers_us=self.headers_us,
            end_us=end_us,
            error=error,
        )
        return Interaction(self.req, resp, self.api, self.endpoint, _now_rfc3339())

    def _us(self, now: float) -> int:
        return int((now - self.start) * 1_000_000)


def failure(
    capture: Capture, codec: Codec | None, error: str, who: str, exc: BaseException
) -> tuple[Answer, Interaction]:
    """The proxy's own answer when the upstream failed before answering, and its record: a 504 for a timeout,
    else a 502, in the route's provider envelope when it has one."""
    kind = ErrorKind.TIMEOUT if error == "timeout" else ErrorKind.BAD_GATEWAY
    status = 504 if error == "timeout" else 502
    detail = _URL_QUERY.sub(r"\1?***", str(exc)) or type(exc).__name__
    message = f"{who} {_WHAT[error]}: {detail}"
    if codec is not None:
        answer = codec.render_error(ApiError(kind, message, status=status), RenderOptions())
        headers = tuple((k.lower(), v) for k, v in answer.headers if not skip_header(k))
        if not any(k == "content-type" for k, _ in headers):
            headers += (("content-type", "application/json"),)
        status, body = answer.status, answer.body
    else:
        doc: dict[str, Any] = {"error": {"message": message, "type": kind.value, "code": status}}
        headers, body = (("content-type", "application/json"),), json.dumps(doc).encode()
    end_us = capture._us(clock())
    resp = RecordedResponse(status, headers, body=body, headers_us=end_us, end_us=end_us, error=error)
    answer = Answer(status, headers, (Frame(body, at=0.0),))
    return answer, Interaction(capture.req, resp, capture.api, capture.endpoint, _now_rfc3339())


def _now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
