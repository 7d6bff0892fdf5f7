"""The peers' Markdown tables: one row per server, figure 1's and figure 2's own measurements beside them.

Every ratio is against the bare aiohttp handler of the same run ("× bare"), and a second one says how
llmreplay stands against each server ("llmreplay ÷ it"): above 1 is llmreplay ahead for requests/s, below 1
for timing errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.held import Held
from benchmarks.peers import Outcome

AIMOCK_RATIO_TARGET = 1.2
AGAIN = "bare handler again, after the peers"
"""The bare handler measured once more after the peers (``peers_figures.bare_again``)."""
FIG1_HEADER = [
    "server",
    "version",
    "requests/s",
    "× bare",
    "llmreplay ÷ it",
    "latency p50",
    "latency p99",
    "p99 × bare",
]
FIG2_HEADER = [
    "streams",
    "server",
    "gap error p50",
    "gap error p99",
    "p99 × bare",
    "llmreplay ÷ it",
    "gap error max",
    "TTFT error p50 / p99",
    "completed (peak held)",
    "RSS per connection",
]


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b and a == a and b == b else "—"  # NaN != NaN


def _ms(v: float) -> str:
    return "n/a" if v != v else (f"{v:,.0f} ms" if abs(v) >= 100 else f"{v:.2f} ms")


def _md(header: list[str], rows: list[list[str]]) -> str:
    align = ["---" if i < 2 else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _problem_row(lead: list[str], problem: str, width: int) -> list[str]:
    return [*lead, problem, *["—"] * (width - len(lead) - 1)]


def plain_table(raw: Mapping[str, Any], outcomes: Sequence[Outcome], versions: Mapping[str, str]) -> str:
    """Figure 1: ``raw`` is the figure's own measurements (``plain.measure``), ``outcomes`` the peers'."""
    base, ours = raw["baseline"], raw["llmreplay"]

    def row(name: str, ver: str, r: Mapping[str, float]) -> list[str]:
        vs_ours = "—" if r is ours else _ratio(ours["rps"], r["rps"])
        errors = f" ({r['non2xx']:.0f} non-2xx)" if r.get("non2xx") else ""
        p50, p99 = r.get("p50", float("nan")), r.get("p99", float("nan"))
        cells = [f"{r['rps']:,.0f}{errors}", _ratio(r["rps"], base["rps"]), vs_ours, _ms(p50), _ms(p99)]
        return [name, ver, *cells, _ratio(p99, base.get("p99", float("nan")))]

    rows = [row(n, versions[n], r) for n, r in (("bare aiohttp handler", base), ("llmreplay", ours))]
    seeded, ruled = raw.get("seeded"), raw.get("rule")
    if seeded is not None:
        rows.append(row("llmreplay, seeded", versions["llmreplay"], seeded))
    if ruled is not None:
        rows.append(row("llmreplay, a scripted rule", versions["llmreplay"], ruled))
    for o in outcomes:
        ver = versions.get(o.peer, o.version)
        rows.append(row(o.peer, ver, o.result) if o.result else _problem_row([o.peer, ver], o.problem, 8))
    return _md(FIG1_HEADER, rows) + "\n\n" + plain_target(ours, outcomes, ruled, seeded)


def _met(ok: bool) -> str:
    return "met" if ok else "**NO**"


def plain_target(
    ours: Mapping[str, float],
    outcomes: Sequence[Outcome],
    ruled: Mapping[str, float] | None = None,
    seeded: Mapping[str, float] | None = None,
) -> str:
    """Issue 23's target 1 against the peers: llmreplay's requests/s at least 1.2× aimock's, unseeded and seeded;
    and target 2's report of the same for a scripted rule's answers."""
    head = f"Target (issue 23): llmreplay ≥ {AIMOCK_RATIO_TARGET}× aimock's requests/s:"
    aimock = next((o.result for o in outcomes if o.peer.endswith("/aimock") and o.result), None)
    if aimock is None:
        return f"{head} not measured (no aimock figure)."
    ratio = ours["rps"] / aimock["rps"]
    out = f"{head} {ratio:.2f}×, {_met(ratio >= AIMOCK_RATIO_TARGET)}."
    if seeded is not None:
        ratio = seeded["rps"] / aimock["rps"]
        out += f" Seeded: {ratio:.2f}×, {_met(ratio >= AIMOCK_RATIO_TARGET)}."
    if ruled is not None:
        ratio = ruled["rps"] / aimock["rps"]
        out += f" A scripted rule's answers (target 2, reported): {ratio:.2f}× aimock's."
    return out


def held_target(n: int, ours: Held, peers: Sequence[Outcome]) -> str:
    """Issue 23's target 3 at one level: llmreplay's gap error p99 no worse than any peer's, every stream done."""
    measured = [(o.result.gap("p99"), o.peer) for o in peers if o.result and o.peer != AGAIN]
    head = f"Target (issue 23) at {n:,} streams: gap error p99 no worse than any peer's, every stream completed:"
    if not measured:
        return f"{head} not measured (no peer figure)."
    best, name = min(measured)
    done = ours.stats["completed"]
    ok = ours.gap("p99") <= best and done == n
    return f"{head} {_ms(ours.gap('p99'))} against {name}'s {_ms(best)}, {done:,} of {n:,} completed, {_met(ok)}."


def _held_row(n: int, name: str, h: Held, base: Held, ours: Held) -> list[str]:
    s = h.stats
    return [
        f"{n:,}",
        name,
        _ms(h.gap("p50")),
        _ms(h.gap("p99")),
        _ratio(h.gap("p99"), base.gap("p99")),
        "—" if h is ours else _ratio(ours.gap("p99"), h.gap("p99")),
        _ms(h.gap("max")),
        f"{s['ttft_error_ms']['p50']:.1f} / {s['ttft_error_ms']['p99']:.1f} ms",
        f"{s['completed']:,} ({s['peak_held']:,})",
        f"{h.kib_per_stream:.1f} KiB",
    ]


def held_table(raw: Mapping[str, Any], outcomes: Mapping[int, Sequence[Outcome]], versions: Mapping[str, str]) -> str:
    """Figure 2: ``raw`` is ``held.measure``'s measurements by level, ``outcomes`` the peers' by level."""
    rows: list[list[str]] = []
    targets = []
    for n, peers in outcomes.items():
        base, ours = (Held(**raw[str(n)][k]) for k in ("baseline", "llmreplay"))
        targets.append(held_target(n, ours, peers))
        rows.append(_held_row(n, "bare aiohttp handler", base, base, ours))
        rows.append(_held_row(n, "llmreplay", ours, base, ours))
        for o in peers:
            name = f"{o.peer} ({o.version})" if o.peer == AGAIN else f"{o.peer} {versions.get(o.peer, o.version)}"
            rows.append(
                _held_row(n, name, o.result, base, ours) if o.result else _problem_row([f"{n:,}", name], o.problem, 10)
            )
    return _md(FIG2_HEADER, rows) + "".join(f"\n\n{t}" for t in targets)


def raw_of(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """The outcomes as JSON-ready dicts, for ``--json``."""
    out = []
    for o in outcomes:
        result = dataclasses.asdict(o.result) if dataclasses.is_dataclass(o.result) else o.result
        out.append({"peer": o.peer, "version": o.version, "result": result, "problem": o.problem})
    return out
