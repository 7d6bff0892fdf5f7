"""instructor against a running llmreplay, run by tests/frameworks/test_instructor.py with the python of
.venv-instructor (instructor cannot be installed beside the test environment's openai; see
requirements/instructor.in).

    python instructor_modes.py URL RUNS

Asks for RUNS extractions in each mode, one request each (max_retries=0: a reply instructor cannot parse is a
failure here, not quietly asked for again), and prints one JSON object: for each mode, how the runs ended
(``parsed`` or the error) and how the requests instructor sent asked for JSON (``response_format`` type, JSON
Schema in a system prompt or not), counted.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal

import anthropic
import instructor
import openai
from pydantic import BaseModel, Field

USER = "Ann is 31 and lives at 4 Rue Cler, Paris."


class Address(BaseModel):
    street: str = Field(min_length=1)
    city: str
    postcode: str | None = None


class Person(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0, le=130)
    tags: list[Literal["friend", "colleague"]]
    home: Address


def text(prompt: Any) -> str:
    """The text of a system prompt: a string, content blocks or messages."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return "".join(map(text, prompt))
    if isinstance(prompt, dict):
        return text(prompt.get("text") or prompt.get("content"))
    return ""


def openai_client(url: str, mode: instructor.Mode) -> Any:
    return instructor.from_openai(openai.OpenAI(base_url=f"{url}/v1", api_key="sk-llmreplay", max_retries=0), mode=mode)


def anthropic_client(url: str, mode: instructor.Mode) -> Any:
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-llmreplay", max_retries=0)
    return instructor.from_anthropic(client, mode=mode)


MODES: dict[str, tuple[Callable[[str, instructor.Mode], Any], instructor.Mode, str]] = {
    "JSON": (openai_client, instructor.Mode.JSON, "gpt-4o"),
    "MD_JSON": (openai_client, instructor.Mode.MD_JSON, "gpt-4o"),
    "JSON_SCHEMA": (openai_client, instructor.Mode.JSON_SCHEMA, "gpt-4o"),
    "ANTHROPIC_JSON": (anthropic_client, instructor.Mode.ANTHROPIC_JSON, "claude-sonnet-4-6"),
    "ANTHROPIC_TOOLS": (anthropic_client, instructor.Mode.ANTHROPIC_TOOLS, "claude-sonnet-4-6"),
}


def run(url: str, name: str, runs: int) -> dict[str, Any]:
    make, mode, model = MODES[name]
    client = make(url, mode)
    asked: Counter[str] = Counter()

    def sent(*_args: Any, **kwargs: Any) -> None:
        # How the request asked for JSON: its response_format, and whether a system prompt held a JSON Schema.
        messages = [m for m in kwargs.get("messages", []) if m.get("role") == "system"]
        in_system = '"properties"' in text(kwargs.get("system")) + text(messages)
        asked[f"response_format {(kwargs.get('response_format') or {}).get('type')}, schema in system {in_system}"] += 1

    client.on("completion:kwargs", sent)
    outcomes: Counter[str] = Counter()
    for _ in range(runs):
        try:
            person = client.create(
                model=model,
                max_tokens=1024,
                messages=[{"role": "user", "content": USER}],
                response_model=Person,
                max_retries=0,
            )
        except Exception as e:  # every way a run fails is tallied, not only the first
            outcomes[f"{type(e).__name__}: {str(e)[:300]}"] += 1
        else:
            outcomes["parsed" if isinstance(person, Person) else type(person).__name__] += 1
    return {"outcomes": dict(outcomes), "requests": dict(asked)}


def main() -> None:
    url, runs = sys.argv[1], int(sys.argv[2])
    print(json.dumps({name: run(url, name, runs) for name in MODES}))


if __name__ == "__main__":
    main()
