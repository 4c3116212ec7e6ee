"""What the formats share: values as cells, the transition taken at a tick, what broke,
a counterexample as a table of ticks and which of its cells break the limit, and which
limits share an invariant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checker.results import Counterexample, LimitResult


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def taken(transition: Mapping[str, Any] | None, tick: int) -> str:
    if tick == 0:
        return "(initial)"
    if transition is None:
        return "(none enabled: stutter)"
    return f"{transition['from']} -> {transition['to']} (line {transition['line']})"


def broken(lim: LimitResult) -> str:
    cex = lim.counterexample
    after = f" after {cex.length} tick(s)" if cex is not None else ""
    return f"limit '{lim.name}' ({lim.text}) is broken{after}"


def detail(lim: LimitResult) -> str:
    if lim.counterexample is not None:
        return f"broken after {lim.counterexample.length} tick(s)"
    return lim.reason


def trace_table(cex: Counterexample) -> tuple[list[str], list[list[str]]]:
    """The counterexample as a header and rows: tick, step, transition taken, then a
    column per input (blank at tick 0, which has none) and per state variable."""
    inputs = list(dict.fromkeys(name for t in cex.ticks for name in t.inputs))
    state = list(dict.fromkeys(name for t in cex.ticks for name in t.state))
    header = ["tick", "step", "transition taken", *(f"{n} (input)" for n in inputs), *state]
    rows = [
        [str(t.tick), t.step, taken(t.transition, t.tick)]
        + [cell(t.inputs[n]) if n in t.inputs else "" for n in inputs]
        + [cell(t.state.get(n, "")) for n in state]
        for t in cex.ticks
    ]
    return header, rows


def breaking_columns(cex: Counterexample, reads: frozenset[str]) -> frozenset[int]:
    """The columns of :func:`trace_table` whose last cell, the value at the failing
    tick, is a state variable that the limit reads (see
    :func:`checker.report.limits.limit_reads`): the values
    that break it."""
    header, _ = trace_table(cex)
    first = len(header) - len(dict.fromkeys(n for t in cex.ticks for n in t.state))
    return frozenset(j for j in range(first, len(header)) if header[j] in reads)


def shared_invariants(limits: tuple[LimitResult, ...]) -> dict[str, tuple[str, ...]]:
    """For each limit proved with an invariant, the limits proved by the same invariant
    (itself included), in file order: a search for inductive lemmas proves several
    limits with one invariant, which is then shown once, under the first of them."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for lim in limits:
        if lim.invariant is not None:
            groups.setdefault(tuple(sorted(lim.invariant.items())), []).append(lim.name)
    return {name: tuple(names) for names in groups.values() for name in names}
