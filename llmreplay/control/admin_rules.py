"""The admin API's rules routes."""

from __future__ import annotations

from llmreplay.control import adminio

ROUTES: adminio.Routes = []
BODIES: adminio.Bodies = {}
