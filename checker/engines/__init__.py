"""Proof engines behind one small interface: each takes a transition system, a property
of configurations (a z3 term over the current-state templates) and a budget, and
returns an :class:`~checker.engines.base.Outcome`."""

from checker.engines.base import Budget, Outcome
from checker.engines.bmc import Unroller, bmc
from checker.engines.kind import k_induction
from checker.engines.spacer import spacer

__all__ = ["Budget", "Outcome", "Unroller", "bmc", "k_induction", "spacer"]
