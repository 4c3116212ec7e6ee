"""What every engine returns, and the budget they share.

A budget is counted in z3's resource units (``rlimit``), which measure the solver's
work rather than the time it took: the same question with the same budget gets the same
answer on an idle machine and on a loaded one. A wall-clock limit stays as an outer
guard, so a run never hangs; when it is the one that runs out, the verdict says so,
since it may then depend on the machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import z3

from checker.results import Verdict
from checker.smt.meter import Meter

__all__ = ["UNBOUNDED_UNITS", "Budget", "Meter", "Outcome", "unknown"]

UNBOUNDED_UNITS = 2**32 - 1
"""The most units z3 takes as a ``rlimit``: for work that only the wall clock bounds
(the boundary search of ``checker.testing``, whose examples are hints, not verdicts)."""


class _Checkable(Protocol):
    def set(self, *args: object, **keys: object) -> None: ...
    def check(self, *assumptions: z3.ExprRef) -> z3.CheckSatResult: ...
    def statistics(self) -> z3.Statistics: ...


class Budget:
    """Resource units for a piece of work, with a wall-clock guard around it.

    ``units`` bounds z3's work deterministically; ``seconds`` is the outer guard.
    """

    def __init__(self, meter: Meter, units: int, seconds: float) -> None:
        meter.sync()
        self.meter = meter
        self.units = max(0, int(units))
        self.seconds = seconds
        self.start = meter.count
        self.end = time.monotonic() + seconds

    # -- what is left -------------------------------------------------------------------
    def units_left(self) -> int:
        return max(0, self.units - (self.meter.count - self.start))

    def remaining(self) -> float:
        """Wall-clock seconds left before the guard."""
        return max(0.0, self.end - time.monotonic())

    def ms(self, share: float = 1.0) -> int:
        return max(1, int(self.remaining() * share * 1000))

    @property
    def out_of_units(self) -> bool:
        return self.units_left() <= 0

    @property
    def out_of_time(self) -> bool:
        return self.remaining() <= 0.0

    @property
    def expired(self) -> bool:
        return self.out_of_units or self.out_of_time

    def part(self, share: float) -> Budget:
        """A budget for a share of what is left (units and guard alike)."""
        return Budget(self.meter, int(self.units_left() * share), self.remaining() * share)

    def capped(self, units: int) -> Budget:
        """What is left, but at most ``units`` resource units."""
        return Budget(self.meter, min(units, self.units_left()), self.remaining())

    def why(self) -> str:
        """Which limit ran out, in words for a verdict's reason."""
        if self.out_of_time and not self.out_of_units:
            return (
                f"time limit ({self.seconds:g} s wall clock) reached; this verdict may "
                "depend on the machine's load"
            )
        return f"resource budget ({self.units:,} units) reached"

    # -- checking -----------------------------------------------------------------------
    def arm(self, solver: _Checkable) -> None:
        """Give ``solver`` what is left: units as its ``rlimit``, time as its ``timeout``."""
        solver.set("rlimit", max(1, min(self.units_left(), UNBOUNDED_UNITS)))
        solver.set("timeout", self.ms())

    def check(self, solver: _Checkable, *assumptions: z3.ExprRef) -> z3.CheckSatResult:
        """``solver.check(*assumptions)`` within this budget; the units it used are
        charged. Running out is ``unknown``, as z3 answers it."""
        if self.expired:
            return z3.unknown
        self.arm(solver)
        try:
            return solver.check(*assumptions)
        finally:
            self.meter.read(solver.statistics())


@dataclass(frozen=True)
class Outcome:
    """An engine's answer on one property.

    ``depth`` and ``model`` describe a counterexample (a z3 model of the unrolled path
    of that many ticks); ``invariant`` is an inductive invariant over the current-state
    templates that implies the property; ``k`` the induction depth of a k-induction
    proof. ``shortest`` says whether every shorter run was shown not to break the
    property (false when a counterexample came from Spacer and the budget ran out
    before BMC could rule out every shorter length).
    """

    verdict: Verdict
    engine: str
    reason: str = ""
    depth: int | None = None
    model: z3.ModelRef | None = None
    invariant: z3.BoolRef | None = None
    k: int | None = None
    lemmas: z3.BoolRef | None = None  # an invariant a k-induction step assumed
    shortest: bool = True


def unknown(engine: str, solver_reason: str, budget: Budget) -> Outcome:
    """An UNKNOWN outcome worded from z3's ``reason_unknown``."""
    if budget.expired or solver_reason in ("timeout", "canceled", "max. resource limit exceeded"):
        return Outcome(Verdict.UNKNOWN, engine, budget.why())
    return Outcome(Verdict.UNKNOWN, engine, f"solver returned unknown ({solver_reason})")
