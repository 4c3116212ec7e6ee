"""z3 Spacer (IC3/PDR over constrained Horn clauses). A proof comes with an inductive
invariant, which is checked again with a fresh solver before it is trusted; a
refutation comes with the run Spacer derived, which BMC then makes concrete.

The clauses follow the step graph, one predicate per step (``Inv_S`` over the state
variables), as is usual for programs: a clause per transition, none for stutter (it
changes nothing). Small clauses with local invariants are much easier for Spacer than
one predicate over a step counter. The invariant reported is
``OR over S of (step == S and Inv_S)``, re-checked against the monolithic transition
relation that BMC and k-induction use, so the two encodings check each other.

When the bad configurations are reachable, Spacer's derivation names the clauses it
used, from the initial one to the query: that is the sequence of transitions of a run
that gets there. One BMC question with those transitions fixed gives its inputs and
states, and the interpreter replays it like any other counterexample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import z3

from checker.engines.base import Budget, Outcome, unknown
from checker.engines.bmc import Unroller
from checker.errors import InternalError
from checker.results import Verdict
from checker.smt.system import STEP, TransitionSystem

INIT_RULE = "init"
QUERY_RULE = "bad"


STUTTER = -1
"""In a run read from Spacer's derivation: a tick on which no transition fired."""


def _rule(index: int) -> str:
    return f"t{index}"


def _stutter_rule(step: int) -> str:
    return f"s{step}"


@dataclass(frozen=True)
class _Answer:
    result: z3.CheckSatResult
    reason: str = ""
    transitions: tuple[int, ...] = ()  # the run's transitions, when reachable
    invariant: z3.BoolRef | None = None  # when unreachable


def spacer(
    system: TransitionSystem,
    bad: z3.BoolRef,
    budget: Budget,
    lemmas: z3.BoolRef | None = None,
    unroller: Unroller | None = None,
    init: z3.BoolRef | None = None,
) -> Outcome:
    """Is a configuration where ``bad`` holds reachable? ``bad`` may read the inputs of
    the next tick (they are then admissible inputs) and the step. ``init`` replaces the
    model's initial condition (a term over the current state, the step included): runs
    then start from the configurations it allows (no ``unroller`` then).

    Unreachable: PROVED, with the invariant. Reachable: REFUTED, with the run Spacer
    found as ``depth`` and, when ``unroller`` is given and the budget allows it, as a
    ``model`` of that path (not necessarily a shortest run; ``reason`` says why there is
    no model). ``lemmas``, an inductive invariant already proved, is assumed before
    every tick and is part of the invariant returned.
    """
    reads_inputs = any(z3.eq(v, c) for c in consts(bad) for v in system.input_args())
    answer = _solve(system, bad, budget, lemmas, reads_inputs, init)
    if answer.result == z3.unknown:
        return unknown("spacer", answer.reason, budget)
    if answer.result == z3.sat:
        if unroller is None:
            depth = len(answer.transitions) + (1 if reads_inputs else 0)
            return Outcome(Verdict.REFUTED, "spacer", depth=depth, shortest=False)
        return _concrete(system, unroller, bad, answer.transitions, reads_inputs, budget)
    assert answer.invariant is not None
    problem = check_invariant(system, answer.invariant, bad, reads_inputs, budget, init)
    if problem and budget.expired:  # undecided for want of units (or time): say so
        return unknown("spacer", "timeout", budget)
    if problem:
        return Outcome(Verdict.UNKNOWN, "spacer", f"invariant from Spacer not confirmed: {problem}")
    return Outcome(Verdict.PROVED, "spacer", invariant=answer.invariant)


@dataclass(frozen=True)
class _Rules:
    """The clauses of one encoding (the model, the lemmas assumed, the initial
    condition), built once and added to every Fixedpoint that asks about it: building
    them (a quantified clause per transition over every state variable) costs more than
    most of the queries that use them."""

    preds: dict[str, z3.FuncDeclRef]
    clauses: tuple[tuple[z3.BoolRef, str], ...]
    keep: tuple[z3.ExprRef, ...]  # the terms of the key, alive while the rules are cached


_RULES_KEPT = 8
"""Encodings kept per system (the lemmas of the portfolio, none, a test's own ``init``)."""


