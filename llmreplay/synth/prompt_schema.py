"""A JSON Schema that a prompt carries, for apps that ask for JSON in words rather than by the API's
structured-output field (``response_format: json_object`` with the schema in the system message, instructor's
JSON modes, pydantic-ai's PromptedOutput, LangChain's json_mode): a real model follows it, so the synthetic one
does too.

A schema is a JSON object in the text with ``properties`` (or a ``$schema``/``$defs`` of its own), found by
decoding at each ``{``. The work is bounded: at most :data:`MAX_TEXT` characters of each text and
:data:`MAX_TRIES` decode attempts in all, so a hostile prompt costs no more than a long one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

MAX_TEXT = 100_000
"""Characters of each text looked at."""
MAX_TRIES = 100
"""Decode attempts in all (one per ``{`` looked at)."""

_ASKS_FOR_JSON = re.compile(r"\bjson\b", re.IGNORECASE)
_MENTIONS_SCHEMA = re.compile(r"\bschema\b", re.IGNORECASE)
_DECODER = json.JSONDecoder()


def _schema_like(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("properties"), dict):
        return True
    return "$schema" in value or ("$defs" in value and "type" in value)


def schema_in(texts: Iterable[str]) -> Mapping[str, Any] | None:
    """The last schema-like JSON object in ``texts`` (the latest instruction wins), or None."""
    found: Mapping[str, Any] | None = None
    tries = MAX_TRIES
    for text in texts:
        text = text[:MAX_TEXT]
        i = text.find("{")
        while i >= 0 and tries > 0:
            tries -= 1
            try:
                value, end = _DECODER.raw_decode(text, i)
            except (ValueError, RecursionError):  # deep nesting is a RecursionError in json's decoder
                i = text.find("{", i + 1)
                continue
            if _schema_like(value):
                found = value
                i = text.find("{", end)
            else:
                # A JSON object that is not a schema may hold one ({"schema": {...}}, an example wrapper).
                i = text.find("{", i + 1)
    return found


def asked_schema(texts: list[str]) -> Mapping[str, Any] | None:
    """A schema the messages clearly ask the answer to follow, without the API's JSON mode: one that stands in
    a text that names both JSON and a schema."""
    asking = [t for t in texts if _ASKS_FOR_JSON.search(t[:MAX_TEXT]) and _MENTIONS_SCHEMA.search(t[:MAX_TEXT])]
    return schema_in(asking) if asking else None
