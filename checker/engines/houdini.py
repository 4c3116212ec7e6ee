"""Houdini: the largest inductive subset of a set of candidate lemmas.

Candidates are the limits themselves and simple facts about each state variable (its
sign, and which side of its initial value it stays on). Those false initially are
dropped; then, while the remaining set is not inductive, every candidate that a
counterexample to induction breaks is dropped. What is left is an inductive invariant
(it holds initially and is preserved by every tick), so each limit in it is proved,
and the whole set holds in every reachable configuration: the other engines may assume
it on the configurations before a tick.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy
import z3

from checker.book import Side
from checker.engines.base import Budget
from checker.lang.timing import CLOCK_LAST, Window
from checker.model import SIDES
from checker.smt.system import STEP, TransitionSystem, value_term


@dataclass(frozen=True)
class Lemmas:
    """An inductive invariant as named conjuncts (limits keep their names)."""

    parts: dict[str, z3.BoolRef]

    def conjunction(self, system: TransitionSystem) -> z3.BoolRef:
        return z3.And(*self.parts.values()) if self.parts else z3.BoolVal(True, system.ctx)


def candidates(system: TransitionSystem) -> dict[str, z3.BoolRef]:
    """The limits (and the other properties of a configuration, such as
    ``final-step-orders``), for every numeric state variable ``v >= 0``, ``v <= 0``,
    ``v >= init`` and ``v <= init``, with instruments that a side's pending quantity is
    part of its open quantity, and with a clock that each window's events are in time
    order, none after the clock, and each kept amount at least 1."""
    found: dict[str, z3.BoolRef] = dict(system.limits)
    for name, prop in system.props.items():
        if name not in system.reads_inputs and name not in found:
            found[name] = prop
    book = system.book
    for side in book.sides:
        if side.pending is not None:
            found[f"{side.pending} <= {side.open}"] = (
                system.cur[side.pending] <= system.cur[side.open]
            )
        # where no order works (only pending ones, or none) in a step
        working = system.cur[side.open] - (
            system.cur[side.pending] if side.pending is not None else 0
        )
        for step, index in system.step_index.items():
            found[f"{step}: no {side.side} working on {side.instrument}"] = z3.Implies(
                system.cur[STEP] == index, working <= 0
            )
    for lim in system.model.limits:
        for k, expr in enumerate(book.worst_case(lim.expr) if book else ()):
            found[f"{lim.name}, worst case {k + 1}"] = system.encode(expr)
        for name, expr in _windows_worst_case(system, lim.expr):
            found[f"{lim.name}, worst case {name}"] = system.encode(expr)
    model = system.model
    if model.clock is not None:  # the order of a window's events, which time keeps
        last = system.cur[CLOCK_LAST]
        for w in model.windows:
            times = [system.cur[n] for n in w.times()]
            found[f"{w.name}: no event after clock.last"] = times[0] <= last
            for newer, older in itertools.pairwise(times):
                found[f"{w.name}: {older} <= {newer}"] = older <= newer
            for t, a in zip(w.times(), w.amounts(), strict=False):
                kept = system.cur[a] >= 1
                found[f"{w.name}: {a} >= 1 where it holds an event"] = z3.Or(
                    kept, system.cur[t] == -w.over
                )
        # a time the strategy keeps (`do: {frozen_until: now + 10s}`): which side of the
        # clock it is on, step by step
        now = model.variable(model.clock.input).symbol
        timed = sorted(
            {name for t in model.transitions for name, e in t.do if now in e.free_symbols}
        )
        for name in timed:
            for step, index in system.step_index.items():
                at = system.cur[STEP] == index
                term = system.cur[name]
                found[f"{step}: clock.last >= {name}"] = z3.Implies(at, last >= term)
                found[f"{step}: clock.last < {name}"] = z3.Implies(at, last < term)
        found.update(_clocked(system))
    slots = {n for w in model.windows for n in w.hidden()}
    for v in system.model.state:
        if not v.type.numeric or v.init is None:
            continue
        term = system.cur[v.name]
        init = value_term(v.type, v.init, system.ctx)
        zero = value_term(v.type, 0, system.ctx)
        if v.name in slots:  # a window's event: where it starts from, and no more (the
            # other three would each fall in a round of their own as events shift in)
            found[f"{v.name} >= {v.show(v.init)}"] = term >= init
            continue
        found[f"{v.name} >= 0"] = term >= zero
        found[f"{v.name} <= 0"] = term <= zero
        found[f"{v.name} >= {v.show(v.init)}"] = term >= init
        found[f"{v.name} <= {v.show(v.init)}"] = term <= init
    return found


def _clocked(system: TransitionSystem) -> dict[str, z3.BoolRef]:
    """Three more families for a clocked model, which a protection that freezes on its
    windows (`models/mmp_market_maker.yaml`) needs:

    - step by step, each comparison a prover makes on the state and the clock (``now``
      read as ``clock.last``), and its negation (``quoting: bought + sold < 4``);
    - each side's open quantity at most what one transition places on it, where every
      place on it has a constant side and quantity (one pair of quotes at a time);
    - step by step, the fills a sum window has taken since the strategy last stored a
      time from the clock (``frozen_until: now + 10s``: the events after
      ``frozen_until - 10s``), with the orders still open on their sides, at most those
      sides' open bounds: once frozen, only what was working can still fill."""
    model = system.model
    assert model.clock is not None
    found: dict[str, z3.BoolRef] = {}
    now = model.variable(model.clock.input).symbol
    symbols = {v.name: v.symbol for v in model.state}
    last = symbols[CLOCK_LAST]
    stored = {
        var: expr - now
        for tr in model.transitions
        for var, expr in tr.do
        if now in expr.free_symbols and not (expr - now).free_symbols
    }
    if stored:  # a protection that freezes: what its trigger compares, step by step
        allowed = {v.symbol for v in model.state} | {now}
        atoms: dict[str, sympy.Basic] = {}
        for prover in model.provers:
            for atom in _comparisons(prover.expr):
                if atom.free_symbols <= allowed and atom.free_symbols:
                    read = atom.xreplace({now: last})
                    atoms.setdefault(str(read), read)
        for step, index in system.step_index.items():
            at = system.cur[STEP] == index
            for text, atom in atoms.items():
                term = system.encode(atom)
                found[f"{step}: {text}"] = z3.Implies(at, term)
                found[f"{step}: not {text}"] = z3.Implies(at, z3.Not(term))
    bounds = _open_bounds(system)
    for side, bound in bounds.items():
        found[f"{side.open} <= {bound}"] = system.cur[side.open] <= bound
    by_fill = {side.fill: side for side in bounds}
    fills = [w for w in model.windows if _sums_fills(w, set(by_fill))]
    for var, offset in sorted(stored.items()):
        start = symbols[var] - offset
        groups = [[w] for w in fills] + ([fills] if len(fills) > 1 else [])
        for group in groups:
            sides = {by_fill[str(s)] for w in group for s in _amount(w).free_symbols}
            since = sympy.Add(*(_since(w, start, symbols) for w in group))
            opens = sympy.Add(*(symbols[s.open] for s in sides))
            cap = sum(bounds[s] for s in sides)
            fact = system.encode(sympy.Le(since + opens, cap))
            label = "+".join(w.name for w in group)
            for step, index in system.step_index.items():
                at = system.cur[STEP] == index
                found[f"{step}: {label} since {var} - {offset} + open <= {cap}"] = z3.Implies(
                    at, fact
                )
    return found


