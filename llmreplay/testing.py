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
from urllib.parse import quote

from aiohttp import web
from multidict import CIMultiDict

from llmreplay.app import create_app
from llmreplay.assertions import Exchanges
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
TOKEN_VAR = "LLMREPLAY_ADMIN_TOKEN"
TEST_ID_HEADER = "x-llmreplay-test-id"


def _rules_body(rules: Any) -> Any:
    return rules if isinstance(rules, Mapping) else {"rules": list(rules)}


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
    """A running llmreplay server as a test sees it: its own in-process server, or (``remote``) a shared one
    that tells this test's exchanges from the others' by its test id."""

    server: TestServer | None
    cassette: Path | None = None
    """The cassette this test replays or records into; None when the replies are synthetic."""
    record_mode: str = "none"
    test_id: str | None = None
    """The test's id: sent as ``x-llmreplay-test-id`` (and, for a shared server, leading the SDKs' base
    URLs), it scopes the journal, the test's rules and its scenario cursors."""
    remote: str | None = None
    """The shared server's URL, when the test has no server of its own."""

    @property
    def url(self) -> str:
        """The server's own URL (admin API, dashboard)."""
        if self.server is not None:
            return self.server.url
        assert self.remote is not None
        return self.remote.rstrip("/")

    @property
    def api_url(self) -> str:
        """Where the SDKs send this test's calls: the server, or on a shared one this test's own prefix."""
        if self.server is None and self.test_id:
            return f"{self.url}/_test/{quote(self.test_id, safe='')}"
        return self.url

    @property
    def openai_base_url(self) -> str:
        return self.api_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.api_url

    @property
    def gemini_base_url(self) -> str:
        return self.api_url

    @property
    def admin(self) -> AdminClient:
        token = self.server.settings.server.admin_token if self.server is not None else os.environ.get(TOKEN_VAR)
        return AdminClient(self.url, token)

    @property
    def scenario(self) -> str | None:
        return self.server.default_headers.get("x-llmreplay-scenario") if self.server is not None else None

    def set_scenario(self, steps: str | None, key: str = SCENARIO_KEY) -> None:
        """Make ``steps`` (``"429,ok"`` or ``"@name"``) the scenario of requests that name none; None clears it.

        A new key starts the sequence over. Only a test's own server can do this (a shared server's requests
        carry no default headers): use a rule's ``steps`` there.
        """
        if self.server is None:
            raise RuntimeError("set_scenario needs the test's own server; on a shared one, script it with rules")
        if steps is None:
            self.server.default_headers.pop("x-llmreplay-scenario", None)
            self.server.default_headers.pop("x-llmreplay-scenario-key", None)
            return
        self.server.default_headers["x-llmreplay-scenario"] = steps
        self.server.default_headers["x-llmreplay-scenario-key"] = key

    # ---- this test's rules and journal -----------------------------------------------------------------

    def _scope(self) -> str:
        return f"?test_id={quote(self.test_id, safe='')}" if self.test_id else ""

    def add_rules(self, rules: Any) -> Any:
        """Add rules (a list of rule objects, or ``{"rules": [...]}``) for this test, asked before the others."""
        return self.admin.request("POST", "/api/rules" + self._scope(), _rules_body(rules))

    def set_rules(self, rules: Any) -> Any:
        """Replace this test's rules."""
        return self.admin.request("PUT", "/api/rules" + self._scope(), _rules_body(rules))

    def clear_rules(self) -> None:
        self.admin.request("DELETE", "/api/rules" + self._scope())

    @property
    def requests(self) -> Exchanges:
        """This test's exchanges so far, oldest first, as the journal keeps them (``GET /api/requests``)."""
        return Exchanges(self.admin.request("GET", "/api/requests" + self._scope()))

    @property
    def cost_usd(self) -> float:
        """What this test's exchanges cost so far at the model catalogue's prices (docs/models.md); one of a
        model without prices counts 0."""
        return sum(e.get("cost_usd") or 0.0 for e in self.requests)

    def assert_cost_below(self, budget_usd: float) -> None:
        """Fail when this test's exchanges cost more than ``budget_usd``."""
        spent = self.cost_usd
        if spent > budget_usd:
            raise AssertionError(f"the test's LLM calls cost ${spent:.6f}, over its budget of ${budget_usd:.6f}")

    def clear_requests(self) -> None:
        self.admin.request("DELETE", "/api/requests" + self._scope())

    def headers(self) -> dict[str, str]:
        """The headers that mark a request as this test's (for a client built by hand)."""
        return {TEST_ID_HEADER: self.test_id} if self.test_id else {}

    def openai_client(self, **kwargs: Any) -> Any:
        """An ``openai.OpenAI`` client of this server, marked as this test's."""
        import openai

        kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or FAKE_KEY)
        return openai.OpenAI(base_url=self.openai_base_url, default_headers=self.headers(), **kwargs)

    def anthropic_client(self, **kwargs: Any) -> Any:
        """An ``anthropic.Anthropic`` client of this server, marked as this test's."""
        import anthropic

        kwargs.setdefault("api_key", os.environ.get("ANTHROPIC_API_KEY") or FAKE_KEY)
        return anthropic.Anthropic(base_url=self.anthropic_base_url, default_headers=self.headers(), **kwargs)

    def gemini_client(self, **kwargs: Any) -> Any:
        """A ``google.genai.Client`` of this server, marked as this test's."""
        from google import genai
        from google.genai import types

        kwargs.setdefault("api_key", os.environ.get("GEMINI_API_KEY") or FAKE_KEY)
        options = types.HttpOptions(base_url=self.gemini_base_url, headers=self.headers())
        return genai.Client(http_options=options, **kwargs)

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
