"""What the formats share: values as cells, the transition taken at a tick, what broke,
and a counterexample as a table of ticks."""

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
