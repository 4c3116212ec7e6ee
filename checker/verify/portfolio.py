"""The portfolio for one limit: cheap checks first, then Spacer for an invariant or a
run, then deeper k-induction, then deeper BMC, all inside the limit's budget."""

from __future__ import annotations

from dataclasses import replace

import z3

from checker.engines import Budget, Outcome, Unroller, bmc, k_induction, spacer
from checker.engines.base import unknown
from checker.engines.houdini import Lemmas
from checker.options import Options
from checker.results import Verdict
from checker.smt.system import TransitionSystem

SPACER_SHARE = 0.6
"""Share of the remaining budget Spacer gets before k-induction goes deeper."""

BARE_SHARE = 1 / 3
"""Share of Spacer's part of the budget that its first attempt, without Houdini's
lemmas, gets (:func:`_spacer`)."""

TRACE_DEPTH = 10_000
"""How deep BMC may go when it is the last engine with budget left."""


def prove(
    system: TransitionSystem,
    unroller: Unroller,
    name: str,
    prop: z3.BoolRef,
    options: Options,
    budget: Budget,
    lemmas: Lemmas | None = None,
    reads_inputs: bool = False,
) -> Outcome:
    """Decide one property with the engine(s) that ``options`` chooses.

    The portfolio first looks the property up in ``lemmas`` (Houdini's inductive
    invariant, computed once per model), then tries 1-induction, Spacer and deeper
    k-induction, each assuming the lemmas before every tick, and spends what is left of
    the budget on deeper BMC. A refutation's ``model`` holds a run of ``depth`` ticks;
    it is a shortest one unless ``shortest`` is false (a run from Spacer that BMC had no
    budget left to shorten or to show shortest).

    With ``reads_inputs`` the property is about a tick (an order check, say: it must
    hold for every admissible input): k-induction is not used for it; it is proved
    when the lemmas alone imply it (the invariant is then the lemmas), or by Spacer."""
    if reads_inputs:
        return _prove_tick(system, unroller, name, prop, options, budget, lemmas)
    if options.engine == "bmc":
        return bmc(unroller, name, prop, options.bmc_depth, budget)
    if options.engine == "kind":
        return k_induction(system, unroller, name, prop, range(1, options.max_k + 1), budget)
    if options.engine == "spacer":
        found = spacer(system, z3.Not(prop), budget, unroller=unroller)
        return shorten(unroller, name, prop, found, budget)
    if lemmas is not None and name in lemmas.parts:
        return Outcome(Verdict.PROVED, "houdini", invariant=lemmas.conjunction(system))
    known = lemmas.conjunction(system) if lemmas is not None and lemmas.parts else None
    first = k_induction(system, unroller, name, prop, range(1, 2), budget, known)
    if first.verdict is not Verdict.UNKNOWN:
        return first
    if budget.expired:  # say why the rest of the portfolio did not run
        return unknown("portfolio", "timeout", budget)
    by_spacer = _spacer(system, unroller, prop, budget, known)
    if by_spacer.verdict is Verdict.PROVED:
        return by_spacer
    if by_spacer.verdict is Verdict.REFUTED:
        return shorten(unroller, name, prop, by_spacer, budget)
    deeper = k_induction(system, unroller, name, prop, range(2, options.max_k + 1), budget, known)
    if deeper.verdict is not Verdict.UNKNOWN:
        return deeper
    if not budget.expired:
        # k-induction gave up before the budget did: look for a deeper run
        deepest = bmc(unroller, name, prop, TRACE_DEPTH, budget)
        if deepest.verdict is Verdict.REFUTED:
            return deepest
    return Outcome(
        Verdict.UNKNOWN,
        "portfolio",
        f"spacer: {by_spacer.reason}; k-induction: {deeper.reason}"
        + (
            f"; bounded search: no run up to {unroller.safe[name]} ticks"
            if name in unroller.safe
            else ""
        ),
    )


