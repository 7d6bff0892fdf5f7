"""Gemini on Vertex AI: the Gemini codec under Vertex's paths, and Vertex's own embeddings call (``:predict``).

``POST /{v1,v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent``
(and ``:streamGenerateContent``, ``:countTokens``, ``:embedContent``, ``:batchEmbedContents``, ``:predict``;
generation also under ``…/endpoints/{id}``, where tuned models are served; all of them under
``/{version}/publishers/google/models/{model}`` too, where express mode's API keys call) speak the Gemini API's
wire format, so the Gemini codec answers them; the project and location are taken and ignored, and so are the
bearer token and the API key (never checked). google-genai in Vertex mode embeds with ``:predict``
(``instances``/``predictions``) for the text-embedding models and with ``:embedContent`` for Gemini's, whose
options it nests in ``embedContentConfig``.

Endpoint names: generation counts as ``vertex-gemini``, configured apart as ``vertex-generate`` and
``vertex-stream`` (as ``gemini-generate`` / ``gemini-stream`` refine ``gemini``); embeddings count as
``embeddings``, like every provider's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from llmreplay.errors import ApiError
from llmreplay.model import Answer, Call, Frame
from llmreplay.providers import gemini, gemini_ops
from llmreplay.providers.base import Body, RenderOptions, Route, dumps
from llmreplay.providers.gemini_render import error_status, json_body
from llmreplay.providers.gemini_request import load_body, model_name
from llmreplay.synth import embeddings
from llmreplay.synth.tokens import count

VERSIONS = ("v1", "v1beta1")
"""google-genai calls ``v1beta1`` unless told otherwise; ``v1`` is the GA surface."""
ENDPOINT = "vertex-gemini"
PUBLISHER_PATH = "/projects/{project}/locations/{location}/publishers"
"""What every Vertex AI publisher-model path has between the version and the publisher's name."""

RESOURCE_EXHAUSTED = (
    "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
)
"""What Vertex AI says on a 429 for Gemini models (shared quota); the Gemini API words its own otherwise."""


def quota_error(error: ApiError, message: str) -> ApiError:
    """A 429 as Vertex AI sends it: Google's envelope with ``message`` and no ``details``. The Gemini API's
    QuotaFailure and Help name generativelanguage.googleapis.com quotas and an ai.google.dev page, and its
    RetryInfo is not sent by Vertex either."""
    return dataclasses.replace(error, message=message, quota=None, retry_after=None)


class VertexGeminiCodec(gemini.GeminiCodec):
    """The Gemini codec with Vertex AI's 429."""

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return super().render_error(_vertex(error), opts)

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        return super().in_stream_error(_vertex(error), opts, sent)


def _vertex(error: ApiError) -> ApiError:
    return quota_error(error, RESOURCE_EXHAUSTED) if error_status(error) == 429 else error


CODEC = VertexGeminiCodec()

_PREDICT_DIMENSIONS = {"text-embedding-005": 768, "text-multilingual-embedding-002": 768}


class _Instance(Body):
    content: str
    taskType: str | None = None
    title: str | None = None


class _Parameters(Body):
    outputDimensionality: int | None = Field(default=None, ge=1, le=gemini_ops.MAX_DIMENSIONS)
    autoTruncate: bool | None = None


class PredictBody(Body):
    """``:predict`` for text embeddings: one instance per text."""

    instances: list[_Instance] = Field(min_length=1, max_length=250)
    parameters: _Parameters | None = None


def predict(call: Call, opts: RenderOptions) -> Answer:
    """``:predict``: a deterministic unit vector per instance, with its token count."""
    body: PredictBody = gemini_ops.validate_fields(PredictBody, load_body(call))
    model = model_name(call)
    dims = (body.parameters and body.parameters.outputDimensionality) or _PREDICT_DIMENSIONS.get(
        model, gemini_ops.DEFAULT_DIMENSIONS
    )
    predictions = [
        {
            "embeddings": {
                "statistics": {"truncated": False, "token_count": count(i.content)},
                "values": embeddings.vector(i.content, dims),
            }
        }
        for i in body.instances
    ]
    billable = sum(len(i.content) for i in body.instances)
    return json_body(200, {"predictions": predictions, "metadata": {"billableCharacterCount": billable}})


def _lifted(request: dict[str, Any]) -> dict[str, Any]:
    """An embed request with Vertex's ``embedContentConfig`` options where the Gemini API has them."""
    config = request.get("embedContentConfig")
    if not isinstance(config, dict):
        return request
    out = {k: v for k, v in request.items() if k != "embedContentConfig"}
    for name in ("taskType", "title", "outputDimensionality"):
        if name in config:
            out.setdefault(name, config[name])
    return out


def embed_content(call: Call, opts: RenderOptions) -> Answer:
    body = _lifted(load_body(call))
    return gemini_ops.embed_content(dataclasses.replace(call, body=dumps(body)), opts)


def batch_embed_contents(call: Call, opts: RenderOptions) -> Answer:
    body = load_body(call)
    requests = body.get("requests")
    if isinstance(requests, list):
        body = {**body, "requests": [_lifted(r) if isinstance(r, dict) else r for r in requests]}
    return gemini_ops.batch_embed_contents(dataclasses.replace(call, body=dumps(body)), opts)


def _generation(base: str) -> list[Route]:
    codec = CODEC
    return [
        Route("POST", f"{base}:generateContent", ENDPOINT, codec, key="vertex-generate"),
        Route("POST", f"{base}:streamGenerateContent", ENDPOINT, codec, key="vertex-stream"),
        Route("POST", f"{base}:countTokens", ENDPOINT, codec, op=gemini_ops.count_tokens),
    ]


def _models(base: str) -> list[Route]:
    codec = CODEC
    return [
        *_generation(base),
        Route("POST", f"{base}:embedContent", "embeddings", codec, op=embed_content),
        Route("POST", f"{base}:batchEmbedContents", "embeddings", codec, op=batch_embed_contents),
        Route("POST", f"{base}:predict", "embeddings", codec, op=predict),
    ]


def _routes(ver: str) -> list[Route]:
    # A tuned model is served from an endpoint of the project: its id stands where the model's name does.
    tuned = f"/{ver}/projects/{{project}}/locations/{{location}}/endpoints/{gemini.MODEL}"
    return [
        *_models(f"/{ver}{PUBLISHER_PATH}/google/models/{gemini.MODEL}"),
        *_generation(tuned),
        # Express mode (google-genai's vertexai=True with an api_key): no project or location in the path.
        *_models(f"/{ver}/publishers/google/models/{gemini.MODEL}"),
    ]


ROUTES: list[Route] = [r for ver in VERSIONS for r in _routes(ver)]
