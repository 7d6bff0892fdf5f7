"""Re-creates docs/dashboard.png: the dashboard under synthetic traffic, in headless Chromium.

python scripts/screenshot_dashboard.py
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from pathlib import Path

import aiohttp
from playwright.sync_api import sync_playwright

from llmreplay.config import Settings
from llmreplay.server import BackgroundServer

ROOT = Path(__file__).resolve().parent.parent
BODIES = {
    "/v1/chat/completions": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
    "/v1/messages": {"model": "claude-sonnet-4-6", "max_tokens": 300, "messages": [{"role": "user", "content": "Hi"}]},
    "/v1/responses": {"model": "gpt-4o", "input": "Hi"},
    "/v1beta/models/gemini-2.5-flash:generateContent": {"contents": [{"parts": [{"text": "Hi"}]}]},
}


async def traffic(url: str, stop: threading.Event) -> None:
    rng = random.Random(3)
    async with aiohttp.ClientSession() as s:

        async def one() -> None:
            path = rng.choice(list(BODIES))
            body = dict(BODIES[path])
            if "gemini" not in path:
                body["stream"] = rng.random() < 0.6
            headers = {"x-llmreplay-fault": rng.choice(["503", "429", "disconnect@5"])} if rng.random() < 0.08 else {}
            try:
                async with s.post(url + path, json=body, headers=headers) as r:
                    await r.read()
            except aiohttp.ClientError:
                pass

        while not stop.is_set():
            await asyncio.gather(*(one() for _ in range(rng.randint(2, 8))))
            await asyncio.sleep(rng.uniform(0.05, 0.3))


def main() -> None:
    settings = Settings.model_validate(
        {"latency": {"initial_delay_ms": 120, "delay_ms": 15, "jitter_ms": 20}, "server": {"quiet": True}}
    )
    with BackgroundServer(settings) as srv:
        stop = threading.Event()
        feeder = threading.Thread(target=lambda: asyncio.run(traffic(srv.url, stop)))
        feeder.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1440, "height": 1100})
                page.goto(srv.url + "/dashboard")
                time.sleep(12)
                page.screenshot(path=str(ROOT / "docs" / "dashboard.png"), full_page=True)
                browser.close()
        finally:
            stop.set()
            feeder.join()
    print(f"wrote {ROOT / 'docs' / 'dashboard.png'}")


if __name__ == "__main__":
    main()
