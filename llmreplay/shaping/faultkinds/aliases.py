"""Other names for spellings of the grammar: the original Mock LLM Server's error types.

A script or a configuration written for the original names its errors (``errorTypes``) with these words.
Where the original's effect is already a kind's (a status, a reset), the word is an alias of that spelling,
not a kind of its own: one effect, one home. ``timeout`` needs no alias (the kind of that name hangs until
the client gives up, as the original's does) and ``slow_response`` is a kind (:mod:`.slow_response`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Alias:
    """A bare word that means another spelling of the grammar."""

    name: str
    means: str
    """The spelling it stands for (``500``, ``reset``)."""
    description: str


ORIGINAL: tuple[Alias, ...] = (
    Alias("server_error", "500", "The original's server_error: 500 Internal server error, in the provider's envelope."),
    Alias("bad_request", "400", "The original's bad_request: 400 Bad request, in the provider's envelope."),
    Alias(
        "authentication_error",
        "401",
        "The original's authentication_error: 401 invalid API key, in the provider's envelope.",
    ),
    Alias(
        "permission_denied",
        "403",
        "The original's permission_denied: 403 Permission denied, in the provider's envelope.",
    ),
    Alias("connection_reset", "reset", "The original's connection_reset: the connection is reset before any byte."),
)
"""The original's error types that are another spelling's effect, in the original's order."""
