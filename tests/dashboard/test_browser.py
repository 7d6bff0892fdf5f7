"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright.

`.ci/run` installs both; without them these tests are skipped locally.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import socket
import time
from collections.abc import Iterator

import httpx2
import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.schedule_spy import spy_on_streams, steps
from tests.shaping.test_stream_timing import CHUNKS, TEXT, read_stream, text_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
# Expected browser noise: a refused WebSocket while the server restarts.
EXPECTED_NOISE = ("ERR_CONNECTION_REFUSED", "WebSocket connection to")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _in_thread(fn, *args):
    """Playwright's sync API keeps an event loop on this thread: asyncio work runs on another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def _post(url: str, n: int = 1, headers: dict[str, str] | None = None) -> list[int]:
    with httpx2.Client() as c:
        return [c.post(url + "/v1/chat/completions", json=CHAT, headers=headers or {}).status_code for _ in range(n)]


def _open(page, url: str) -> None:
    page.goto(url + "/dashboard")
    sync_api.expect(page.get_by_test_id("conn-status")).to_have_text("connected", timeout=10_000)


def test_page_loads_without_console_errors_and_shows_traffic(make_server, page):
    srv = make_server()
    _open(page, srv.url)
    assert _post(srv.url, 3) == [200, 200, 200]
    sync_api.expect(page.get_by_test_id("total-requests")).to_have_text("3", timeout=5_000)
    log = page.get_by_test_id("event-log")
    sync_api.expect(log).to_contain_text("chat-completions", timeout=5_000)
    sync_api.expect(page.get_by_test_id("failure-modes")).to_contain_text("disconnect")
    sync_api.expect(page.get_by_test_id("connections")).to_contain_text("chat-completions")
    assert page.console_errors == []


def test_switching_rate_limiting_on_makes_the_next_request_429(make_server, page):
    srv = make_server()
    _open(page, srv.url)
    assert _post(srv.url) == [200]
    page.get_by_test_id("rl-strategy").select_option("always")
    with page.expect_response(lambda r: "/api/config/global" in r.url and r.request.method == "PATCH"):
        page.get_by_test_id("rl-enabled").check()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cfg = httpx2.get(srv.url + "/api/config").json()
        rl = cfg["global"]["rate_limit"]
        if rl["enabled"] and rl["strategy"] == "always":
            break
        time.sleep(0.1)
    assert _post(srv.url) == [429]
    sync_api.expect(page.get_by_test_id("event-log")).to_contain_text("rate", timeout=5_000)
    assert page.console_errors == []


def test_moving_the_chunk_delay_control_changes_the_next_streams_gap(make_server, page, monkeypatch):
    spy = spy_on_streams(monkeypatch)
    srv = make_server(
        latency={"initial_delay_ms": 50, "delay_ms": 20, "jitter_ms": 0, "chunk_size": 10},
        synthetic={"default_response": TEXT, "tool_call_probability": 0},
    )
    _open(page, srv.url)
    with page.expect_response(lambda r: "/api/config/global" in r.url and r.request.method == "PATCH"):
        page.get_by_test_id("delay-ms").fill("120")
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    got = _in_thread(asyncio.run, read_stream(srv.url + "/v1/chat/completions", body))
    assert text_of(got.body) == TEXT
    # The writer's schedule, not a stopwatch (a busy machine skews arrivals): 120 ms between chunks, not 20.
    stream = spy.only(srv)
    stream.check_schedule(steps(0.050, 0.120, CHUNKS))
    stream.check_reads_not_early(got.reads)
    assert page.console_errors == []


def test_page_reconnects_after_a_server_restart(page):
    port = _free_port()
    first = BackgroundServer(settings(), port=port).start()
    try:
        _open(page, first.url)
    finally:
        first.stop()
    sync_api.expect(page.get_by_test_id("conn-status")).not_to_have_text("connected", timeout=10_000)
    second = BackgroundServer(settings(), port=port).start()
    try:
        sync_api.expect(page.get_by_test_id("conn-status")).to_have_text("connected", timeout=15_000)
        assert _post(second.url, 2) == [200, 200]
        sync_api.expect(page.get_by_test_id("total-requests")).to_have_text("2", timeout=5_000)
    finally:
        second.stop()
    unexpected = [e for e in page.console_errors if not any(n in e for n in EXPECTED_NOISE)]
    assert unexpected == []


def test_page_asks_once_for_the_admin_token(make_server, page):
    srv = make_server(server={"admin_token": "tok-123"})
    page.goto(srv.url + "/dashboard")
    sync_api.expect(page.get_by_test_id("token-form")).to_be_visible(timeout=10_000)
    page.get_by_test_id("token-input").fill("tok-123")
    page.get_by_test_id("token-submit").click()
    sync_api.expect(page.get_by_test_id("conn-status")).to_have_text("connected", timeout=10_000)
    assert _post(srv.url) == [200]
    sync_api.expect(page.get_by_test_id("total-requests")).to_have_text("1", timeout=5_000)
    # Refused before the token was given: the 401s and the closed WebSocket are the expected noise.
    unexpected = [e for e in page.console_errors if "401" not in e and not any(n in e for n in EXPECTED_NOISE)]
    assert unexpected == []


def test_the_journal_lists_requests_live_and_shows_one_on_a_click(make_server, page):
    from llmreplay.runtime import RUNTIME
    from tests.journal.entries import FAKE_KEY, call, entry

    srv = make_server()
    journal = srv.app[RUNTIME].journal

    def answered(*entries):
        for e in entries:
            journal.add(e)
            journal.finished(e)

    secret = {"authorization": f"Bearer {FAKE_KEY}", "x-llmreplay-test-id": "checkout"}
    srv.call(lambda: answered(entry(1, test_id="checkout", call=call(headers=secret))))
    _open(page, srv.url)
    rows = page.get_by_test_id("journal-list").locator("tbody tr[data-id]")
    sync_api.expect(rows).to_have_count(1, timeout=5_000)  # loaded on connect
    srv.call(lambda: answered(entry(2, source="rule", model="claude"), entry(3, endpoint="messages")))
    sync_api.expect(rows).to_have_count(3, timeout=5_000)  # then live, newest first
    sync_api.expect(rows.first).to_contain_text("messages")
    page.locator(f'tr[data-id="{entry(1).id}"]').click()
    detail = page.get_by_test_id("journal-detail")
    sync_api.expect(detail).to_contain_text("What is the weather in Paris?", timeout=5_000)
    sync_api.expect(page.get_by_test_id("journal-body")).to_contain_text('"model": "gpt-4o"')
    sync_api.expect(page.get_by_test_id("journal-headers")).to_contain_text("authorization: [redacted]")
    sync_api.expect(detail).to_contain_text("It is 21 °C in Paris.")
    assert FAKE_KEY not in detail.inner_text()
    page.get_by_test_id("journal-filter").fill("claude")
    sync_api.expect(rows).to_have_count(1, timeout=5_000)
    # The original panels are all still there, and the event log keeps its own kinds.
    sync_api.expect(page.get_by_test_id("event-log")).not_to_contain_text("request.journal")
    assert page.console_errors == []


def _patched(page, path: str):
    """Wait for the page's PATCH of path (an admin route)."""
    return page.expect_response(lambda r: r.url.endswith(path) and r.request.method == "PATCH")


