"""z3 Spacer (IC3/PDR over constrained Horn clauses). A proof comes with an inductive
invariant, which is checked again with a fresh solver before it is trusted.

The clauses follow the step graph, one predicate per step (``Inv_S`` over the state
variables), as is usual for programs: a clause per transition, none for stutter (it
changes nothing). Small clauses with local invariants are much easier for Spacer than
one predicate over a step counter. The invariant reported is
``OR over S of (step == S and Inv_S)``, re-checked against the monolithic transition
relation that BMC and k-induction use, so the two encodings check each other.
"""

from __future__ import annotations

import z3

from checker.engines.base import Deadline, Outcome, unknown
from checker.results import Verdict
from checker.smt.system import STEP, TransitionSystem


def spacer(
    system: TransitionSystem,
    bad: z3.BoolRef,
    deadline: Deadline,
    rlimit: int = 0,
    lemmas: z3.BoolRef | None = None,
) -> Outcome:
    """Is a configuration where ``bad`` holds reachable? ``bad`` may read the inputs of
    the next tick (they are then admissible inputs) and the step.

    Satisfiable clauses mean unreachable, with their solution as the invariant. A
    nonzero ``rlimit`` also bounds the work in z3's resource units, which, unlike time,
    gives the same answer on a loaded machine. ``lemmas``, an inductive invariant
    already proved, is assumed before every tick and is part of the invariant returned.
    """
    ctx = system.ctx
    model = system.model
    state = [system.cur[v.name] for v in model.state]
    after = [system.nxt[v.name] for v in model.state]
    inputs = system.input_args()
    sorts = [v.sort() for v in state]
    known = lemmas if lemmas is not None else z3.BoolVal(True, ctx)
    preds = {
        step: z3.Function(f"Inv_{i}", *sorts, z3.BoolSort(ctx))
        for i, step in enumerate(model.steps)
    }
    reads_inputs = any(z3.eq(v, c) for c in _consts(bad) for v in inputs)
    solver = z3.SolverFor("HORN", ctx=ctx)
    # keep one predicate per step: inlining would return quantified invariants
    for param in ("fp.xform.inline_linear", "fp.xform.inline_eager", "fp.xform.slice"):
        solver.set(param, False)
    solver.set("timeout", deadline.ms())
    if rlimit:
        solver.set("rlimit", rlimit)
    init_values = z3.substitute(
        system.init, (system.cur[STEP], z3.IntVal(system.step_index[model.initial], ctx))
    )
    solver.add(z3.ForAll(state, z3.Implies(init_values, preds[model.initial](*state))))
    for step in model.steps:
        earlier: list[z3.BoolRef] = []
        for t in model.outgoing(step):
            guard = system.guards[t.index]
            fires = z3.And(guard, *(z3.Not(g) for g in earlier))
            body = z3.And(
                preds[step](*state), known, system.admissible, fires, system.effect(t.index)
            )
            solver.add(z3.ForAll(state + inputs + after, z3.Implies(body, preds[t.target](*after))))
            earlier.append(guard)
    for step, index in system.step_index.items():
        here = z3.simplify(z3.substitute(bad, (system.cur[STEP], z3.IntVal(index, ctx))))
        if z3.is_false(here):
            continue
        query = z3.And(preds[step](*state), known, here)
        if reads_inputs:
            query = z3.And(query, system.admissible)
        bound = state + inputs if reads_inputs else state
        solver.add(z3.ForAll(bound, z3.Implies(query, False)))
    result = solver.check()
    if result == z3.unsat:
        return Outcome(Verdict.REFUTED, "spacer")
    if result == z3.unknown:
        return unknown("spacer", solver.reason_unknown(), deadline)
    solution = solver.model()
    invariant = z3.And(
        known,
        z3.Or(
            *(
                z3.And(
                    system.cur[STEP] == system.step_index[step],
                    _interpretation(solution, pred, state),
                )
                for step, pred in preds.items()
            )
        ),
    )
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
    """Re-check the three obligations of an inductive invariant with a fresh solver, on
    the monolithic transition relation: initiation, consecution and safety. Returns what
    failed, or an empty string."""
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


def _interpretation(model: z3.ModelRef, pred: z3.FuncDeclRef, args: list[z3.ExprRef]) -> z3.BoolRef:
    """The solved predicate as a formula over ``args`` (its ``Var(i)`` bound to
    ``args[i]``)."""
    interp = model[pred]
    if interp is None:
        return z3.BoolVal(False, pred.ctx)  # no clause derives it: nothing reaches it
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
