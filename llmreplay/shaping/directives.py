"""Per-request control: the ``x-llmreplay-*`` request headers, parsed once per request.

=============================  ==========================================================
``x-llmreplay-status``         answer with this HTTP error (``429``, ``503`` …)
``x-llmreplay-fault``          any outcome (``disconnect@5``, ``timeout:2000`` …)
``x-llmreplay-scenario``       a sequence (``429,429,ok``) or a named one (``@flaky``)
``x-llmreplay-scenario-key``   which sequence cursor this request advances
``x-llmreplay-ttft-ms``        time to first token for this request
``x-llmreplay-gap-ms``         delay between chunks
``x-llmreplay-jitter-ms``      random extra delay per chunk, 0 to this
``x-llmreplay-chunk-size``     characters per chunk
``x-llmreplay-tool-call``      ``true`` / ``false`` / a tool name: force or forbid a call
``x-llmreplay-seed``           makes this reply reproducible
``x-llmreplay-retry-after-ms`` the wait an injected 429/5xx asks for
``x-llmreplay-test-id``        the test the request belongs to (journal, rules, scenario keys)
``x-llmreplay-strict``         ``true``: only a rule or a recording may answer; else a 400
=============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from annotated_types import Le
from pydantic import BaseModel

from llmreplay.configmodels import FailureConfig, LatencyConfig
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.shaping.outcomes import Outcome, parse

PREFIX = "x-llmreplay-"
TEST_ID = PREFIX + "test-id"
SEED = PREFIX + "seed"


@dataclass(frozen=True, slots=True)
class Directives:
    outcome: Outcome | None = None
    scenario: str | None = None
    scenario_key: str | None = None
    ttft_ms: float | None = None
    gap_ms: float | None = None
    jitter_ms: float | None = None
    chunk_size: int | None = None
    tool_call: bool | str | None = None
    """True/False force or forbid a tool call; a string forces that tool."""
    retry_after_ms: float | None = None
    strict: bool = False
    """Only a rule or a recording may answer: a request neither has is the client's 400."""


NONE = Directives()


def _bad(header: str, value: str, allowed: str) -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, f"Invalid header {header}: {value!r}; expected {allowed}.", param=header)


def _ceiling(model: type[BaseModel], field: str) -> float:
    """The upper bound of the live field a header stands in for: a header takes what the admin API takes."""
    return next(m.le for m in model.model_fields[field].metadata if isinstance(m, Le))


def _number(
    headers: Mapping[str, str], name: str, maximum: float, *, integer: bool = False, minimum: float = 0
) -> float | None:
    header = PREFIX + name
    raw = headers.get(header)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    # NaN fails both comparisons, infinity the second.
    if value is None or not minimum <= value <= maximum:
        kind = "an integer" if integer else "a number"
        raise _bad(header, raw, f"{kind} from {minimum:g} to {maximum:.0f}")
    return value


_MS = _ceiling(LatencyConfig, "delay_ms")
_CHUNK = _ceiling(LatencyConfig, "chunk_size")
_RETRY_MS = _ceiling(FailureConfig, "retry_after_ms")


def parse_headers(headers: Mapping[str, str]) -> Directives:
    """The directives of a request whose header names are lower case; raises ApiError."""
    if not any(k.startswith(PREFIX) for k in headers):
        return NONE
    outcome: Outcome | None = None
    status = headers.get(PREFIX + "status")
    if status is not None:
        if not (status.isascii() and status.isdigit() and 200 <= int(status) <= 599):
            raise _bad(PREFIX + "status", status, "an HTTP status from 200 to 599")
        if int(status) >= 400:
            outcome = parse(status)
    fault = headers.get(PREFIX + "fault")
    if fault is not None and outcome is None:
        try:
            outcome = parse(fault)
        except ValueError as exc:
            msg = f"Invalid header {PREFIX}fault: {exc}"
            raise ApiError(ErrorKind.INVALID_REQUEST, msg, param=PREFIX + "fault") from None
    tool = headers.get(PREFIX + "tool-call")
    tool_call: bool | str | None = None
    if tool is not None:
        low = tool.strip().lower()
        tool_call = True if low in {"true", "1", "yes"} else False if low in {"false", "0", "no"} else tool.strip()
    chunk = _number(headers, "chunk-size", _CHUNK, integer=True, minimum=1)
    strict = headers.get(PREFIX + "strict")
    if strict is not None and strict.strip().lower() not in _FLAGS:
        raise _bad(PREFIX + "strict", strict, "true or false")
    return Directives(
        outcome=outcome,
        scenario=headers.get(PREFIX + "scenario") or None,
        scenario_key=headers.get(PREFIX + "scenario-key") or None,
        ttft_ms=_number(headers, "ttft-ms", _MS),
        gap_ms=_number(headers, "gap-ms", _MS),
        jitter_ms=_number(headers, "jitter-ms", _MS),
        chunk_size=int(chunk) if chunk is not None else None,
        tool_call=tool_call,
        retry_after_ms=_number(headers, "retry-after-ms", _RETRY_MS),
        strict=strict is not None and _FLAGS[strict.strip().lower()],
    )


_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


SETTLED_HERE = frozenset(PREFIX + n for n in ("status", "fault", "scenario", "scenario-key", "retry-after-ms"))
"""The directives whose outcome this server settles for a forwarded request too: they are not sent upstream, so
that an llmreplay upstream does not act on them a second time. The rest (timing, seed, tool call) shape only a
synthetic answer, and go upstream with the request."""


def passed_on(
    headers: Iterable[tuple[str, str]], leave_out: frozenset[str] = SETTLED_HERE
) -> tuple[tuple[str, str], ...]:
    """The headers of a call as an upstream is sent them: every one as it came but those named in ``leave_out``
    (lower-case; by default the directives settled here)."""
    return tuple((k, v) for k, v in headers if k.lower() not in leave_out)