def test_switching_an_endpoint_off_from_the_page_makes_the_next_call_404(make_server, page):
    import openai

    srv = make_server()
    _open(page, srv.url)
    client = openai.OpenAI(base_url=srv.url + "/v1", api_key="fake-key", max_retries=0)
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    switch = page.get_by_test_id("enabled-chat-completions")
    sync_api.expect(switch).to_be_checked(timeout=5_000)

    with _patched(page, "/api/config/endpoints/chat-completions") as resp:
        switch.uncheck()
    assert resp.value.status == 200
    with pytest.raises(openai.NotFoundError, match="switched off"):
        client.chat.completions.create(**ask)
    # At a glance: the list marks it, and so does the scope selector.
    row = page.locator('#endpoint-list li[data-endpoint="chat-completions"]')
    sync_api.expect(row).to_have_class("off", timeout=5_000)
    sync_api.expect(page.get_by_test_id("state-chat-completions")).to_have_text("off (own)")
    sync_api.expect(page.locator('#scope option[value="chat-completions"]')).to_have_text("chat-completions (off)")
    assert httpx2.post(srv.url + "/v1/messages", json={**ask, "max_tokens": 10}).status_code == 200

    with _patched(page, "/api/config/endpoints/chat-completions") as resp:
        switch.check()
    assert resp.value.status == 200
    assert client.chat.completions.create(**ask).choices[0].message.content
    sync_api.expect(row).not_to_have_class("off", timeout=5_000)

    # The global switch turns off every endpoint without a switch of its own; chat-completions now has one.
    with _patched(page, "/api/config/global") as resp:
        page.get_by_test_id("enabled-global").uncheck()
    assert resp.value.status == 200
    assert httpx2.post(srv.url + "/v1/messages", json={**ask, "max_tokens": 10}).status_code == 404
    assert client.chat.completions.create(**ask).choices[0].message.content
    sync_api.expect(page.get_by_test_id("state-messages")).to_have_text("off", timeout=5_000)
    with _patched(page, "/api/config/global"):
        page.get_by_test_id("enabled-global").check()
    assert httpx2.post(srv.url + "/v1/messages", json={**ask, "max_tokens": 10}).status_code == 200
    assert page.console_errors == []


def test_load_degradation_and_the_interruption_rate_set_from_the_page(make_server, page):
    srv = make_server()
    _open(page, srv.url)
    with _patched(page, "/api/config/global"):
        page.get_by_test_id("load-degradation").check()
    for field, value in [("load-factor-number", "3"), ("load-knee-number", "4"), ("error-delay-ms-number", "20")]:
        with _patched(page, "/api/config/global"):
            page.get_by_test_id(field).fill(value)
    with _patched(page, "/api/config/global"):
        page.get_by_test_id("interrupt-rate-number").fill("25")
    # For one endpoint: its own interruption rate, beside the global one.
    page.get_by_test_id("scope").select_option("messages")
    with _patched(page, "/api/config/endpoints/messages"):
        page.get_by_test_id("interrupt-rate").fill("100")

    cfg = httpx2.get(srv.url + "/api/config").json()
    glob = cfg["global"]
    lat = glob["latency"]
    assert (lat["load_degradation"], lat["load_factor"], lat["load_knee"], lat["error_delay_ms"]) == (True, 3, 4, 20)
    assert glob["failures"]["stream_interrupt_rate"] == 0.25
    # The original server's names read the same values.
    theirs = (glob["loadDegradationEnabled"], glob["loadDegradationFactor"], glob["streamInterruptRate"])
    assert theirs == (True, 3, 0.25)
    assert cfg["endpoints"]["messages"]["failures"] == {"stream_interrupt_rate": 1.0}
    sync_api.expect(page.get_by_test_id("overrides")).to_contain_text('"stream_interrupt_rate":1')
    sync_api.expect(page.get_by_test_id("overrides")).not_to_contain_text("streamInterruptRate")
    assert page.console_errors == []
