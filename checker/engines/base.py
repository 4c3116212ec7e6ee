"""What every engine returns, and the time budget they share."""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from checker.results import Verdict


class Deadline:
    """A wall-clock budget; z3 gets what is left of it as its ``timeout``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def ms(self, share: float = 1.0) -> int:
        return max(1, int(self.remaining() * share * 1000))

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def part(self, share: float) -> Deadline:
        """A deadline for a share of what is left."""
        return Deadline(self.remaining() * share)


@dataclass(frozen=True)
class Outcome:
    """An engine's answer on one property.

    ``depth`` and ``model`` describe a counterexample (a z3 model of the unrolled path
    of that many ticks); ``invariant`` is an inductive invariant over the current-state
    templates that implies the property; ``k`` the induction depth of a k-induction
    proof.
    """

    verdict: Verdict
    engine: str
    reason: str = ""
    depth: int | None = None
    model: z3.ModelRef | None = None
    invariant: z3.BoolRef | None = None
    k: int | None = None
    lemmas: z3.BoolRef | None = None  # an invariant a k-induction step assumed


def unknown(engine: str, solver_reason: str, deadline: Deadline) -> Outcome:
    """An UNKNOWN outcome worded from z3's ``reason_unknown``."""
    if deadline.expired or solver_reason in ("timeout", "canceled"):
        return Outcome(Verdict.UNKNOWN, engine, f"time limit ({deadline.seconds:g} s) reached")
    return Outcome(Verdict.UNKNOWN, engine, f"solver returned unknown ({solver_reason})")
