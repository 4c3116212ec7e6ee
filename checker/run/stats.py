"""What a run did, for its report: its counts and series tick by tick (:class:`Stats`), and
how it ended (:class:`Outcome`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from checker.run.venue import Fill, Num

BookPoint = tuple[int, Fraction | None, Num, Num, Num]
"""One instrument's book at a tick: (tick, mid, position, open buy, open sell)."""


@dataclass
class Stats:
    """What the report shows, accumulated tick by tick (and rebuilt from the journal on
    resume). ``books`` holds each instrument's book tick by tick (``""``: the one venue of
    a model without instruments) and ``pnl`` the account's PnL."""

    ticks: int = 0
    actions: int = 0
    orders: int = 0
    fills: int = 0
    denials: Counter[str] = field(default_factory=Counter)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    limit_breaches: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    books: dict[str, list[BookPoint]] = field(default_factory=dict)
    pnl: list[tuple[int, Fraction]] = field(default_factory=list)
    orders_of: Counter[str] = field(default_factory=Counter)
    fills_of: Counter[str] = field(default_factory=Counter)
    times: list[str | None] = field(default_factory=list)
    """Each tick's ``time`` cell as the data wrote it (None: tick 0, or no time column)."""
    steps: list[str] = field(default_factory=list)
    """The step after each tick."""
    fill_log: list[Fill] = field(default_factory=list)
    """Every fill, in order (the plot marks them)."""

    @property
    def series(self) -> list[tuple[int, Fraction | None, Num, Fraction]]:
        """(tick, mid, position, PnL) of every tick, the position and mid of the first
        book (the venue of a model without instruments)."""
        first = next(iter(self.books.values()), [])
        return [
            (tick, mid, position, equity)
            for (tick, mid, position, _, _), (_, equity) in zip(first, self.pnl, strict=True)
        ]

    def add(
        self,
        tick: int,
        actions: list[dict[str, Any]],
        event: Mapping[str, Any] | None,
        fills: list[Fill],
        points: Mapping[str, tuple[Fraction | None, Num, Num, Num]],
        equity: Fraction,
        *,
        time: str | None = None,
        step: str = "",
    ) -> None:
        """Count one tick: its actions, its event, its fills, each book's (mid, position,
        open buy, open sell), the PnL, the row's time and the step after it."""
        if tick > 0:
            self.ticks += 1
        self.fills += len(fills)
        self.fill_log.extend(fills)
        for fill in fills:
            self.fills_of[fill.instrument] += 1
        for action in actions:
            self.actions += 1
            if action["name"] == "place" and action["status"] == "sent":
                self.orders += 1
                self.orders_of[action.get("instrument", "")] += 1
            if action["status"] == "rejected":
                self.rejected += 1
        if event is not None:
            if event["kind"] == "denied":
                for prover in event["provers"]:
                    self.denials[prover["name"]] += 1
            elif event["kind"] in ("assumption", "reconciliation"):
                self.breaches.append({"tick": tick, **event})
            elif event["kind"] == "limit":
                self.limit_breaches.append({"tick": tick, **event})
        for name, point in points.items():
            self.books.setdefault(name, []).append((tick, *point))
        self.pnl.append((tick, equity))
        self.times.append(time)
        self.steps.append(step)


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``data-end``, ``final`` (the model reached a final step),
    ``assumption`` (the monitor stopped it), ``reconciliation`` (a venue's book and the
    model's differ) or ``limit`` (a limit broke: a bug in an unproven model)."""

    reason: str
    tick: int
    step: str
    message: str

    @property
    def exit_code(self) -> int:
        return {"data-end": 0, "final": 0, "assumption": 2, "reconciliation": 2, "limit": 1}[
            self.reason
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "tick": self.tick,
            "step": self.step,
            "message": self.message,
        }
