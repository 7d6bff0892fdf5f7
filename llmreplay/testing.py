"""llmreplay inside a test suite: a server handle, its admin client, and the environment the SDKs read.

Free of pytest, so unittest suites and scripts can use it too; the pytest plugin
(``llmreplay.pytest_plugin``) builds on it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from llmreplay.app import create_app
from llmreplay.config import Settings
from llmreplay.server import BackgroundServer

SCENARIO_KEY = "llmreplay-pytest"
"""The scenario key of a test's default scenario (each test has its own server, so one key is enough)."""

INSTANT_RETRY_AFTER_MS = "1"
"""The retry wait injected errors ask for under instant latency, so SDK retries cost nothing."""

BASE_URL_VARS = ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL")
# Either would send google-genai to Vertex AI instead of the base URL.
VERTEX_VARS = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")

SDK_KEY_VARS = (("OPENAI_API_KEY",), ("ANTHROPIC_API_KEY",), ("GEMINI_API_KEY", "GOOGLE_API_KEY"))
"""Each SDK's API-key variables; the first is filled when none is set (google-genai warns when both of its
two are set, so only one is)."""
FAKE_KEY = "llmreplay-fake-key"


class AdminError(RuntimeError):
    """An admin API call answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body}")
        self.status = status
        self.body = body


class AdminClient:
    """A small synchronous client of the admin API (``/api/...``), on urllib alone."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API; returns the decoded JSON answer (None when empty)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise AdminError(method, path, exc.code, exc.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None

    def get_config(self) -> dict[str, Any]:
        return self.request("GET", "/api/config")

    def patch_global(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", "/api/config/global", dict(changes))

    def patch_endpoint(self, endpoint: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", f"/api/config/endpoints/{endpoint}", dict(changes))

    def clear_endpoint(self, endpoint: str) -> Any:
        return self.request("DELETE", f"/api/config/endpoints/{endpoint}")

    def metrics(self) -> dict[str, Any]:
        return self.request("GET", "/api/metrics")

    def reset(self) -> None:
        """Configuration back to the start, metrics, rate limiters and scenario positions cleared."""
        for path in ("/api/config/reset", "/api/metrics/reset", "/api/rate-limit/reset", "/api/scenarios/reset"):
            self.request("POST", path)

    def define_scenario(self, name: str, steps: str) -> Any:
        """Define a named scenario, used as ``x-llmreplay-scenario: @name`` (or the marker's ``scenario="@name"``)."""
        return self.request("PUT", f"/api/scenarios/{name}", {"steps": steps})


class TestServer(BackgroundServer):
    """A background server that adds default llmreplay headers to requests that lack them.

    Base URLs in environment variables cannot carry headers, so a test's default
    scenario reaches the server this way, with application code left unchanged.
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, settings: Settings, default_headers: Mapping[str, str] | None = None) -> None:
        super().__init__(settings)
        self.default_headers: dict[str, str] = dict(default_headers or {})

    async def _start(self) -> None:
        # The base class's start, with the middleware added before the app freezes.
        self.app = create_app(self.settings)
        self.app.middlewares.insert(0, self._add_defaults)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @web.middleware
    async def _add_defaults(self, request: web.Request, handler: Any) -> web.StreamResponse:
        defaults = self.default_headers
        if "x-llmreplay-scenario" in request.headers:
            # The request's own scenario keeps its own key.
            defaults = {k: v for k, v in defaults.items() if not k.startswith("x-llmreplay-scenario")}
        missing = {k: v for k, v in defaults.items() if k not in request.headers}
        if missing:
            headers = CIMultiDict(request.headers)
            headers.update(missing)
            request = request.clone(headers=headers)
        return await handler(request)


@dataclass
class LLMReplay:
    """A running llmreplay server as a test sees it."""

    server: TestServer
    cassette: Path | None = None
    """The cassette this test replays or records into; None when the replies are synthetic."""
    record_mode: str = "none"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def gemini_base_url(self) -> str:
        return self.url

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url, self.server.settings.server.admin_token)

    @property
    def scenario(self) -> str | None:
        return self.server.default_headers.get("x-llmreplay-scenario")

    def set_scenario(self, steps: str | None, key: str = SCENARIO_KEY) -> None:
        """Make ``steps`` (``"429,ok"`` or ``"@name"``) the scenario of requests that name none; None clears it.

        A new key starts the sequence over.
        """
        if steps is None:
            self.server.default_headers.pop("x-llmreplay-scenario", None)
            self.server.default_headers.pop("x-llmreplay-scenario-key", None)
            return
        self.server.default_headers["x-llmreplay-scenario"] = steps
        self.server.default_headers["x-llmreplay-scenario-key"] = key

    def env_vars(self) -> dict[str, str]:
        """The variables that point the official SDKs here (base URLs; API keys only where unset)."""
        out = {
            "OPENAI_BASE_URL": self.openai_base_url,
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
            "GOOGLE_GEMINI_BASE_URL": self.gemini_base_url,
        }
        for names in SDK_KEY_VARS:
            if not any(os.environ.get(name) for name in names):
                out[names[0]] = FAKE_KEY
        return out

    @contextmanager
    def env(self) -> Iterator[dict[str, str]]:
        """Set :meth:`env_vars` (and clear the Vertex AI switches) for the block, then restore."""
        values = self.env_vars()
        saved = {name: os.environ.get(name) for name in (*values, *VERTEX_VARS)}
        os.environ.update(values)
        for name in VERTEX_VARS:
            os.environ.pop(name, None)
        try:
            yield values
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old
