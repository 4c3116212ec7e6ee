"""Bounded model checking on one incremental solver: the path grows one tick at a time
and each depth is checked in turn, so the first violation found is a shortest
counterexample.

Each tick of the unrolled path is asserted under an activation literal, and a check at
depth ``d`` assumes only the literals of the first ``d`` ticks. A run of ``d`` ticks
needs admissible inputs on those ticks and on no later one, so a check at a small depth
also sees runs that end in a dead end (a configuration where no inputs are admissible),
however deep an earlier question unrolled the path.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from checker.engines.base import Budget, Outcome, unknown
from checker.results import Verdict
from checker.smt.system import TransitionSystem


class Unroller:
    """The initial condition and the ticks of a path, each tick under its own literal."""

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        self.solver = z3.Solver(ctx=system.ctx)
        self.solver.add(system.at(system.init, 0))
        self.active: list[z3.BoolRef] = []
        self.safe: dict[str, int] = {}

    @property
    def depth(self) -> int:
        return len(self.active)

    def extend(self, depth: int) -> None:
        while len(self.active) < depth:
            j = len(self.active)
            literal = z3.Bool(f"@tick@{j}", self.system.ctx)
            self.solver.add(z3.Implies(literal, self.system.at(self.system.trans, j)))
            self.active.append(literal)

    def check(
        self,
        bad: z3.BoolRef,
        depth: int,
        budget: Budget,
        over_inputs: bool = False,
        path: Sequence[z3.BoolRef] = (),
        in_tick: bool = False,
    ) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """Is there a run of exactly ``depth`` ticks ending in a configuration where
        ``bad`` holds? With ``over_inputs`` the inputs of the next tick are admissible
        too (for properties that read inputs, such as a transition firing). With
        ``in_tick`` (``depth`` at least 1), ``bad`` reads the last tick of the run
        instead: the configuration before it and its inputs (an order it sends, say).
        ``path`` adds constraints on the run (terms over its frames)."""
        self.extend(depth)
        self.solver.push()
        try:
            if over_inputs:
                self.solver.add(self.system.at(self.system.admissible, depth))
            where = depth - 1 if in_tick else depth
            self.solver.add(self.system.at(bad, where), *path)
            result = budget.check(self.solver, *self.active[:depth])
            return result, self.solver.model() if result == z3.sat else None
        finally:
            self.solver.pop()


def bounded_out(max_depth: int) -> Outcome:
    return Outcome(
        Verdict.UNKNOWN,
        "bmc",
        f"bounded: no counterexample up to depth {max_depth}, which proves nothing "
        "about longer runs",
    )


def bmc(
    unroller: Unroller,
    key: str,
    prop: z3.BoolRef,
    max_depth: int,
    budget: Budget,
    reads_inputs: bool = False,
) -> Outcome:
    """Search for a violation of ``prop`` at depths ``0..max_depth``, shortest first.

    ``key`` names the property in the unroller's record of depths already shown safe,
    so a later call resumes where an earlier one stopped. With ``reads_inputs`` the
    property is about a tick (the orders it sends): a violation of depth ``d`` is a run
    of ``d >= 1`` ticks whose last tick breaks it. Never proves: without a
    counterexample the outcome is UNKNOWN.
    """
    start = max(unroller.safe.get(key, -1) + 1, 1 if reads_inputs else 0)
    for depth in range(start, max_depth + 1):
        if budget.expired:
            return unknown("bmc", "timeout", budget)
        result, model = unroller.check(z3.Not(prop), depth, budget, in_tick=reads_inputs)
        if result == z3.sat:
            return Outcome(Verdict.REFUTED, "bmc", depth=depth, model=model)
        if result == z3.unknown:
            return unknown("bmc", unroller.solver.reason_unknown(), budget)
        unroller.safe[key] = depth
    return bounded_out(max_depth)


def bmc_together(
    unroller: Unroller,
    props: dict[str, z3.BoolRef],
    max_depth: int,
    budget: Budget,
    reads_inputs: bool = False,
) -> dict[str, Outcome]:
    """BMC for several properties at once, one question per depth: is any property not
    yet broken broken here? The properties broken in the run found are refuted at that
    depth, which is shortest for each of them since every earlier depth was shown safe
    for all; the others are asked again at the same depth, then the search goes on.
    Never proves: properties left unbroken are UNKNOWN."""
    system = unroller.system
    waiting = dict(props)
    found: dict[str, Outcome] = {}
    depth = 1 if reads_inputs else 0
    where = -1 if reads_inputs else 0  # the frame a property reads, from the depth
    while waiting and depth <= max_depth and not budget.expired:
        result, model = unroller.check(
            z3.Or(*(z3.Not(p) for p in waiting.values())), depth, budget, in_tick=reads_inputs
        )
        if result == z3.unknown:
            break
        if result == z3.unsat:
            for name in waiting:
                unroller.safe[name] = depth
            depth += 1
            continue
        assert model is not None
        for name, prop in list(waiting.items()):
            held = model.eval(system.at(prop, depth + where), model_completion=True)
            if z3.is_false(held):
                found[name] = Outcome(Verdict.REFUTED, "bmc", depth=depth, model=model)
                del waiting[name]
    for name in waiting:
        if depth > max_depth:
            found[name] = bounded_out(max_depth)
        else:
            found[name] = unknown("bmc", unroller.solver.reason_unknown(), budget)
    return found
