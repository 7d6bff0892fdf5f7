"""Re-signing AWS SigV4 requests for the upstream, when recording Bedrock.

A Bedrock client signs for the host it talks to (llmreplay), and the host is part of what is signed, so the
real endpoint would refuse the forwarded signature. The recorder signs again, for the upstream's host, with
its own AWS credentials (botocore's usual chain: ``AWS_ACCESS_KEY_ID`` …, a profile, a role). botocore is an
optional dependency: without it, or without credentials, the request goes as the client signed it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

from yarl import URL

log = logging.getLogger("llmreplay")

_SCHEME = "AWS4-HMAC-SHA256 "
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOST_REGION = re.compile(r"^[a-z-]+\.([a-z0-9-]+)\.amazonaws\.com$")
_SIGNATURE_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")


def _credentials() -> Any:
    try:
        from botocore.session import get_session
    except ImportError:
        return None
    creds = get_session().get_credentials()
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
