from llmreplay.sse import JSONArrayParser, SSEParser, encode_sse, parse_json_array_stream, parse_sse


def test_round_trip_and_raw_bytes_kept():
    body = encode_sse('{"a":1}', "x") + encode_sse("[DONE]")
    events = parse_sse(body)
    assert [(e.event, e.data) for e in events] == [("x", '{"a":1}'), (None, "[DONE]")]
    assert b"".join(e.raw for e in events) == body


def test_crlf_separators_and_split_feeds():
    body = b'data: {"a": 1}\r\n\r\ndata: {"b": 2}\r\n\r\n'
    p = SSEParser()
    out = []
    for i in range(len(body)):
        out += p.feed(body[i : i + 1])
    out += p.flush()
    assert [e.data for e in out] == ['{"a": 1}', '{"b": 2}']
    assert b"".join(e.raw for e in out) == body


def test_multiline_data_comments_and_unterminated_tail():
    events = parse_sse(b": comment\n\ndata: a\ndata: b\n\nevent: e\ndata: tail")
    assert [(e.event, e.data) for e in events if e.data] == [(None, "a\nb"), ("e", "tail")]


def test_json_array_stream_in_pieces():
    body = b'[{\n  "a": "}{[",\n  "n": [1, 2]\n}\n,\r\n{\n  "b": "\\"x"\n}\n]'
    assert parse_json_array_stream(body) == [b'{\n  "a": "}{[",\n  "n": [1, 2]\n}', b'{\n  "b": "\\"x"\n}']
    p = JSONArrayParser()
    got = []
    for i in range(0, len(body), 3):
        got += p.feed(body[i : i + 3])
    assert got == parse_json_array_stream(body)


def test_every_split_and_line_end_gives_the_same_events():
    # Mixed LF, CR and CRLF ends, a CR right at a feed boundary, and a multi-byte character cut in two.
    body = b"event: a\rdata: \xc3\xa9t\xc3\xa9\r\n\r\ndata: 1\n\ndata: 2\r\rdata: 3\n\r\n: c\n\ndata: 4\r\n\r\n"
    whole = parse_sse(body)
    assert [e.data for e in whole if e.data] == ["été", "1", "2", "3", "4"]
    for cut in range(1, len(body)):
        p = SSEParser()
        pieces = p.feed(body[:cut]) + p.feed(body[cut:]) + p.flush()
        assert [(e.event, e.data, e.raw) for e in pieces] == [(e.event, e.data, e.raw) for e in whole], cut
