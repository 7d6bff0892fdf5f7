"""Re-signing AWS SigV4 requests for the upstream, when recording Bedrock.

A Bedrock client signs for the host it talks to (llmreplay), and the host is part of what is signed, so the
real endpoint would refuse the forwarded signature. The recorder signs again, for the upstream's host, with
its own AWS credentials (botocore's usual chain: ``AWS_ACCESS_KEY_ID`` …, a profile, a role). botocore is an
optional dependency: without it, or without credentials, the request goes as the client signed it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import MutableMapping
from typing import Any

from yarl import URL

log = logging.getLogger("llmreplay")

_SCHEME = "AWS4-HMAC-SHA256 "
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOST_REGION = re.compile(r"^[a-z-]+\.([a-z0-9-]+)\.amazonaws\.com$")
_SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")


# What botocore's credential chain reads from the environment: a change of any of them is looked up afresh.
_CHAIN_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_EC2_METADATA_DISABLED",
)


@functools.lru_cache(maxsize=4)
def _chain(env: tuple[str | None, ...]) -> Any:
    """The credentials botocore's chain finds, once per environment: the look-up reads files and may ask an
    instance metadata service, 14 ms with keys in the environment and 90 ms to 0.5 s without, which every signed
    request paid on the event loop. botocore refreshes temporary credentials itself."""
    try:
        from botocore.session import get_session
    except ImportError:
        return None
    return get_session().get_credentials()


def _credentials() -> Any:
    creds = _chain(tuple(os.environ.get(name) for name in _CHAIN_ENV))
    return None if creds is None else creds.get_frozen_credentials()


def resign(method: str, url: URL, headers: MutableMapping[str, str], body: bytes) -> bool:
    """Replace a SigV4 signature in ``headers`` with the recorder's own for ``url``; False when the request
    carries none, or the recorder has no botocore or no credentials (the request then goes unchanged)."""
    auth = headers.get("Authorization", "")
    scope = _SCOPE.search(auth) if auth.startswith(_SCHEME) else None
    if scope is None:
        return False
    creds = _credentials()
    if creds is None:
        log.warning("llmreplay: forwarding an AWS request signed for llmreplay: no AWS credentials to sign it again")
        return False
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    # The region of the upstream's host when it names one (bedrock-runtime.eu-west-1…), else the client's.
    host_region = _HOST_REGION.match(url.host or "")
    region = host_region[1] if host_region else scope[1]
    for name in _SIGNATURE_HEADERS:
        headers.pop(name, None)
    request = AWSRequest(method=method, url=str(url), data=body, headers=dict(headers))
    SigV4Auth(creds, scope[2], region).add_auth(request)
    for name in _SIGNATURE_HEADERS:
        if name in request.headers:
            headers[name] = request.headers[name]
    return True


__all__ = ["resign"]
