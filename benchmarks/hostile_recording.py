"""The hostile cases of recording and keys: a large upstream answer (11), a header that is not UTF-8 (17), a
garbage upstream (19), a key split across stream events (20), nine ways of writing a key (21), a key in the path
(22), two recorders on one new cassette (23). The upstream is the project's own synthetic server, as in the
tests (case 11's is the bare baseline, which streams faster)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import CLIENT_CORE, SERVER_CORE, pinned
from benchmarks.hostile_bench import Bench, Case, Outcome
from benchmarks.hostile_kit import (
    GOOGLE_KEY,
    OPENAI_KEY,
    Answer,
    call,
    chat,
    env_for,
    garbage_upstream,
    llmreplay,
    new_port,
    spawn,
    tally,
    wait_until,
)
from llmreplay.cassettes.store import load

CHAT = "/v1/chat/completions"
CASSETTE = "recorded.msgpack"
ANTHROPIC = [("anthropic-version", "2023-06-01")]
BASELINE_EVENT = 203
"""Bytes of one event of ``benchmarks.baseline``'s stream."""


def recordings(folder: Path) -> int:
    path = folder / CASSETTE
    return len(load(path).interactions) if path.exists() else 0


def settled(b: Bench, want: int, timeout: float = 10) -> int:
    """The cassette's recordings once it holds ``want`` (a recording is written after the client's last byte)."""
    wait_until(lambda: recordings(b.cassettes) >= want, timeout, every=0.2)
    return recordings(b.cassettes)


def case11(b: Bench) -> Outcome:
    """A large answer first (over the default 64 MiB recording cap), then one under the cap, verified."""
    sizes = [b.size(50_000, 1_500_000), b.size(20_000, 300_000)]
    port = new_port()
    up = spawn(
        [sys.executable, "-m", "benchmarks.baseline", "--port", str(port)], b.folder / "up.log", core=CLIENT_CORE
    )
    b.stack.callback(up.stop)
    rec = b.record(up.url)
    got: list[Answer] = []
    path = b.cassettes / CASSETTE

    def written() -> tuple[int, int]:
        return (path.stat().st_size if path.exists() else 0), rec.log_bytes().count(b" llmreplay: ")

    for events in sizes:
        before = written()
        got.append(call(rec.port, "POST", f"{CHAT}?k={events}&gap_ms=0", chat(stream=True), keep=False, timeout=600))
        # Recorded, or refused with a line (an answer over cassettes.max_recording_mb is relayed, not recorded);
        # a large recording is written for a while, so: changed, then still for a second.
        last = [before, time.monotonic()]

        def settled_down(before: tuple[int, int] = before, last: list[Any] = last) -> bool:
            now = written()
            if now != last[0]:
                last[:] = [now, time.monotonic()]
                return False
            return now != before and time.monotonic() - last[1] >= 1.0

        wait_until(settled_down, 120, 0.2)
    kept = recordings(b.cassettes)
    size = (b.cassettes / CASSETTE).stat().st_size if (b.cassettes / CASSETTE).exists() else 0
    said = "; ".join(
        ln.split(" llmreplay: ", 1)[1][:200]
        for ln in rec.log_bytes().decode(errors="replace").splitlines()
        if " llmreplay: " in ln
    )
    verified = _verify_peak(b.cassettes / CASSETTE) if size else "no cassette"
    relayed = ", ".join(f"{a.brief()} {a.size / 1e6:,.0f} MB in {a.seconds:.1f} s" for a in got)
    return Outcome(
        f"SSE answers of {' and '.join(f'{n * BASELINE_EVENT / 1e6:,.0f} MB ({n:,} events)' for n in sizes)}"
        " recorded from a fast upstream",
        f"{relayed}; {kept} recorded, cassette {size / 1e6:,.0f} MB; `cassettes verify` {verified}"
        + (f"; log: {said}" if said else ""),
    )


