"""The upstreams ``--upstream`` knows by name, and how any other is given."""

from __future__ import annotations

from yarl import URL

from llmreplay.urls import redacted

UPSTREAMS: dict[str, str] = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}


def resolve_upstream(name_or_url: str) -> str:
    """``openai``/``anthropic``/``gemini`` or an http(s) URL → base URL without trailing slash."""
    value = name_or_url.strip()
    known = UPSTREAMS.get(value.lower())
    if known is not None:
        return known
    try:
        url = URL(value)
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query_string or url.fragment:
        names = ", ".join(UPSTREAMS)
        raise ValueError(f"unknown upstream {redacted(name_or_url)!r}: use {names} or an http(s):// base URL")
    return value.rstrip("/")