def _comparisons(expr: sympy.Basic) -> list[sympy.Basic]:
    """The comparisons a condition is made of, through and, or and not (not inside
    the conditions of a window's value)."""
    if isinstance(expr, (sympy.And, sympy.Or, sympy.Not)):
        return [c for arg in expr.args for c in _comparisons(arg)]
    if isinstance(expr, sympy.core.relational.Relational):
        return [expr]
    return []


def _open_bounds(system: TransitionSystem) -> dict[Side, int]:
    """For each side whose every place has a constant side and quantity, the most one
    transition places on it."""
    most: dict[Side, int] = {}
    unknown: set[Side] = set()
    for tr in system.model.transitions:
        placed: dict[Side, int] = {}
        for action in tr.emit:
            if action.name != "place":
                continue
            side, qty = action.arg("side"), action.arg("qty")
            on = [s for s in system.book.sides if s.instrument == action.instrument]
            if side is None or qty is None or not side.is_Integer or not qty.is_Integer:
                unknown.update(on)
                continue
            for s in on:
                if s.side == SIDES[int(side)]:
                    placed[s] = placed.get(s, 0) + max(int(qty), 0)
        for s, q in placed.items():
            most[s] = max(most.get(s, 0), q)
    return {s: q for s, q in most.items() if s not in unknown and q > 0}


def _amount(w: Window) -> sympy.Basic:
    assert w.amount is not None
    return w.amount


def _sums_fills(w: Window, fills: set[str]) -> bool:
    """Whether ``w`` is a sum window of a plain sum of some of ``fills``."""
    if w.amount is None:
        return False
    read = {str(s) for s in w.amount.free_symbols}
    plain = sympy.Add(*w.amount.free_symbols)
    return bool(read) and read <= fills and sympy.expand(w.amount - plain) == 0


def _since(w: Window, start: sympy.Basic, symbols: dict[str, sympy.Symbol]) -> sympy.Basic:
    """What ``w`` holds from its events after ``start``."""
    return sympy.Add(
        *(
            sympy.Piecewise((symbols[a], sympy.StrictGreaterThan(symbols[t], start)), (0, True))
            for t, a in zip(w.times(), w.amounts(), strict=True)
        )
    )


