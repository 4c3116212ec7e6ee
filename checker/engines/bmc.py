"""Bounded model checking on one incremental solver: the path grows one tick at a time
and each depth is checked under push/pop, so the first violation found is a shortest
counterexample."""

from __future__ import annotations

import z3

from checker.engines.base import Deadline, Outcome, unknown
from checker.results import Verdict
from checker.smt.system import TransitionSystem


class Unroller:
    """The initial condition and the first ``depth`` ticks, asserted in one solver."""

    def __init__(self, system: TransitionSystem) -> None:
        self.system = system
        self.solver = z3.Solver(ctx=system.ctx)
        self.solver.add(system.at(system.init, 0))
        self.depth = 0
        self.safe: dict[str, int] = {}

    def extend(self, depth: int) -> None:
        while self.depth < depth:
            self.solver.add(self.system.at(self.system.trans, self.depth))
            self.depth += 1

    def check(
        self, bad: z3.BoolRef, depth: int, deadline: Deadline, over_inputs: bool = False
    ) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
        """Is there a run of ``depth`` ticks ending in a configuration where ``bad``
        holds? With ``over_inputs`` the inputs of the next tick are admissible too (for
        properties that read inputs, such as a transition firing)."""
        self.extend(depth)
        self.solver.push()
        try:
            if over_inputs:
                self.solver.add(self.system.at(self.system.admissible, depth))
            self.solver.add(self.system.at(bad, depth))
            self.solver.set("timeout", deadline.ms())
            result = self.solver.check()
            return result, self.solver.model() if result == z3.sat else None
        finally:
            self.solver.pop()


def bmc(
    unroller: Unroller, key: str, prop: z3.BoolRef, max_depth: int, deadline: Deadline
) -> Outcome:
    """Search for a violation of ``prop`` at depths ``0..max_depth``, shortest first.

    ``key`` names the property in the unroller's record of depths already shown safe,
    so a later call resumes where an earlier one stopped. Never proves: without a
    counterexample the outcome is UNKNOWN.
    """
    start = unroller.safe.get(key, -1) + 1
    for depth in range(start, max_depth + 1):
        if deadline.expired:
            return unknown("bmc", "timeout", deadline)
        result, model = unroller.check(z3.Not(prop), depth, deadline)
        if result == z3.sat:
            return Outcome(Verdict.REFUTED, "bmc", depth=depth, model=model)
        if result == z3.unknown:
            return unknown("bmc", unroller.solver.reason_unknown(), deadline)
        unroller.safe[key] = depth
    return Outcome(
        Verdict.UNKNOWN,
        "bmc",
        f"bounded: no counterexample up to depth {max_depth}, which proves nothing "
        "about longer runs",
    )


def bmc_together(
    unroller: Unroller, props: dict[str, z3.BoolRef], max_depth: int, deadline: Deadline
) -> dict[str, Outcome]:
    """BMC for several properties at once, one question per depth: is any property not
    yet broken broken here? The properties broken in the run found are refuted at that
    depth, which is shortest for each of them since every earlier depth was shown safe
    for all; the others are asked again at the same depth, then the search goes on.
    Never proves: properties left unbroken are UNKNOWN."""
    system = unroller.system
    waiting = dict(props)
    found: dict[str, Outcome] = {}
    depth = 0
    while waiting and depth <= max_depth and not deadline.expired:
        result, model = unroller.check(
            z3.Or(*(z3.Not(p) for p in waiting.values())), depth, deadline
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
            held = model.eval(system.at(prop, depth), model_completion=True)
            if z3.is_false(held):
                found[name] = Outcome(Verdict.REFUTED, "bmc", depth=depth, model=model)
                del waiting[name]
    for name in waiting:
        if depth > max_depth:
            found[name] = Outcome(
                Verdict.UNKNOWN,
                "bmc",
                f"bounded: no counterexample up to depth {max_depth}, which proves nothing "
                "about longer runs",
            )
        else:
            found[name] = unknown("bmc", unroller.solver.reason_unknown(), deadline)
    return found
