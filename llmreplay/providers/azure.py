"""Azure OpenAI: the OpenAI codecs under Azure's paths, with Azure's extras, errors and rate-limit headers.

``POST /openai/deployments/{deployment}/chat/completions`` (and ``/completions``, ``/embeddings``) with
``?api-version=…``, the Responses API at ``/openai/responses`` (where ``AzureOpenAI`` sends it), and the v1 GA
surface ``/openai/v1/…`` speak OpenAI's wire format, so the OpenAI codecs answer them. The deployment names the
model (a body without ``model`` is whole); the ``api-key`` header or a bearer token is taken unchecked. Chat
and Completions answers carry Azure's content-filter annotations (nothing filtered, every category ``safe``),
a 429 is Azure's ``{"error": {"code": "429", "message": …}}`` and the quota headers are the remaining counts
Azure sends. The annotations themselves are :mod:`llmreplay.providers.azure_filters`.

Endpoint names: ``azure-chat-completions``, ``azure-responses``, ``azure-completions``, ``azure-embeddings``.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import ClassVar

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Quota, Reply, Request
from llmreplay.providers import (
    azure_filters,
    openai_chat,
    openai_common,
    openai_completions,
    openai_embeddings,
    openai_models,
    openai_responses,
    openai_responses_background,
    openai_responses_store,
)
from llmreplay.providers.base import Codec, RenderOptions, Route, SimpleOp, dumps, json_answer, load_json

DEPLOYMENT = "/openai/deployments/{deployment}"
V1 = "/openai/v1"
API_VERSION = "api-version"
REGION = "eastus"
"""The ``x-ms-region`` every answer names."""


def azure_call(call: Call) -> Call:
    """The call as the OpenAI codec reads it: on a deployment's path the deployment is the model, and the
    ``api-version`` Azure routes by must be there (without it Azure answers 404)."""
    deployment = call.params.get("deployment")
    if deployment is None:
        return call
    if not call.query.get(API_VERSION):
        raise ApiError(ErrorKind.NOT_FOUND, "Resource not found", code="404")
    data = load_json(call)
    if not isinstance(data, dict) or data.get("model") == deployment:
        return call
    return dataclasses.replace(call, body=dumps({**data, "model": deployment}))


def apim_request_id(rid: str) -> str:
    """Azure's ``apim-request-id``: the answer's request id (32 hex digits) as a UUID."""
    return str(uuid.UUID(rid))


def azure_headers(answer: Answer, opts: RenderOptions) -> Answer:
    """Azure's own headers beside OpenAI's."""
    extra = (("apim-request-id", apim_request_id(opts.request_id)), ("x-ms-region", REGION))
    return dataclasses.replace(answer, headers=(*answer.headers, *extra))


def render_error(error: ApiError, opts: RenderOptions, operation: str) -> Answer:
    """Azure's envelope: a rate limit is ``{"error": {"code": "429", "message": …}}`` naming the operation and
    the wait; other errors keep OpenAI's ``{message, type, param, code}``."""
    if error.kind is not ErrorKind.RATE_LIMIT:
        return azure_headers(openai_common.render_error(error, opts), opts)
    wait = error.headers.get("retry-after", "1")
    message = (
        f"Requests to the {operation} Operation under Azure OpenAI API have exceeded call rate limit of your "
        f"current OpenAI S0 pricing tier. Please retry after {wait} second{'s' if wait != '1' else ''}. Please go "
        "here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
    )
    headers = {**openai_common.base_headers(opts), **error.headers}
    status = openai_common.error_status(error)
    return azure_headers(json_answer(status, {"error": {"code": str(status), "message": message}}, headers), opts)


def quota_headers(quota: Quota) -> dict[str, str]:
    """The remaining (and limit) counts and ``retry-after``: Azure sends no reset times."""
    return {k: v for k, v in openai_common.quota_headers(quota).items() if not k.startswith("x-ratelimit-reset-")}


class _Azure(Codec):
    """What every Azure variant changes of its OpenAI codec (listed first among the bases)."""

    operation: ClassVar[str] = ""
    """Azure's name of the operation, as its 429 message says it (``ChatCompletions_Create``)."""
    filters: ClassVar[bool] = False
    """Whether its answers carry Azure's content-filter annotations (Chat and Completions do)."""

    def parse_request(self, call: Call) -> Request:
        return super().parse_request(azure_call(call))  # type: ignore[safe-super]

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        answer = super().render(reply, request, opts)  # type: ignore[safe-super]
        if self.filters and answer.status == 200:
            answer = azure_filters.annotate(answer)
        return azure_headers(answer, opts)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return render_error(error, opts, self.operation)

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        return quota_headers(quota)

    def request_id_form(self, rid: str) -> str | None:
        return apim_request_id(rid)


class AzureChatCodec(_Azure, openai_chat.OpenAIChatCodec):
    endpoint = "azure-chat-completions"
    operation = "ChatCompletions_Create"
    filters = True


class AzureCompletionsCodec(_Azure, openai_completions.OpenAICompletionsCodec):
    endpoint = "azure-completions"
    operation = "Completions_Create"
    filters = True


class AzureResponsesCodec(_Azure, openai_responses.OpenAIResponsesCodec):
    endpoint = "azure-responses"
    operation = "Responses_Create"


CHAT, COMPLETIONS, RESPONSES = AzureChatCodec(), AzureCompletionsCodec(), AzureResponsesCodec()


def _on_azure(op: SimpleOp) -> SimpleOp:
    def run(call: Call, opts: RenderOptions) -> Answer:
        return azure_headers(op(azure_call(call), opts), opts)

    return run


embeddings = _on_azure(openai_embeddings.embeddings)


def _responses_routes(base: str) -> list[Route]:
    ops = openai_responses_store
    return [
        Route("POST", f"{base}/responses", "azure-responses", RESPONSES),
        Route("POST", f"{base}/responses/input_tokens", "azure-responses", RESPONSES, op=ops.count_input_tokens),
        Route("GET", f"{base}/responses/{{response_id}}", "azure-responses", RESPONSES, op=ops.retrieve),
        Route("DELETE", f"{base}/responses/{{response_id}}", "azure-responses", RESPONSES, op=ops.delete),
        Route("GET", f"{base}/responses/{{response_id}}/input_items", "azure-responses", RESPONSES, op=ops.input_items),
        Route(
            "POST",
            f"{base}/responses/{{response_id}}/cancel",
            "azure-responses",
            RESPONSES,
            op=openai_responses_background.cancel,
        ),
    ]


def _generation_routes(base: str) -> list[Route]:
    return [
        Route("POST", f"{base}/chat/completions", "azure-chat-completions", CHAT),
        Route("POST", f"{base}/completions", "azure-completions", COMPLETIONS),
        Route("POST", f"{base}/embeddings", "azure-embeddings", CHAT, op=embeddings),
    ]


ROUTES: list[Route] = [
    *_generation_routes(DEPLOYMENT),
    *_generation_routes(V1),
    *(
        Route("GET", f"{base}/models", "models", CHAT, op=_on_azure(openai_models.list_models))
        for base in ("/openai", V1)
    ),
    *_responses_routes("/openai"),
    *_responses_routes(V1),
]

__all__ = [
    "CHAT",
    "COMPLETIONS",
    "RESPONSES",
    "ROUTES",
    "AzureChatCodec",
    "AzureCompletionsCodec",
    "AzureResponsesCodec",
    "azure_call",
    "quota_headers",
    "render_error",
]
