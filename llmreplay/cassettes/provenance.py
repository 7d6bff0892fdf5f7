"""How each recording was made, and the model it asked for: stamped where recordings are made.

A recording is made live (the recorder: its upstream and the client's user agent and SDK), imported (from a
vcrpy YAML file or an exported JSON document) or edited by hand (an exported document changed before it was
imported again: its digest no longer matches). Each is written on the interaction itself, as recordings are
appended to a cassette without rewriting its header.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from llmreplay.cassettes.model import Interaction
from llmreplay.providers.registry import match_route

RECORDED, IMPORTED, EDITED = "recorded", "imported", "edited"

_CLIENT_HEADERS = ("x-goog-api-client", "x-stainless-package-version")
"""Where the official SDKs name themselves besides the user agent: google-genai's ``google-genai-sdk/1.2
gl-python/3.12``; openai's and anthropic's package version (their ``x-stainless-lang`` says the language)."""


def model_of(it: Interaction) -> str:
    """The model asked for: the one kept with the recording, else the request body's ``model``, else the path's
    (Gemini)."""
    if it.model is not None:
        return it.model
    return _asked_model(it)


def _asked_model(it: Interaction) -> str:
    body = it.request.body
    try:
        obj = json.loads(body) if body[:1] == b"{" else None
    except ValueError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("model"), str):
        return obj["model"]
    found = match_route(it.request.method, it.request.path)
    return found[1].get("model", "") if found else ""


def _header(it: Interaction, name: str) -> str:
    return next((v for k, v in it.request.headers if k == name), "")


def client_of(it: Interaction) -> str:
    """The SDK that sent the request, as it names itself (``python openai 1.54.0``, ``google-genai-sdk/1.2``)."""
    goog = _header(it, "x-goog-api-client")
    if goog:
        return goog
    version = _header(it, "x-stainless-package-version")
    if version:
        ua = _header(it, "user-agent").split("/", 1)[0]
        lang = _header(it, "x-stainless-lang")
        return " ".join(p for p in (lang, ua.lower(), version) if p)
    return ""


def recorded(it: Interaction, upstream: str) -> Interaction:
    """A live recording from ``upstream``, with the client that asked for it."""
    how = {"how": RECORDED, "upstream": upstream}
    for key, value in (("user_agent", _header(it, "user-agent")), ("client", client_of(it))):
        if value:
            how[key] = value
    return dataclasses.replace(it, model=_asked_model(it), provenance=how)


def imported(it: Interaction, source: str, file: str) -> Interaction:
    """An interaction imported from ``source`` (``vcr`` or ``json``) read from ``file``."""
    return dataclasses.replace(it, model=model_of(it), provenance={"how": IMPORTED, "from": source, "file": file})


def digest(obj: dict[str, Any]) -> str:
    """A JSON interaction's fingerprint, its provenance and digest left out: an export writes it, and an import
    that finds it changed knows the recording was edited by hand."""
    rest = {k: v for k, v in obj.items() if k not in ("provenance", "digest")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def from_json(it: Interaction, obj: dict[str, Any], file: str) -> Interaction:
    """An interaction read back from an exported JSON document: as it was when the digest still matches, edited
    by hand when it does not, imported when the document carries no digest (written by another tool)."""
    written = obj.get("digest")
    if not isinstance(written, str):
        return imported(it, "json", file)
    if written == digest(obj):
        return it
    return dataclasses.replace(it, model=_asked_model(it), provenance={"how": EDITED, "file": file})


def describe(it: Interaction) -> str:
    """One short phrase for a listing: ``recorded from https://api.openai.com``, ``imported from vcr`` …"""
    p = it.provenance
    how = p.get("how", "")
    if how == RECORDED:
        return f"recorded from {p.get('upstream') or '?'}" + (f" by {p['client']}" if p.get("client") else "")
    if how == IMPORTED:
        return f"imported from {p.get('from', '?')}"
    if how == EDITED:
        return "edited by hand"
    return how or "-"


__all__ = [
    "EDITED",
    "IMPORTED",
    "RECORDED",
    "client_of",
    "describe",
    "digest",
    "from_json",
    "imported",
    "model_of",
    "recorded",
]