def _spacer(
    system: TransitionSystem,
    unroller: Unroller,
    prop: z3.BoolRef,
    budget: Budget,
    known: z3.BoolRef | None,
) -> Outcome:
    """Spacer on the property, within :data:`SPACER_SHARE` of the budget: first without
    the lemmas (:data:`BARE_SHARE` of that share's resource units), then, if it did not
    finish, with them in its clauses for the rest.

    Neither is better everywhere. The lemmas are facts Spacer would otherwise have to
    find; on some problems they are what lets it finish (`s_mutants_16` of the external
    suite: proved in 4 s with them, not in 10 without), on others they send its search
    astray (`s_mutants_20`: proved in 4 s without them, not in 25 with; the generated
    50/20/150 model and `s_disj_ite_06` are faster without them too)."""
    bad = z3.Not(prop)
    share = budget.part(SPACER_SHARE)
    if known is None:
        return spacer(system, bad, share, unroller=unroller)
    # the first attempt's units are capped, not its wall-clock guard: on a busy machine
    # the units, not the clock, still decide where it stops
    first = share.capped(int(share.units_left() * BARE_SHARE))
    bare = spacer(system, bad, first, unroller=unroller)
    if bare.verdict is not Verdict.UNKNOWN or share.expired:
        return bare
    with_lemmas = spacer(system, bad, share, lemmas=known, unroller=unroller)
    if with_lemmas.verdict is not Verdict.UNKNOWN:
        return with_lemmas
    return replace(
        with_lemmas,
        reason=f"without the lemmas, {bare.reason}; with them, {with_lemmas.reason}",
    )


def _prove_tick(
    system: TransitionSystem,
    unroller: Unroller,
    name: str,
    prop: z3.BoolRef,
    options: Options,
    budget: Budget,
    lemmas: Lemmas | None,
) -> Outcome:
    """The portfolio for a property about a tick: the lemmas (or nothing) as the
    invariant when they imply it for every admissible input, then Spacer, then deeper
    BMC. With ``--engine kind``, the base case only after the lemmas: BMC up to
    ``max_k`` ticks."""
    if options.engine == "bmc":
        return bmc(unroller, name, prop, options.bmc_depth, budget, reads_inputs=True)
    known = lemmas.conjunction(system) if lemmas is not None else z3.BoolVal(True, system.ctx)
    if options.engine in ("portfolio", "kind"):
        solver = system.solver()
        solver.add(system.state_domain, known, system.admissible, z3.Not(prop))
        result = budget.check(solver)
        if result == z3.unsat:
            return Outcome(Verdict.PROVED, "houdini" if lemmas else "local", invariant=known)
        if options.engine == "kind":
            # k-induction's base case still runs: a run of up to max_k ticks that breaks it
            base = bmc(unroller, name, prop, options.max_k, budget, reads_inputs=True)
            if base.verdict is Verdict.REFUTED or not base.reason.startswith("bounded:"):
                return base
            return Outcome(
                Verdict.UNKNOWN,
                "k-induction",
                "not implied by the state's lemmas alone, and no run of up to "
                f"{options.max_k} ticks breaks it; k-induction is not used for "
                "properties of a tick (use the portfolio or --engine spacer)",
            )
    if budget.expired:
        return unknown("portfolio", "timeout", budget)
    share = 1.0 if options.engine == "spacer" else SPACER_SHARE
    extra = lemmas.conjunction(system) if lemmas is not None and lemmas.parts else None
    found = spacer(system, z3.Not(prop), budget.part(share), lemmas=extra, unroller=unroller)
    if found.verdict is not Verdict.UNKNOWN:
        return shorten(unroller, name, prop, found, budget, reads_inputs=True)
    if options.engine == "spacer" or budget.expired:
        return found
    deepest = bmc(unroller, name, prop, TRACE_DEPTH, budget, reads_inputs=True)
    if deepest.verdict is Verdict.REFUTED:
        return deepest
    return Outcome(
        Verdict.UNKNOWN,
        "portfolio",
        f"spacer: {found.reason}"
        + (
            f"; bounded search: no run up to {unroller.safe[name]} ticks"
            if name in unroller.safe
            else ""
        ),
    )


def shorten(
    unroller: Unroller,
    name: str,
    prop: z3.BoolRef,
    outcome: Outcome,
    budget: Budget,
    reads_inputs: bool = False,
) -> Outcome:
    """A run from Spacer need not be shortest: ask BMC for every shorter length the
    budget allows. Either a shorter run (then shortest), or every shorter length shown
    safe (Spacer's run is shortest), or the run as it is, marked not shortest."""
    if outcome.verdict is not Verdict.REFUTED or outcome.shortest:
        return outcome
    assert outcome.depth is not None  # prove() always gives Spacer the unroller
    if outcome.depth <= (1 if reads_inputs else 0):  # no run is shorter
        return replace(outcome, shortest=True)
    found = bmc(unroller, name, prop, outcome.depth - 1, budget, reads_inputs)
    if found.verdict is Verdict.REFUTED:
        return replace(found, engine=f"{outcome.engine}+bmc")
    if unroller.safe.get(name, -1) >= outcome.depth - 1:
        return replace(outcome, shortest=True)
    return outcome
