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

from dataclasses import dataclass

import z3

from checker.engines.base import Budget
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
    ``v >= init`` and ``v <= init``, and with instruments that a side's pending
    quantity is part of its open quantity."""
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
    for v in system.model.state:
        if not v.type.numeric or v.init is None:
            continue
        term = system.cur[v.name]
        init = value_term(v.type, v.init, system.ctx)
        zero = value_term(v.type, 0, system.ctx)
        found[f"{v.name} >= 0"] = term >= zero
        found[f"{v.name} <= 0"] = term <= zero
        found[f"{v.name} >= {v.show(v.init)}"] = term >= init
        found[f"{v.name} <= {v.show(v.init)}"] = term <= init
    return found


def houdini(system: TransitionSystem, budget: Budget) -> Lemmas:
    """The largest inductive subset of :func:`candidates`; empty if the solver cannot
    decide a round in time (assuming nothing is always sound)."""
    parts = candidates(system)
    initial = z3.Solver(ctx=system.ctx)
    initial.add(system.init)
    if budget.check(initial) != z3.sat:
        return Lemmas({})
    start = initial.model()
    parts = {
        name: term
        for name, term in parts.items()
        if z3.is_true(start.eval(term, model_completion=True))
    }
    # the initial configuration is unique, so surviving the one model is holding initially
    pairs = list(zip(system.state_args(), system.next_args(), strict=True))
    while parts:
        solver = z3.Solver(ctx=system.ctx)
        solver.add(system.state_domain, system.trans, *parts.values())
        primed = {name: z3.substitute(term, *pairs) for name, term in parts.items()}
        solver.add(z3.Not(z3.And(*primed.values())))
        result = budget.check(solver)
        if result == z3.unsat:
            break
        if result != z3.sat:
            return Lemmas({})
        cti = solver.model()
        parts = {
            name: term
            for name, term in parts.items()
            if z3.is_true(cti.eval(primed[name], model_completion=True))
        }
    return Lemmas(parts)
