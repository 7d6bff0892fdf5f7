"""A cassette as one JSON document, for reading and editing by hand, and back.

Bytes that are valid UTF-8 are written as plain strings, anything else as
``{"base64": "…"}``; both come back as the same bytes, so a round trip is exact.
Layout::

    {"format": "llmreplay-cassette+json", "header": {…},
     "interactions": [{"api", "endpoint", "recorded_at", "extra", "model", "provenance", "digest",
                       "request": {"method", "path", "query", "headers", "body"},
                       "response": {"status", "headers", "body" | "events": [{"at_us", "data"}],
                                    "headers_us", "end_us", "error"}}]}
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from llmreplay.cassettes import provenance
from llmreplay.cassettes.model import Header, Interaction, RecordedEvent, RecordedRequest, RecordedResponse

FORMAT = "llmreplay-cassette+json"


class JsonCassetteError(ValueError):
    """A JSON document that is not an exported cassette; the message says where."""


# ---- bytes ---------------------------------------------------------------------------------


def encode_bytes(data: bytes) -> str | dict[str, str]:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


def decode_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise JsonCassetteError(f"{where}: invalid base64") from None
    raise JsonCassetteError(f"{where}: expected a string or {{'base64': …}}, got {type(value).__name__}")


def _encode_any(obj: Any) -> Any:
    """Extra fields may hold bytes (msgpack has them, JSON has not)."""
    if isinstance(obj, bytes):
        return {"base64": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, dict):
        return {str(k): _encode_any(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_any(v) for v in obj]
    return obj


def _decode_any(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"base64"} and isinstance(obj["base64"], str):
            return base64.b64decode(obj["base64"])
        return {k: _decode_any(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_any(v) for v in obj]
    return obj


# ---- to JSON -------------------------------------------------------------------------------


def interaction_to_json(it: Interaction) -> dict[str, Any]:
    req, resp = it.request, it.response
    response: dict[str, Any] = {"status": resp.status, "headers": [list(h) for h in resp.headers]}
    if resp.events is not None:
        response["events"] = [{"at_us": e.at_us, "data": encode_bytes(e.data)} for e in resp.events]
    else:
        response["body"] = None if resp.body is None else encode_bytes(resp.body)
    response.update(headers_us=resp.headers_us, end_us=resp.end_us, error=resp.error)
    out: dict[str, Any] = {
        "api": it.api,
        "endpoint": it.endpoint,
        "recorded_at": it.recorded_at,
        "request": {
            "method": req.method,
            "path": req.path,
            "query": [list(q) for q in req.query],
            "headers": [list(h) for h in req.headers],
            "body": encode_bytes(req.body),
        },
        "response": response,
    }
    if it.extra:
        out["extra"] = _encode_any(it.extra)
    if it.model is not None:
        out["model"] = it.model
    if it.provenance:
        out["provenance"] = dict(it.provenance)
    out["digest"] = provenance.digest(out)
    return out


def to_json(header: Header, interactions: list[Interaction]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "header": header.to_obj(),
        "interactions": [interaction_to_json(it) for it in interactions],
    }


def dumps(header: Header, interactions: list[Interaction]) -> str:
    return json.dumps(to_json(header, interactions), ensure_ascii=False, indent=2) + "\n"


# ---- from JSON -----------------------------------------------------------------------------


def _pairs(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    if not isinstance(value, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
        raise JsonCassetteError(f"{where}: expected a list of [name, value] pairs")
    return tuple((str(k), str(v)) for k, v in value)


def _int(value: Any, where: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise JsonCassetteError(f"{where}: expected an integer, got {value!r}")
    return value


def interaction_from_json(obj: Any, where: str) -> Interaction:
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("request"), dict)
        or not isinstance(obj.get("response"), dict)
    ):
        raise JsonCassetteError(f"{where}: expected an object with 'request' and 'response'")
    rq, rs = obj["request"], obj["response"]
    if not isinstance(rq.get("method"), str) or not isinstance(rq.get("path"), str):
        raise JsonCassetteError(f"{where}.request: 'method' and 'path' must be strings")
    request = RecordedRequest(
        rq["method"],
        rq["path"],
        _pairs(rq.get("query"), f"{where}.request.query"),
        _pairs(rq.get("headers"), f"{where}.request.headers"),
        decode_bytes(rq.get("body", ""), f"{where}.request.body"),
    )
    events: tuple[RecordedEvent, ...] | None = None
    body: bytes | None = None
    if rs.get("events") is not None:
        if not isinstance(rs["events"], list):
            raise JsonCassetteError(f"{where}.response.events: expected a list")
        evs = []
        for j, e in enumerate(rs["events"]):
            w = f"{where}.response.events[{j}]"
            if not isinstance(e, dict):
                raise JsonCassetteError(f"{w}: expected an object with 'at_us' and 'data'")
            evs.append(RecordedEvent(_int(e.get("at_us"), f"{w}.at_us"), decode_bytes(e.get("data"), f"{w}.data")))
        events = tuple(evs)
    elif rs.get("body") is not None:
        body = decode_bytes(rs["body"], f"{where}.response.body")
    error = rs.get("error")
    response = RecordedResponse(
        _int(rs.get("status"), f"{where}.response.status"),
        _pairs(rs.get("headers"), f"{where}.response.headers"),
        body,
        events,
        _int(rs.get("headers_us"), f"{where}.response.headers_us", 0),
        _int(rs.get("end_us"), f"{where}.response.end_us", 0),
        None if error is None else str(error),
    )
    extra = obj.get("extra") or {}
    if not isinstance(extra, dict):
        raise JsonCassetteError(f"{where}.extra: expected an object")
    api, model, how = obj.get("api"), obj.get("model"), obj.get("provenance") or {}
    if not isinstance(how, dict):
        raise JsonCassetteError(f"{where}.provenance: expected an object")
    return Interaction(
        request,
        response,
        None if api is None else str(api),
        str(obj.get("endpoint") or "other"),
        str(obj.get("recorded_at") or ""),
        _decode_any(extra),
        None if model is None else str(model),
        {str(k): str(v) for k, v in how.items()},
    )


def from_json(doc: Any, file: str = "") -> tuple[Header, list[Interaction]]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise JsonCassetteError(f'not an exported llmreplay cassette (no "format": "{FORMAT}")')
    try:
        header = Header.from_obj(doc.get("header"))
    except ValueError as exc:
        raise JsonCassetteError(f"header: {exc}") from None
    items = doc.get("interactions")
    if not isinstance(items, list):
        raise JsonCassetteError("'interactions' must be a list")
    read = [interaction_from_json(o, f"interactions[{i}]") for i, o in enumerate(items)]
    # Each recording says how it came back: unchanged (its digest matches), edited by hand, or imported.
    return header, [provenance.from_json(it, o, file) for it, o in zip(read, items, strict=True)]


def read_json(p: Path, error: type[ValueError]) -> Any:
    """The JSON document in the file ``p``; ``error`` naming the file when it cannot be read or is not JSON."""
    try:
        return json.loads(p.read_bytes())
    except OSError as exc:
        raise error(f"{p}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise error(f"{p}: not valid JSON: {exc}") from None


def load(path: str | Path) -> tuple[Header, list[Interaction]]:
    """An exported cassette file; JsonCassetteError (naming the file) when it is not one."""
    p = Path(path)
    doc = read_json(p, JsonCassetteError)
    try:
        return from_json(doc, p.name)
    except JsonCassetteError as exc:
        raise JsonCassetteError(f"{p}: {exc}") from None


__all__ = [
    "FORMAT",
    "JsonCassetteError",
    "decode_bytes",
    "dumps",
    "encode_bytes",
    "from_json",
    "interaction_from_json",
    "interaction_to_json",
    "load",
    "read_json",
    "to_json",
]
