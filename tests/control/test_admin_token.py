"""With an admin token set, the admin API and /ws need it; the provider APIs and the page never do."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx2

TOKEN = "s3cret-admin-token"


def test_admin_api_needs_the_token(make_server):
    srv = make_server(server={"admin_token": TOKEN})
    assert httpx2.get(srv.url + "/api/config").status_code == 401
    assert httpx2.get(srv.url + "/api/config", headers={"authorization": "Bearer wrong"}).status_code == 401
    ok = httpx2.get(srv.url + "/api/config", headers={"authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and TOKEN not in ok.text
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx2.post(srv.url + "/v1/chat/completions", json=body).status_code == 200
    assert httpx2.get(srv.url + "/dashboard/").status_code == 200
    assert httpx2.get(srv.url + "/health").status_code == 200


def test_websocket_closes_with_4401_without_the_token(make_server):
    srv = make_server(server={"admin_token": TOKEN})
    ws_url = srv.url.replace("http", "ws") + "/ws"

    async def go() -> tuple[int | None, str]:
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(ws_url) as ws:
                msg = await ws.receive(timeout=5)
                refused = ws.close_code if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) else None
            async with s.ws_connect(ws_url + f"?token={TOKEN}") as ws:
                first = await ws.receive_json(timeout=5)
        return refused, first["type"]

    refused, first = asyncio.run(go())
    assert refused == 4401
    assert first == "hello"