def _verify_peak(path: Path) -> str:
    """``llmreplay cassettes verify`` on ``path``: its exit code and peak RSS."""
    cmd = [sys.executable, "-m", "llmreplay", "cassettes", "verify", str(path)]
    proc = subprocess.Popen(
        pinned(cmd, SERVER_CORE), env=env_for(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return f"exit {proc.returncode}, peak {usage.ru_maxrss / 1024:,.0f} MiB"


def _recording_bench(b: Bench, env: dict[str, str] | None = None) -> int:
    """A synthetic upstream and a recorder in front of it, its /ws feed read; the recorder's port."""
    up = b.serve(env=env, target=False)
    port = b.record(up.url).port
    b.listen()
    return port


def case17(b: Bench) -> Outcome:
    port = _recording_bench(b)
    headers = [
        ("authorization", f"Bearer {OPENAI_KEY}"),
        ("x-note", b"caf\xe9"),
        ("x-debug", b"\xff " + OPENAI_KEY.encode()),
    ]
    got = call(port, "POST", CHAT, chat(), headers)
    return Outcome(
        "recording: a chat with `x-note: caf\\xe9` and `x-debug: \\xff <key>`",
        f"{got.brief()}; {settled(b, 1)} recording kept",
        [OPENAI_KEY.encode()],
    )


def case19(b: Bench) -> Outcome:
    with garbage_upstream() as up:
        port = b.record(up).port
        b.listen()
        path = "/v1beta/models/gemini-2.5-flash:generateContent"
        got = call(port, "POST", f"{path}?key={GOOGLE_KEY}", {"contents": []})
        kept = settled(b, 1)
    inside = "holds" if GOOGLE_KEY[:20].encode() in got.body else "does not hold"
    return Outcome(
        "recording from an upstream that answers garbage, the key in `?key=`",
        f"{got.brief()} (its message {inside} the key); {kept} recording kept",
        [GOOGLE_KEY.encode()],
    )


STREAMS: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    (CHAT, chat(stream=True), []),
    ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi", "stream": True}, []),
    (
        "/v1/messages",
        {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": chat()["messages"], "stream": True},
        ANTHROPIC,
    ),
    ("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", {"contents": [{"parts": [{"text": "hi"}]}]}, []),
]


def case20(b: Bench) -> Outcome:
    reply = f"Here is the key you asked for: {OPENAI_KEY} and nothing else."
    port = _recording_bench(b, {"DEFAULT_RESPONSE": reply, "STREAM_CHUNK_SIZE": "10"})
    got = [call(port, "POST", path, body, headers) for path, body, headers in STREAMS]
    return Outcome(
        "recording: the key in a streamed answer, 10 characters an event (chat, responses, messages, Gemini)",
        f"{tally(got)}; {settled(b, len(got))} recordings kept",
        [OPENAI_KEY.encode()],
    )


def _escaped(key: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if c.isalpha() else c for c in key)


def _variants() -> list[tuple[str, str, bytes, str, bytes]]:
    """(method, path, body, content type, the key as the request carries it) for the nine ways of writing a key."""
    js, form = "application/json", "application/x-www-form-urlencoded"
    percent = OPENAI_KEY.replace("-", "%2D")
    file = base64.b64encode(f"OPENAI_API_KEY={OPENAI_KEY}\n".encode()).decode()
    key = OPENAI_KEY.encode()

    def body(text: str) -> bytes:
        return json.dumps(chat(text)).encode()

    raw_escaped = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"%s"}]}' % _escaped(OPENAI_KEY).encode()
    return [
        ("POST", CHAT, body(f"see {OPENAI_KEY}/v1/models"), js, key),
        ("POST", CHAT, body(f"OPENAI_API_KEY={OPENAI_KEY}="), js, key),
        ("POST", CHAT, body(f"keys {GOOGLE_KEY}+{OPENAI_KEY}+"), js, key),
        ("POST", CHAT, raw_escaped, js, _escaped(OPENAI_KEY).encode()),
        ("POST", CHAT, body(f"fetch https://x.test/?key={percent}"), js, percent.encode()),
        ("POST", CHAT, f"api_key={percent}&x=1".encode(), form, percent.encode()),
        (
            "POST",
            CHAT,
            body(f"my key is {OPENAI_KEY}").decode().encode("utf-16"),
            js + "; charset=utf-16",
            key.decode().encode("utf-16-le"),
        ),
        # "OPENAI_API_KEY=" is 15 bytes, whole base64 groups: the key's own base64 starts at character 20.
        ("POST", CHAT, json.dumps(chat("read", file=file)).encode(), js, file[20:].encode()),
        ("GET", f"/v1/files/{OPENAI_KEY}/content", b"", js, key),
    ]


