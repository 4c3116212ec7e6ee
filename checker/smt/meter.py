"""The resource units z3 spends in one context: what budgets are counted in."""

from __future__ import annotations

import z3


def _units_spent(stats: z3.Statistics) -> int | None:
    try:
        return int(stats.get_key_value("rlimit count"))
    except z3.Z3Exception:  # statistics without the count
        return None


class Meter:
    """The resource units z3 has spent in one context so far, as of the last reading.

    z3 counts resource units per context, cumulatively; a solver's statistics carry the
    context's count. Every check made through a :class:`Budget` reads it afterwards.
    """

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.count = 0
        self.sync()

    def sync(self) -> None:
        """Read the context's count now (a fresh solver's statistics carry it)."""
        self.read(z3.Solver(ctx=self.ctx).statistics())

    def read(self, stats: z3.Statistics) -> None:
        spent = _units_spent(stats)
        if spent is not None:
            self.count = max(self.count, spent)
