"""The admin API's journal routes."""

from __future__ import annotations

from llmreplay.control import adminio

ROUTES: adminio.Routes = []
BODIES: adminio.Bodies = {}