def _rules(system: TransitionSystem, known: z3.BoolRef, init: z3.BoolRef | None) -> _Rules:
    cache: dict[tuple[int, int], _Rules] = system.cache.setdefault("spacer-rules", {})
    key = (known.get_id(), -1 if init is None else init.get_id())
    found = cache.get(key)
    if found is not None:
        return found
    ctx = system.ctx
    model = system.model
    state = [system.cur[v.name] for v in model.state]
    after = [system.nxt[v.name] for v in model.state]
    inputs = system.input_args()
    sorts = [v.sort() for v in state]
    preds = {
        step: z3.Function(f"Inv_{i}", *sorts, z3.BoolSort(ctx))
        for i, step in enumerate(model.steps)
    }
    clauses: list[tuple[z3.BoolRef, str]] = []
    for step, index in system.step_index.items():
        start = system.init if init is None else init
        init_values = z3.simplify(z3.substitute(start, (system.cur[STEP], z3.IntVal(index, ctx))))
        if not z3.is_false(init_values):
            clauses.append(
                (_closed(state, z3.Implies(init_values, preds[step](*state))), INIT_RULE)
            )
    for step in model.steps:
        earlier: list[z3.BoolRef] = []
        known_here = _at_step(system, known, system.step_index[step])
        for t in model.outgoing(step):
            guard = system.guards[t.index]
            fires = z3.And(guard, *(z3.Not(g) for g in earlier))
            body = z3.And(
                preds[step](*state), known_here, system.admissible, fires, system.effect(t.index)
            )
            clause = _closed(state + inputs + after, z3.Implies(body, preds[t.target](*after)))
            clauses.append((clause, _rule(t.index)))
            earlier.append(guard)
        if system.book or system.model.ticked:  # a stutter books the tick's fills and
            # moves the clock: a clause of its own
            body = z3.And(
                preds[step](*state),
                known_here,
                system.admissible,
                *(z3.Not(g) for g in earlier),
                system.stutter(),
            )
            clause = _closed(state + inputs + after, z3.Implies(body, preds[step](*after)))
            clauses.append((clause, _stutter_rule(system.step_index[step])))
    rules = _Rules(preds, tuple(clauses), (known,) if init is None else (known, init))
    if len(cache) >= _RULES_KEPT:
        cache.pop(next(iter(cache)))
    cache[key] = rules
    return rules


def _at_step(system: TransitionSystem, term: z3.BoolRef, index: int) -> z3.BoolRef:
    """``term`` in the clauses of one step: they have no step variable."""
    return z3.simplify(z3.substitute(term, (system.cur[STEP], z3.IntVal(index, system.ctx))))


def _solve(
    system: TransitionSystem,
    bad: z3.BoolRef,
    budget: Budget,
    lemmas: z3.BoolRef | None,
    reads_inputs: bool,
    init: z3.BoolRef | None = None,
) -> _Answer:
    ctx = system.ctx
    state = [system.cur[v.name] for v in system.model.state]
    inputs = system.input_args()
    known = lemmas if lemmas is not None else z3.BoolVal(True, ctx)
    rules = _rules(system, known, init)
    preds = rules.preds
    error = z3.Function("Bad", z3.BoolSort(ctx))
    fp = z3.Fixedpoint(ctx=ctx)
    fp.set(engine="spacer")
    # keep one predicate per step: inlining would return quantified invariants, and the
    # derivation would no longer name one clause per transition
    for param in ("xform.inline_linear", "xform.inline_eager", "xform.slice"):
        fp.set(param, False)
    fp.register_relation(error, *preds.values())
    for clause, name in rules.clauses:
        fp.add_rule(clause, None, name)
    for step, index in system.step_index.items():
        here = _at_step(system, bad, index)
        if z3.is_false(here):
            continue
        query = z3.And(preds[step](*state), _at_step(system, known, index), here)
        if reads_inputs:
            query = z3.And(query, system.admissible)
        bound = state + inputs if reads_inputs else state
        fp.add_rule(_closed(bound, z3.Implies(query, error())), None, QUERY_RULE)
    if budget.expired:
        return _Answer(z3.unknown, "timeout")
    budget.arm(fp)
    try:
        result = fp.query(error())
    except z3.Z3Exception as exc:  # z3 raises when the resource limit is reached
        return _Answer(z3.unknown, str(exc.value.decode() if isinstance(exc.value, bytes) else exc))
    finally:
        budget.meter.read(fp.statistics())
    if result == z3.unknown:
        return _Answer(z3.unknown, fp.reason_unknown())
    if result == z3.sat:
        names = [str(n) for n in fp.get_rule_names_along_trace()]
        used = [
            int(n[1:]) if n.startswith("t") else STUTTER
            for n in reversed(names)
            if n[:1] in ("t", "s") and n[1:].isdigit()
        ]
        return _Answer(z3.sat, transitions=tuple(used))
    solved = _solution(fp.get_answer(), state)
    invariant = z3.And(
        known,
        z3.Or(
            *(
                z3.And(
                    system.cur[STEP] == system.step_index[step],
                    solved.get(pred.name(), z3.BoolVal(False, ctx)),
                )
                for step, pred in preds.items()
            )
        ),
    )
    return _Answer(z3.unsat, invariant=invariant)


def _closed(variables: list[z3.ExprRef], body: z3.BoolRef) -> z3.BoolRef:
    return z3.ForAll(variables, body) if variables else body


