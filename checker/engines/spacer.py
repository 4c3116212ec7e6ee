"""z3 Spacer (IC3/PDR over constrained Horn clauses). A proof comes with an inductive
invariant, which is checked again with a fresh solver before it is trusted."""

from __future__ import annotations

import z3

from checker.engines.base import Deadline, Outcome, unknown
from checker.results import Verdict
from checker.smt.system import TransitionSystem


def spacer(
    system: TransitionSystem, bad: z3.BoolRef, deadline: Deadline, rlimit: int = 0
) -> Outcome:
    """Is a configuration where ``bad`` holds reachable? ``bad`` may read the inputs of
    the next tick (they are then admissible inputs).

    The clauses: ``Init(s) -> Inv(s)``; ``Inv(s) & T(s, i, s') -> Inv(s')``;
    ``Inv(s) & bad(s, i) [& Adm(s, i)] -> false``. Satisfiable means unreachable, with
    ``Inv`` as the invariant. A nonzero ``rlimit`` also bounds the work in z3's resource
    units, which, unlike time, gives the same answer on a loaded machine.
    """
    cur, nxt, inp = system.state_args(), system.next_args(), system.input_args()
    inv = z3.Function("Inv", *(a.sort() for a in cur), z3.BoolSort(system.ctx))
    reads_inputs = any(z3.eq(v, c) for c in _consts(bad) for v in inp)
    query = z3.And(inv(*cur), bad, system.admissible) if reads_inputs else z3.And(inv(*cur), bad)
    solver = z3.SolverFor("HORN", ctx=system.ctx)
    solver.set("timeout", deadline.ms())
    if rlimit:
        solver.set("rlimit", rlimit)
    solver.add(z3.ForAll(cur, z3.Implies(system.init, inv(*cur))))
    solver.add(z3.ForAll(cur + inp + nxt, z3.Implies(z3.And(inv(*cur), system.trans), inv(*nxt))))
    solver.add(z3.ForAll(cur + inp if reads_inputs else cur, z3.Implies(query, False)))
    result = solver.check()
    if result == z3.unsat:
        return Outcome(Verdict.REFUTED, "spacer")
    if result == z3.unknown:
        return unknown("spacer", solver.reason_unknown(), deadline)
    invariant = _interpretation(solver.model(), inv, cur)
    problem = check_invariant(system, invariant, bad, reads_inputs, deadline)
    if problem:
        return Outcome(Verdict.UNKNOWN, "spacer", f"invariant from Spacer not confirmed: {problem}")
    return Outcome(Verdict.PROVED, "spacer", invariant=invariant)


def check_invariant(
    system: TransitionSystem,
    invariant: z3.BoolRef,
    bad: z3.BoolRef,
    reads_inputs: bool,
    deadline: Deadline,
) -> str:
    """Re-check the three obligations of an inductive invariant with a fresh solver:
    initiation, consecution and safety. Returns what failed, or an empty string."""
    primed = z3.substitute(invariant, *zip(system.state_args(), system.next_args(), strict=True))
    safety = z3.And(invariant, bad, system.admissible) if reads_inputs else z3.And(invariant, bad)
    for name, query in (
        ("initiation", z3.And(system.init, z3.Not(invariant))),
        ("consecution", z3.And(invariant, system.trans, z3.Not(primed))),
        ("safety", safety),
    ):
        solver = z3.Solver(ctx=system.ctx)
        solver.set("timeout", deadline.ms())
        solver.add(query)
        result = solver.check()
        if result != z3.unsat:
            return f"{name} is {result}"
    return ""


def _interpretation(model: z3.ModelRef, inv: z3.FuncDeclRef, args: list[z3.ExprRef]) -> z3.BoolRef:
    """The solved predicate as a formula over ``args`` (its ``Var(i)`` bound to
    ``args[i]``)."""
    interp = model[inv]
    if interp is None:
        return z3.BoolVal(True, inv.ctx)
    if z3.is_expr(interp):
        return z3.substitute_vars(interp, *args)
    result = z3.substitute_vars(interp.else_value(), *args)
    for i in range(interp.num_entries()):
        entry = interp.entry(i)
        point = z3.And(*(a == entry.arg_value(j) for j, a in enumerate(args)))
        result = z3.If(point, entry.value(), result)
    return result


def _consts(term: z3.ExprRef) -> list[z3.ExprRef]:
    found: list[z3.ExprRef] = []
    seen: set[int] = set()
    todo = [term]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.append(t)
        todo.extend(t.children())
    return found