def _windows_worst_case(
    system: TransitionSystem, expr: sympy.Basic
) -> list[tuple[str, sympy.Basic]]:
    """``expr`` (a limit) with each sum window of fills it reads counted as if every
    order that can still fill on the sides it sums had filled: ``W`` read as
    ``W + I.open_buy`` for a window of ``I.bought`` (each alone, then all together).
    A limit on fills within a window is seldom inductive alone; this form often is."""
    model = system.model
    if model.clock is None or not system.book:
        return []
    symbols = {v.name: v.symbol for v in model.state}
    last = symbols[CLOCK_LAST]
    sides = {side.fill: side.open for side in system.book.sides}
    swaps: list[tuple[str, dict[sympy.Basic, sympy.Basic]]] = []
    for w in model.windows:
        if w.amount is None:
            continue
        read = {str(s) for s in w.amount.free_symbols}
        plain = sympy.Add(*(model.variable(n).symbol for n in read))
        if not read or not read <= set(sides) or sympy.expand(w.amount - plain) != 0:
            continue  # only a plain sum of fills
        value = w.value(last, symbols)
        if not expr.has(value):
            continue
        opens = sympy.Add(*(symbols[sides[n]] for n in sorted(read)))
        swaps.append((w.name, {value: value + opens}))
    found = [(f"with {name}'s fills", expr.xreplace(swap)) for name, swap in swaps]
    if len(swaps) > 1:
        every: dict[sympy.Basic, sympy.Basic] = {}
        for _, swap in swaps:
            every.update(swap)
        found.append(("with every window's fills", expr.xreplace(every)))
    return found


def houdini(system: TransitionSystem, budget: Budget) -> Lemmas:
    """The largest inductive subset of :func:`candidates`; empty if the solver cannot
    decide a round in time (assuming nothing is always sound)."""
    parts = candidates(system)
    initial = system.solver()
    initial.add(system.init)
    if budget.check(initial) != z3.sat:
        return Lemmas({})
    parts = _holding(parts, initial.model())
    # the initial configuration is unique, so surviving the one model is holding
    # initially; with free params it is not, and every candidate some initial
    # configuration breaks goes too
    while system.model.free and parts:
        initial.push()
        initial.add(z3.Not(z3.And(*parts.values())))
        result = budget.check(initial)
        start = initial.model() if result == z3.sat else None
        initial.pop()
        if result == z3.unsat:
            break
        if start is None:
            return Lemmas({})
        parts = _holding(parts, start)
    pairs = list(zip(system.state_args(), system.next_args(), strict=True))
    primed = {name: z3.substitute(term, *pairs) for name, term in parts.items()}
    ask = _Rounds(system, parts, primed)
    while parts:
        result, cti = ask(list(parts), budget)
        if result == z3.unsat:
            break
        if cti is None:
            return Lemmas({})
        parts = {
            name: term
            for name, term in parts.items()
            if z3.is_true(cti.eval(primed[name], model_completion=True))
        }
    return Lemmas(parts)


def _holding(parts: dict[str, z3.BoolRef], model: z3.ModelRef) -> dict[str, z3.BoolRef]:
    """The candidates of ``parts`` true in ``model``."""
    return {
        name: term
        for name, term in parts.items()
        if z3.is_true(model.eval(term, model_completion=True))
    }


class _Rounds:
    """Asks one round of Houdini: can a tick from a configuration satisfying every
    surviving candidate break one of them? Returns the answer and, when it is yes, the
    counterexample to induction.

    For a linear system one solver serves every round: each candidate is assumed
    through a literal of its own, and a round pushes only the disjunction of the broken
    candidates, so nothing of the transition relation is rebuilt or re-preprocessed. A
    nonlinear system gets a fresh default solver per round, whose nlsat tactic an
    incremental solver would lose."""

    def __init__(
        self, system: TransitionSystem, parts: dict[str, z3.BoolRef], primed: dict[str, z3.BoolRef]
    ) -> None:
        self.system, self.parts, self.primed = system, parts, primed
        self.solver: z3.Solver | None = None
        self.literal: dict[str, z3.BoolRef] = {}
        if system.linear:
            self.solver = system.solver()
            self.solver.add(system.state_domain, system.trans)
            for k, (name, term) in enumerate(parts.items()):
                self.literal[name] = z3.Bool(f"@houdini{k}", system.ctx)
                self.solver.add(z3.Implies(self.literal[name], term))

    def __call__(
        self, names: list[str], budget: Budget
    ) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        broken = z3.Or(*(z3.Not(self.primed[name]) for name in names))
        solver = self.solver
        if solver is None:
            fresh = self.system.solver()
            fresh.add(self.system.state_domain, self.system.trans)
            fresh.add(*(self.parts[name] for name in names), broken)
            result = budget.check(fresh)
            return result, fresh.model() if result == z3.sat else None
        solver.push()
        try:
            solver.add(broken)
            result = budget.check(solver, *(self.literal[name] for name in names))
            return result, solver.model() if result == z3.sat else None
        finally:
            solver.pop()