def _concrete(
    system: TransitionSystem,
    unroller: Unroller,
    bad: z3.BoolRef,
    transitions: tuple[int, ...],
    reads_inputs: bool,
    budget: Budget,
) -> Outcome:
    """The run along Spacer's transitions: one BMC question with each tick's transition
    fixed. Spacer's clauses and the monolithic relation describe the same runs, so no
    such run is a bug in seqprove. When ``bad`` reads inputs, the run has one tick more,
    the tick that breaks the property."""
    none = z3.Not(z3.Or(*system.fires)) if system.fires else z3.BoolVal(True, system.ctx)
    path = [
        system.at(none if t == STUTTER else system.fires[t], j) for j, t in enumerate(transitions)
    ]
    depth = len(transitions) + (1 if reads_inputs else 0)
    result, found = unroller.check(bad, depth, budget, path=path, in_tick=reads_inputs)
    if result == z3.unknown:
        return Outcome(
            Verdict.REFUTED,
            "spacer",
            f"Spacer showed the limit can be broken in {depth} tick(s), but the run could "
            f"not be made concrete ({budget.why() if budget.expired else 'solver unknown'})",
            depth=depth,
            shortest=False,
        )
    if result == z3.unsat:
        raise InternalError(
            f"Spacer derived a run through transitions {list(transitions)} that the "
            "transition relation does not allow"
        )
    return Outcome(Verdict.REFUTED, "spacer", depth=depth, model=found, shortest=False)


def check_invariant(
    system: TransitionSystem,
    invariant: z3.BoolRef,
    bad: z3.BoolRef,
    reads_inputs: bool,
    budget: Budget,
    init: z3.BoolRef | None = None,
) -> str:
    """Re-check the three obligations of an inductive invariant with a fresh solver, on
    the monolithic transition relation: initiation (from ``init``, by default the
    model's), consecution and safety. Returns what failed, or an empty string."""
    primed = z3.substitute(invariant, *zip(system.state_args(), system.next_args(), strict=True))
    safety = z3.And(invariant, bad, system.admissible) if reads_inputs else z3.And(invariant, bad)
    for name, query in (
        ("initiation", z3.And(system.init if init is None else init, z3.Not(invariant))),
        ("consecution", z3.And(invariant, system.trans, z3.Not(primed))),
        ("safety", safety),
    ):
        solver = system.solver()
        solver.add(query)
        result = budget.check(solver)
        if result != z3.unsat:
            return f"{name} is {result}"
    return ""


def _solution(answer: z3.ExprRef, args: list[z3.ExprRef]) -> dict[str, z3.BoolRef]:
    """The solved predicates, by name, as formulas over ``args``. Spacer's answer to an
    unreachable query is a conjunction of definitions ``ForAll(v, P(v) == body)`` (or
    ``P == body`` for a predicate without arguments); a predicate it leaves out is never
    derived, so nothing reaches its step (false)."""
    parts = answer.children() if z3.is_and(answer) else [answer]
    found: dict[str, z3.BoolRef] = {}
    for part in parts:
        body = part.body() if z3.is_quantifier(part) else part
        if not z3.is_eq(body):
            continue
        head, definition = body.children()
        if not z3.is_app(head) or head.decl().kind() != z3.Z3_OP_UNINTERPRETED:
            continue
        values: list[z3.ExprRef] = list(args)
        if z3.is_quantifier(part):
            values = [args[0]] * part.num_vars()
            for j, bound in enumerate(head.children()):
                values[z3.get_var_index(bound)] = args[j]
        found[head.decl().name()] = _without_quantifiers(z3.substitute_vars(definition, *values))
    return found


QE_MS = 5000
"""Wall-clock bound on eliminating the quantifiers of one solved predicate; what is not
eliminated in time stays quantified (as true, only harder to print)."""


def _without_quantifiers(formula: z3.BoolRef) -> z3.BoolRef:
    """``formula`` with the quantifiers Spacer's solution may hold (``exists`` over a
    projected variable) eliminated, so that the invariant prints in model syntax."""
    if not quantified(formula):
        return formula
    tactic = z3.TryFor(z3.Then("qe", "simplify", ctx=formula.ctx), QE_MS)
    try:
        parts = [f for goal in tactic(formula) for f in goal]
    except z3.Z3Exception:
        return formula
    if any(quantified(p) for p in parts):
        return formula
    return z3.And(*parts) if parts else z3.BoolVal(True, formula.ctx)


def subterms(term: z3.ExprRef) -> Iterator[z3.ExprRef]:
    """Every distinct subterm of ``term``, ``term`` included."""
    todo, seen = [term], set()
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        yield t
        todo.extend(t.children())


def quantified(term: z3.ExprRef) -> bool:
    """Whether ``term`` holds a quantifier anywhere."""
    return any(z3.is_quantifier(t) for t in subterms(term))


def consts(term: z3.ExprRef) -> list[z3.ExprRef]:
    """The uninterpreted constants of ``term``."""
    return [
        t for t in subterms(term) if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED
    ]
