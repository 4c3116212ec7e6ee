"""k-induction: the base case is BMC to depth k-1; the step case asks whether k
consecutive configurations satisfying the property, joined by ticks, can be followed by
one that breaks it. Distinct-state (simple path) constraints make it complete for
finite-state systems."""

from __future__ import annotations

import z3

from checker.engines.base import Budget, Outcome, unknown
from checker.engines.bmc import Unroller
from checker.results import Verdict
from checker.smt.system import TransitionSystem


def step_case(
    system: TransitionSystem,
    prop: z3.BoolRef,
    k: int,
    budget: Budget,
    lemmas: z3.BoolRef | None = None,
) -> tuple[z3.CheckSatResult, str]:
    """Check the induction step for ``k`` (unsat means the step holds). ``lemmas``, an
    invariant already proved, holds in every reachable configuration, so it is assumed
    at every position of the path."""
    solver = system.solver()
    for j in range(k + 1):
        solver.add(system.at(system.state_domain, j))
        if lemmas is not None:
            solver.add(system.at(lemmas, j))
    for j in range(k):
        solver.add(system.at(system.trans, j))
        solver.add(system.at(prop, j))
    solver.add(z3.Not(system.at(prop, k)))
    if k >= 2:
        states = [system.frame(j).state for j in range(k + 1)]
        for a in range(k + 1):
            for b in range(a + 1, k + 1):
                solver.add(z3.Or(*(states[a][n] != states[b][n] for n in states[a])))
    result = budget.check(solver)
    return result, solver.reason_unknown() if result == z3.unknown else ""


def k_induction(
    system: TransitionSystem,
    unroller: Unroller,
    key: str,
    prop: z3.BoolRef,
    ks: range,
    budget: Budget,
    lemmas: z3.BoolRef | None = None,
) -> Outcome:
    """Try k-induction for each ``k`` in ``ks`` (base case first), until the budget.
    A proof for k = 1 comes with its invariant: the property and the lemmas."""
    engine = "k-induction"
    for k in ks:
        if budget.expired:
            return unknown(engine, "timeout", budget)
        for depth in range(unroller.safe.get(key, -1) + 1, k):
            result, model = unroller.check(z3.Not(prop), depth, budget)
            if result == z3.sat:
                return Outcome(Verdict.REFUTED, "bmc", depth=depth, model=model)
            if result == z3.unknown:
                return unknown(engine, unroller.solver.reason_unknown(), budget)
            unroller.safe[key] = depth
        result, reason = step_case(system, prop, k, budget, lemmas)
        if result == z3.unsat:
            invariant = z3.And(prop, lemmas) if lemmas is not None and k == 1 else None
            return Outcome(Verdict.PROVED, engine, k=k, invariant=invariant, lemmas=lemmas)
        if result == z3.unknown:
            return unknown(engine, reason, budget)
    return Outcome(Verdict.UNKNOWN, engine, f"not k-inductive for k up to {ks.stop - 1}")
