"""What the formats share: values as cells, the transition taken at a tick, what broke,
a counterexample (or a finding's run) as a table of ticks and which of its cells break
the limit, and which limits share an invariant."""

from __future__ import annotations

from dataclasses import dataclass

from checker.report import ticks as book
from checker.report.ticks import cell, taken
from checker.results import Counterexample, LimitResult

__all__ = [
    "TraceTable",
    "breaking_columns",
    "broken",
    "cell",
    "detail",
    "named",
    "shared_invariants",
    "taken",
    "trace",
    "trace_table",
]

_KIND = {"limit": "limit", "order": "order check", "check": "check"}


def named(lim: LimitResult) -> str:
    """``limit 'NAME' (TEXT)``, ``order check 'NAME' (TEXT)`` or ``check 'NAME' (TEXT)``."""
    return f"{_KIND.get(lim.kind, lim.kind)} '{lim.name}' ({lim.text})"


def broken(lim: LimitResult) -> str:
    """``limit 'NAME' (TEXT) is broken after N tick(s)``; an order check is broken by an
    order sent at a tick, and ``final-step-orders`` says what is still working."""
    cex = lim.counterexample
    what = f"{named(lim)} is broken"
    if cex is None:
        return what
    if lim.kind == "order":
        return f"{what} by an order sent at tick {cex.length}"
    left = book.working_text(cex.ticks[-1]) if lim.name == book.FINAL_STEP_ORDERS else ""
    return f"{what} after {cex.length} tick(s)" + (f" ({left} still working)" if left else "")


def detail(lim: LimitResult) -> str:
    if lim.counterexample is not None:
        return f"broken after {lim.counterexample.length} tick(s)"
    return lim.reason


@dataclass(frozen=True)
class TraceTable:
    """A run as a header and rows of text. ``names[j]`` is what column ``j`` shows: a
    state variable (a book name for the book's columns), :data:`~checker.report.ticks.ORDERS`
    for the orders sent, or "" for the others; the state's columns are the last ones,
    from ``first_state`` on."""

    header: list[str]
    rows: list[list[str]]
    names: list[str]
    first_state: int


def trace(run: Counterexample) -> TraceTable:
    """The run as a table: tick, step, transition taken, then a column per input (blank
    at tick 0, which has none) and per state variable. For a model with instruments,
    the inputs are the market's, followed by the fills per instrument (``perp fills``:
    ``+3 / -0``) and the orders sent, and the state is the declared one, followed by
    the book per instrument and side (``perp.open_buy``: ``1 (1 pending)``)."""
    if not book.has_book(run):
        inputs = list(dict.fromkeys(name for t in run.ticks for name in t.inputs))
        state = list(dict.fromkeys(name for t in run.ticks for name in t.state))
        rows = [
            [str(t.tick), t.step, taken(t.transition, t.tick)]
            + [cell(t.inputs[n]) if n in t.inputs else "" for n in inputs]
            + [cell(t.state.get(n, "")) for n in state]
            for t in run.ticks
        ]
        header = ["tick", "step", "transition taken", *(f"{n} (input)" for n in inputs), *state]
        first = len(header) - len(state)
        return TraceTable(header, rows, [""] * first + state, first)
    instruments = book.instruments(run)
    inputs = list(dict.fromkeys(n for t in run.ticks for n in book.market_inputs(t)))
    state = list(dict.fromkeys(n for t in run.ticks for n in book.declared_state(t)))
    held = list(
        dict.fromkeys(name for t in run.ticks for i in instruments for name, _ in book.book(t, i))
    )
    header = [
        "tick",
        "step",
        "transition taken",
        *(f"{n} (input)" for n in inputs),
        *(f"{i} fills" for i in instruments),
        "orders sent",
    ]
    first = len(header)
    names = [""] * (first - 1) + [book.ORDERS, *state, *held]
    rows = []
    for t in run.ticks:
        parts = {name: text.split(" ", 1)[1] for i in instruments for name, text in book.book(t, i)}
        rows.append(
            [str(t.tick), t.step, taken(t.transition, t.tick)]
            + [cell(t.inputs[n]) if n in t.inputs else "" for n in inputs]
            + [book.fills(t, i).removeprefix(f"{i} ") for i in instruments]
            + ["; ".join(book.order_text(a) for a in t.actions)]
            + [cell(t.state.get(n, "")) for n in state]
            + [parts.get(n, "") for n in held]
        )
    return TraceTable(header + state + held, rows, names, first)


def trace_table(cex: Counterexample) -> tuple[list[str], list[list[str]]]:
    """The header and rows of :func:`trace`."""
    table = trace(cex)
    return table.header, table.rows


def breaking_columns(cex: Counterexample, marks: frozenset[str]) -> frozenset[int]:
    """The columns of :func:`trace` whose last cell, at the failing tick, shows what
    ``marks`` names: the state variables a limit reads (see
    :func:`checker.report.limits.limit_reads`), or what
    :func:`checker.report.ticks.breaking` marks for an order check or a check."""
    table = trace(cex)
    return frozenset(j for j, name in enumerate(table.names) if name and name in marks)


def shared_invariants(limits: tuple[LimitResult, ...]) -> dict[str, tuple[str, ...]]:
    """For each limit proved with an invariant, the limits proved by the same invariant
    (itself included), in file order: a search for inductive lemmas proves several
    limits with one invariant, which is then shown once, under the first of them."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for lim in limits:
        if lim.invariant is not None:
            groups.setdefault(tuple(sorted(lim.invariant.items())), []).append(lim.name)
    return {name: tuple(names) for names in groups.values() for name in names}
