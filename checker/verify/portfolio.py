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
) -> Outcome:
    """Decide one property with the engine(s) that ``options`` chooses.

    The portfolio first looks the property up in ``lemmas`` (Houdini's inductive
    invariant, computed once per model), then tries 1-induction, Spacer and deeper
    k-induction, each assuming the lemmas before every tick, and spends what is left of
    the budget on deeper BMC. A refutation's ``model`` holds a run of ``depth`` ticks;
    it is a shortest one unless ``shortest`` is false (a run from Spacer that BMC had no
    budget left to shorten or to show shortest)."""
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
    by_spacer = spacer(
        system, z3.Not(prop), budget.part(SPACER_SHARE), lemmas=known, unroller=unroller
    )
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


def shorten(
    unroller: Unroller, name: str, prop: z3.BoolRef, outcome: Outcome, budget: Budget
) -> Outcome:
    """A run from Spacer need not be shortest: ask BMC for every shorter length the
    budget allows. Either a shorter run (then shortest), or every shorter length shown
    safe (Spacer's run is shortest), or the run as it is, marked not shortest."""
    if outcome.verdict is not Verdict.REFUTED or outcome.shortest:
        return outcome
    assert outcome.depth is not None  # prove() always gives Spacer the unroller
    found = bmc(unroller, name, prop, outcome.depth - 1, budget)
    if found.verdict is Verdict.REFUTED:
        return replace(found, engine=f"{outcome.engine}+bmc")
    if unroller.safe.get(name, -1) >= outcome.depth - 1:
        return replace(outcome, shortest=True)
    return outcome
