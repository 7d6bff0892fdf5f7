"""The upstreams ``--upstream`` knows by name, and how any other is given."""

from __future__ import annotations

import re
from collections.abc import Callable

from yarl import URL

from llmreplay.urls import redacted

UPSTREAMS: dict[str, str] = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}

_REGION = re.compile(r"[a-z0-9][a-z0-9-]*")


def _vertex(where: str) -> str | None:
    # PROJECT/LOCATION or LOCATION: the project is in every path the client sends, only the location picks a host.
    location = where.rsplit("/", 1)[-1].lower()
    if not _REGION.fullmatch(location):
        return None
    return (
        "https://aiplatform.googleapis.com" if location == "global" else f"https://{location}-aiplatform.googleapis.com"
    )


def _azure(where: str) -> str | None:
    # The resource's name is its host's first label.
    resource = where.lower()
    return f"https://{resource}.openai.azure.com" if _REGION.fullmatch(resource) else None


def _bedrock(where: str) -> str | None:
    # The Bedrock runtime of REGION; the recorder signs each request again for it (sources/sigv4.py).
    region = where.lower()
    return f"https://bedrock-runtime.{region}.amazonaws.com" if _REGION.fullmatch(region) else None


CLOUDS: dict[str, Callable[[str], str | None]] = {"vertex": _vertex, "azure": _azure, "bedrock": _bedrock}
"""``NAME:WHERE`` upstreams: the cloud's base URL for WHERE (a region, a resource), None when WHERE is no name."""


def resolve_upstream(name_or_url: str) -> str:
    """``openai``/``anthropic``/``gemini``, ``vertex:PROJECT/LOCATION`` or an http(s) URL → base URL without
    trailing slash."""
    value = name_or_url.strip()
    known = UPSTREAMS.get(value.lower())
    if known is not None:
        return known
    cloud, sep, where = value.partition(":")
    host = CLOUDS[cloud.lower()](where) if sep and cloud.lower() in CLOUDS else None
    if host is not None:
        return host
    try:
        url = URL(value)
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        names = ", ".join([*UPSTREAMS, *(f"{c}:…" for c in CLOUDS)])
        raise ValueError(f"unknown upstream {redacted(name_or_url)!r}: use {names} or an http(s):// base URL")
    return value.rstrip("/")
