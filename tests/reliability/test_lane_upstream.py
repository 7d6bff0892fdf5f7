"""The express lane begins a call that goes upstream (the record proxy's) as soon as it is read, and hands it to
aiohttp's handler while the upstream answers: what the client gets, what the upstream is sent and what is recorded
are what the road gives a call aiohttp reads. The road is asked for comparison by an escaped query, which the lane
never takes; what is checked is bytes and connections, never how fast."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import httpx

from llmreplay.app import LANE
from llmreplay.cassettes.model import Interaction
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.e2e.common import ZERO, cassette_settings, only_cassette, recorder, upstream_server
from tests.reliability.test_lane import BODY, STREAM, _exchange, _post, _read_answers, _same_but_for_time

ROAD = "/v1/chat/completions?road=%31"


def _forwarded(srv: BackgroundServer) -> int:
    assert srv.app is not None
    return srv.app[LANE].forwarded


def _unstamped(body: bytes) -> bytes:
    return re.sub(rb'"created":\d+', b"", body)


def _without_query_and_times(it: Interaction) -> tuple[object, ...]:
    req, resp = it.request, it.response
    events = None if resp.events is None else [_unstamped(e.data) for e in resp.events]
    body = None if resp.body is None else _unstamped(resp.body)
    return (req.method, req.path, req.headers, req.body, resp.status, body, events, resp.error, it.api, it.model)


def test_a_call_begun_in_the_lane_is_forwarded_answered_and_recorded_as_the_road_does(tmp_path: Path) -> None:
    secret = b"Authorization: Bearer sk-lane-0123456789abcdefghij\r\nx-llmreplay-fault: ok\r\n"
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        for body in (BODY, STREAM):
            (lane_head, lane_body), (road_head, road_body) = _exchange(
                rec.port, _post(body, extra=secret), _post(body, ROAD, secret)
            )
            assert lane_head.startswith(b"HTTP/1.1 200")
            assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
            assert _unstamped(lane_body) == _unstamped(road_body)
        assert _forwarded(rec) == 2  # the road forwarded the other two
        entries = httpx.get(f"{rec.url}/api/requests").json()
        # The journal: the same entry but for its id, its times and the query asked for.
        assert len(entries) == 4
        for lane_entry, road_entry in zip(entries[::2], entries[1::2], strict=True):
            for entry in (lane_entry, road_entry):
                for volatile in ("id", "time", "ttfb_ms", "duration_ms"):
                    entry.pop(volatile)
                entry["request"].pop("query")
            assert lane_entry == road_entry
            assert lane_entry["source"] == "upstream" and "sk-lane" not in json.dumps(lane_entry)
    lane_plain, road_plain, lane_stream, road_stream = only_cassette(tmp_path)
    assert road_plain.request.query == (("road", "1"),) and lane_plain.request.query == ()
    for lane, road in ((lane_plain, road_plain), (lane_stream, road_stream)):
        assert _without_query_and_times(lane) == _without_query_and_times(road)
        headers = dict(lane.request.headers)
        assert "x-llmreplay-fault" not in headers  # settled by the proxy, not sent on nor recorded
        assert "sk-lane" not in json.dumps(headers)
    assert lane_stream.response.events and lane_plain.response.body


def test_a_call_asking_to_close_its_connection_is_begun_and_the_connection_closed_after_its_answer(
    tmp_path: Path,
) -> None:
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            sock.sendall(_post(STREAM, extra=b"Connection: close\r\n"))
            ((head, body),) = _read_answers(sock, 1)
            assert head.startswith(b"HTTP/1.1 200") and b"data: [DONE]" in body
            assert sock.recv(1) == b""  # closed by the server once its answer was out
        assert _forwarded(rec) == 1
    assert len(only_cassette(tmp_path)) == 1


def test_a_recording_replayed_beside_an_upstream_is_written_by_aiohttp_when_the_connection_asks_to_close(
    tmp_path: Path,
) -> None:
    with upstream_server(ZERO) as up:
        with recorder(tmp_path, up.url) as rec:
            ((_, recorded),) = _exchange(rec.port, _post(BODY))
        # Recordings first, the upstream for a miss: this call's answer is whole at once, from the cassette.
        cassettes = cassette_settings(tmp_path, upstream=up.url, record_mode="new_episodes", speed=0)
        with BackgroundServer(settings(server={"quiet": True}, latency=ZERO, cassettes=cassettes)) as rp:
            ((kept_head, kept),) = _exchange(rp.port, _post(BODY))
            with socket.create_connection(("127.0.0.1", rp.port), timeout=30) as sock:
                sock.sendall(_post(BODY, extra=b"Connection: close\r\n"))
                ((head, body),) = _read_answers(sock, 1)
                assert sock.recv(1) == b""  # closed by the server once its answer was out
            assert _forwarded(rp) == 0  # neither went upstream
            assert rp.app is not None and rp.app[LANE].answered == 1  # the second was handed on, to be closed
    assert recorded == kept == body  # the recording, byte for byte
    assert b"x-llmreplay-cassette: recorded#0" in kept_head and b"x-llmreplay-cassette: recorded#0" in head
    assert len(only_cassette(tmp_path)) == 1
