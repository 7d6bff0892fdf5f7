"""JSON asked for in the prompt, with its JSON Schema there too, as frameworks ask for it: pydantic-ai's
PromptedOutput (the schema in the instructions; ``response_format: json_object`` on OpenAI) and LangChain's
json_mode (the app's own system prompt carries the schema). Every reply validates against that schema and the
framework parses it into the model (issue 17)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from llmreplay.server import BackgroundServer
from tests.frameworks.conftest import RUNS
from tests.frameworks.pydantic_ai_models import MODELS

pydantic_ai = pytest.importorskip("pydantic_ai")
lc_openai = pytest.importorskip("langchain_openai")
lc_google = pytest.importorskip("langchain_google_genai")

pytestmark = pytest.mark.sdk

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


SCHEMA = Person.model_json_schema()
SYSTEM = "Extract the person. Respond with JSON that validates against this JSON schema:\n" + json.dumps(SCHEMA)


@pytest.mark.parametrize("api", MODELS)
async def test_pydantic_ai_prompted_output(server: BackgroundServer, api: str) -> None:
    # retries=0: output that fails validation ends the run instead of being quietly asked for again.
    agent = pydantic_ai.Agent(MODELS[api](server.url), output_type=pydantic_ai.PromptedOutput(Person), retries=0)
    for _ in range(RUNS):
        result = await agent.run(USER)
        (reply,) = [m for m in result.all_messages() if m.kind == "response"]
        (text,) = [p.content for p in reply.parts if p.part_kind == "text"]
        jsonschema.validate(json.loads(text), SCHEMA)
        assert isinstance(result.output, Person)


def lc_chat(url: str) -> Any:
    return lc_openai.ChatOpenAI(model="gpt-4o", base_url=f"{url}/v1", api_key="sk-llmreplay", max_retries=0)


def lc_responses(url: str) -> Any:
    return lc_chat(url).model_copy(update={"use_responses_api": True})


def lc_gemini(url: str) -> Any:
    return lc_google.ChatGoogleGenerativeAI(model="gemini-2.5-flash", base_url=url, api_key="llmreplay", max_retries=0)


# ChatAnthropic has no json_mode: Anthropic's API has no JSON switch to turn on.
LANGCHAIN: dict[str, Callable[[str], Any]] = {"chat": lc_chat, "responses": lc_responses, "gemini": lc_gemini}


@pytest.mark.parametrize("api", LANGCHAIN)
def test_langchain_json_mode(server: BackgroundServer, api: str) -> None:
    model = LANGCHAIN[api](server.url).with_structured_output(Person, method="json_mode", include_raw=True)
    for _ in range(RUNS):
        out = model.invoke([("system", SYSTEM), ("user", USER)])
        assert out["parsing_error"] is None
        jsonschema.validate(json.loads(out["raw"].text), SCHEMA)
        assert isinstance(out["parsed"], Person)
