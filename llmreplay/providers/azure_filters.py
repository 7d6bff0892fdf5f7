"""Azure OpenAI's content-filter annotations, as an answer that nothing was filtered carries them.

Chat and Completions answers list the prompt's results (``prompt_filter_results``, one per prompt) and each
choice's (``content_filter_results``): the harm categories with ``filtered`` and a ``severity``, the detectors
(jailbreak on the prompt, protected material on the output) with ``filtered`` and ``detected``. A stream sends
the prompt's results first, in a chunk of their own with no choices.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from llmreplay.model import Answer, Frame
from llmreplay.providers.base import dumps

HARMS = ("hate", "self_harm", "sexual", "violence")
_SAFE = {"filtered": False, "severity": "safe"}
_UNSEEN = {"filtered": False, "detected": False}


def prompt_results() -> list[dict[str, Any]]:
    results: dict[str, Any] = {h: dict(_SAFE) for h in HARMS}
    results["jailbreak"] = dict(_UNSEEN)
    return [{"prompt_index": 0, "content_filter_results": results}]


def choice_results() -> dict[str, Any]:
    results: dict[str, Any] = {h: dict(_SAFE) for h in HARMS}
    results["protected_material_code"] = dict(_UNSEEN)
    results["protected_material_text"] = dict(_UNSEEN)
    return results


def annotate_body(body: dict[str, Any]) -> dict[str, Any]:
    out = {**body, "prompt_filter_results": prompt_results()}
    choices = body.get("choices")
    if isinstance(choices, list):
        out["choices"] = [
            {**c, "content_filter_results": choice_results()} if isinstance(c, dict) else c for c in choices
        ]
    return out


_FIRST_CHUNK = (
    b"data: "
    + dumps(
        {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": prompt_results()}
    )
    + b"\n\n"
)


def annotate(answer: Answer) -> Answer:
    """``answer`` with the annotations: in its body, or as a stream's first chunk."""
    if answer.stream:
        return dataclasses.replace(answer, frames=(Frame(_FIRST_CHUNK, paced=False), *answer.frames))
    body = orjson.loads(answer.body)
    if not isinstance(body, dict):
        return answer
    first = answer.frames[0]
    return dataclasses.replace(answer, frames=(first._replace(data=dumps(annotate_body(body))),))
