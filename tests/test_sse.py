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
