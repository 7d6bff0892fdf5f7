"""docs/models.md's table of families says what the shipped catalogue says, row for row."""

from __future__ import annotations

from pathlib import Path

from llmreplay.catalogue.catalogue import shipped_specs

PAGE = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def _price(x: float | None) -> str:
    return "—" if x is None else f"{x:g}"


def _row(pattern: str, s) -> str:
    cw = "—" if s.cache_write is None else f"{s.cache_write:g} / {s.cache_write_1h:g}"
    inp, out = _price(s.input), _price(s.output)
    if s.long_context_above:
        inp += f" ({s.long_input:g} above {s.long_context_above // 1000}k)"
        out += f" ({s.long_output:g} above {s.long_context_above // 1000}k)"
    n = "—" if s.max_output_tokens is None else f"{s.max_output_tokens:,}"
    pats = " ".join(f"`{x}`" for x in pattern.split("|"))
    kind = s.reasoning or ("embedding" if s.embedding else "—")
    return (
        f"| {pats} | {s.provider} | {s.context_window:,} | {n} | {kind} | {inp} | {_price(s.cached_input)} | {cw} "
        f"| {out} |"
    )


def test_every_family_is_in_the_table_as_shipped() -> None:
    lines = set(PAGE.read_text().splitlines())
    missing = [p for p, s in shipped_specs().items() if _row(p, s) not in lines]
    assert not missing, f"docs/models.md's table differs from models.toml for {missing}"
