"""Verification options: one frozen value, overlaid layer by layer."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_PROOFS = Path(".seqprove") / "proofs"
"""Where ``verify`` writes proof records for ``run``."""

DEFAULT_CACHE = Path(".seqprove") / "cache"
"""Where ``verify`` keeps results to reuse."""

DEFAULT_BUDGET = 100_000_000
"""Resource units per limit: about half a minute of z3 work on the machine of bench/README.md."""

ENGINES = ("portfolio", "bmc", "kind", "spacer")


@dataclass(frozen=True)
class Options:
    """How ``verify`` works.

    Attributes
    ----------
    budget
        z3 resource units allowed per limit, shared by the engines of the portfolio
        (the sanity checks of a model get as much again). Resource units count the
        solver's work, not time, so the same file gets the same verdict on an idle and
        on a loaded machine.
    timeout
        Wall-clock seconds allowed per limit: an outer guard, so that a run never
        hangs. Generous by default; when it is what runs out, the verdict says so.
    engine
        ``portfolio`` (default), or one engine alone: ``bmc`` (bounded, never proves),
        ``kind`` (k-induction) or ``spacer``.
    bmc_depth
        Deepest run BMC looks at when it runs alone.
    max_k
        Largest k that k-induction tries.
    sanity
        Run the sanity checks (dead and shadowed transitions, tautologies, dead ends).
    """

    budget: int = DEFAULT_BUDGET
    timeout: float = 300.0
    engine: str = "portfolio"
    bmc_depth: int = 30
    max_k: int = 30
    sanity: bool = True

    def overlay(self, **changes: Any) -> Options:
        """A copy with every change that is not None applied."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


DEFAULT_OPTIONS = Options()
PARAMS_BUDGET = DEFAULT_OPTIONS.budget // 5
"""``seqprove params``' z3 resource units per limit and round: a round that cannot decide
cuts its box in two rather than search on."""
PARAMS_ROUNDS = 12
"""``seqprove params``' verify calls before what is left is called undecided."""
