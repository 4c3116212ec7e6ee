"""The portfolio for one limit: cheap checks first, then Spacer for an invariant, then
deeper k-induction, all inside the limit's time budget."""

from __future__ import annotations

import z3

from checker.engines import Deadline, Outcome, Unroller, bmc, k_induction, spacer
from checker.engines.base import unknown
from checker.engines.houdini import Lemmas
from checker.options import Options
from checker.results import Verdict
from checker.smt.system import TransitionSystem

SPACER_SHARE = 0.6
"""Share of the remaining budget Spacer gets before k-induction goes deeper."""

TRACE_DEPTH = 10_000
"""How deep BMC may go to produce a trace after Spacer showed a limit is breakable."""


def prove(
    system: TransitionSystem,
    unroller: Unroller,
    name: str,
    prop: z3.BoolRef,
    options: Options,
    deadline: Deadline,
    lemmas: Lemmas | None = None,
) -> Outcome:
    """Decide one property with the engine(s) that ``options`` chooses.

    The portfolio first looks the property up in ``lemmas`` (Houdini's inductive
    invariant, computed once per model), then tries 1-induction, Spacer and deeper
    k-induction, each assuming the lemmas before every tick. A refutation always ends
    with a BMC run, so its ``model`` holds a shortest counterexample (``depth``
    ticks)."""
    if options.engine == "bmc":
        return bmc(unroller, name, prop, options.bmc_depth, deadline)
    if options.engine == "kind":
        return k_induction(system, unroller, name, prop, range(1, options.max_k + 1), deadline)
    if options.engine == "spacer":
        return _with_trace(unroller, name, prop, spacer(system, z3.Not(prop), deadline), deadline)
    if lemmas is not None and name in lemmas.parts:
        return Outcome(Verdict.PROVED, "houdini", invariant=lemmas.conjunction(system))
    known = lemmas.conjunction(system) if lemmas is not None and lemmas.parts else None
    first = k_induction(system, unroller, name, prop, range(1, 2), deadline, known)
    if first.verdict is not Verdict.UNKNOWN:
        return first
    if deadline.expired:  # say why the rest of the portfolio did not run
        return unknown("portfolio", "timeout", deadline)
    by_spacer = spacer(system, z3.Not(prop), deadline.part(SPACER_SHARE), lemmas=known)
    if by_spacer.verdict is Verdict.PROVED:
        return by_spacer
    if by_spacer.verdict is Verdict.REFUTED:
        return _with_trace(unroller, name, prop, by_spacer, deadline)
    deeper = k_induction(system, unroller, name, prop, range(2, options.max_k + 1), deadline, known)
    if deeper.verdict is Verdict.UNKNOWN:
        return Outcome(
            Verdict.UNKNOWN,
            "portfolio",
            f"spacer: {by_spacer.reason}; k-induction: {deeper.reason}",
        )
    return deeper


def _with_trace(
    unroller: Unroller, name: str, prop: z3.BoolRef, outcome: Outcome, deadline: Deadline
) -> Outcome:
    """Spacer answers 'breakable' without a shortest run: find one with BMC."""
    if outcome.verdict is not Verdict.REFUTED or outcome.model is not None:
        return outcome
    found = bmc(unroller, name, prop, TRACE_DEPTH, deadline)
    if found.verdict is Verdict.REFUTED:
        return Outcome(Verdict.REFUTED, "spacer+bmc", depth=found.depth, model=found.model)
    return Outcome(
        Verdict.UNKNOWN,
        "spacer",
        "Spacer showed the limit can be broken, but BMC found no run that breaks it "
        f"within the time limit ({found.reason})",
    )