def case21(b: Bench) -> Outcome:
    port = _recording_bench(b)
    variants = _variants()
    got: list[Answer] = []
    for method, path, body, ctype, _ in variants:
        got.append(call(port, method, path, body or None, [("content-type", ctype)] if body else []))
    forms = [OPENAI_KEY.encode(), GOOGLE_KEY.encode()] + [form for *_, form in variants]
    return Outcome(
        "recording: the key followed by `/`, `=`, `+`; as `\\u` escapes; `%2D` in a URL and a form; a UTF-16 body;"
        " base64 of a file; in the path",
        f"{tally(got)}; {settled(b, len(got))} recordings kept",
        forms,
    )


def case22(b: Bench) -> Outcome:
    port = b.serve().port
    b.listen()
    got = [
        call(port, "POST", f"/v1beta/models/{GOOGLE_KEY}:generateContent", {"contents": [{"parts": [{"text": "hi"}]}]}),
        call(port, "GET", f"/v1/files/{OPENAI_KEY}/content"),
    ]
    return Outcome(
        "a key as the Gemini model name; a key as a file id in the path",
        tally(got),
        [GOOGLE_KEY.encode(), OPENAI_KEY.encode()],
    )


def _race(b: Bench, upstream: str, trial: int, calls: int) -> tuple[list[int | None], int]:
    """Two recorders started at once on one new cassette; (their exit codes, None for the one still running,
    and the recordings kept of ``calls`` calls to the one that runs)."""
    folder = b.folder / f"trial-{trial}"
    folder.mkdir()
    procs = []
    for i in range(2):
        port = new_port()
        cmd = llmreplay("record", port, "--upstream", upstream, "--cassettes", str(folder), "--quiet")
        with (folder / f"rec-{i}.log").open("wb") as log:
            popen = subprocess.Popen(pinned(cmd, SERVER_CORE), env=env_for(), cwd=folder, stdout=log, stderr=log)
        procs.append((port, popen))
    try:
        wait_until(lambda: any(p.poll() is not None for _, p in procs), 30)
        running = [(port, p) for port, p in procs if p.poll() is None]
        for port, _ in running:
            wait_until(lambda port=port: call(port, "GET", "/health").status == 200, 30)
            for i in range(calls):
                call(port, "POST", CHAT, chat(f"call {i}"))
    finally:
        for _, p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(15)
    codes = [p.returncode if (port, p) not in running else None for port, p in procs]
    return codes, recordings(folder)


def case23(b: Bench) -> Outcome:
    trials, calls = b.size(3, 10), 5
    up = b.serve(target=False)
    results = [_race(b, up.url, t, calls) for t in range(trials)]
    refused = sum(sorted(c for c in codes if c is not None) == [2] for codes, _ in results)
    whole = sum(kept == calls for _, kept in results)
    return Outcome(
        f"{trials} trials: two `llmreplay record` started at once on one new cassette, {calls} calls to the one left",
        f"one exited 2 in {refused} of {trials}; every call recorded in {whole} of {trials}",
    )


CASES: dict[int, Case] = {11: case11, 17: case17, 19: case19, 20: case20, 21: case21, 22: case22, 23: case23}
