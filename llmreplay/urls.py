"""URLs as they may be shown (the banner, a log line, an error message, the dashboard, a cassette's header):
without the passwords a shared-state or upstream URL can carry."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

_SECRET_PARAMS = frozenset({"password"})
"""Query parameters redis-py reads a password from (``redis://host/0?password=…``, ``unix://…?password=…``)."""


def redacted(url: str) -> str:
    """``url`` with its password, in the user part or the query, shown as ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<a URL that cannot be parsed>"  # it could hold anything, a password included
    if password is None and not parts.query:
        return url
    if password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            hidden = [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs]
            parts = parts._replace(query=urlencode(hidden, safe="*"))
    # Put back by hand: urlunsplit drops the empty host of unix:///path.
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}{fragment}"
