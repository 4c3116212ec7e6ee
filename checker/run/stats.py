"""What a run did, for its report: its counts and series tick by tick (:class:`Stats`), and
how it ended (:class:`Outcome`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from checker.lang.timing import CLOCK_LAST, Window
from checker.run.venue import Fill, Num

BookPoint = tuple[int, Fraction | None, Num, Num, Num]
"""One instrument's book at a tick: (tick, mid, position, open buy, open sell)."""


Mark = tuple[Any, ...]
"""What :class:`Stats` keeps of one tick, flat: (tick, time, step, PnL, then each book's
mid, position, open buy and open sell, in the order of :attr:`Stats.names`)."""


@dataclass
class Stats:
    """What the report shows, accumulated tick by tick (and rebuilt from the journal on
    resume). Each tick is kept as one flat :data:`Mark`; :attr:`books` (each instrument's
    book tick by tick, ``""``: the one venue of a model without instruments), :attr:`pnl`
    (the account's PnL), :attr:`times` and :attr:`steps` are read from them."""

    ticks: int = 0
    actions: int = 0
    orders: int = 0
    fills: int = 0
    denials: Counter[str] = field(default_factory=Counter)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    limit_breaches: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    orders_of: Counter[str] = field(default_factory=Counter)
    fills_of: Counter[str] = field(default_factory=Counter)
    fill_log: list[Fill] = field(default_factory=list)
    """Every fill, in order (the plot marks them)."""
    names: tuple[str, ...] = ()
    """The books, in the order their points are in each mark."""
    marks: list[Mark] = field(default_factory=list)
    """One per tick: see :data:`Mark`."""
    param_changes: list[dict[str, Any]] = field(default_factory=list)
    """Each change of a params schedule, made or refused (its journal event, with its tick)."""
    peaks: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)
    """Each window's highest value after a tick: (value, the first tick it was reached
    at, that tick's time)."""

    def peak(
        self, windows: tuple[Window, ...], values: Mapping[str, Any], tick: int, time: str | None
    ) -> None:
        """Note each window's value on a configuration's ``values`` (at ``clock.last``)."""
        at = int(values[CLOCK_LAST])
        for w in windows:
            value = w.evaluate(values, at)
            if w.name not in self.peaks or value > self.peaks[w.name][0]:
                self.peaks[w.name] = (value, tick, time)

    @property
    def books(self) -> dict[str, list[BookPoint]]:
        """Each book tick by tick: (tick, mid, position, open buy, open sell)."""
        return {
            name: [(m[0], *m[4 + 4 * i : 8 + 4 * i]) for m in self.marks]
            for i, name in enumerate(self.names)
        }

    @property
    def pnl(self) -> list[tuple[int, Fraction]]:
        """The account's PnL after every tick."""
        return [(m[0], m[3]) for m in self.marks]

    @property
    def last_pnl(self) -> Fraction:
        """The account's PnL after the last tick (0 before any)."""
        return self.marks[-1][3] if self.marks else Fraction(0)

    @property
    def times(self) -> list[str | None]:
        """Each tick's ``time`` cell as the data wrote it (None: tick 0, or no time
        column)."""
        return [m[1] for m in self.marks]

    @property
    def steps(self) -> list[str]:
        """The step after each tick."""
        return [m[2] for m in self.marks]

    @property
    def series(self) -> list[tuple[int, Fraction | None, Num, Fraction]]:
        """(tick, mid, position, PnL) of every tick, the position and mid of the first
        book (the venue of a model without instruments)."""
        return [(m[0], m[4], m[5], m[3]) for m in self.marks] if self.names else []

    def positions(self, name: str) -> list[Num]:
        """Book ``name``'s position after every tick (none for a book it does not have)."""
        if name not in self.names:
            return []
        at = 5 + 4 * self.names.index(name)
        return [m[at] for m in self.marks]

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
            self.event(tick, event)
        if not self.names:
            self.names = tuple(points)
        mark: list[Any] = [tick, time, step, equity]
        for name in self.names:
            mark += points[name]
        self.marks.append(tuple(mark))

    def event(self, tick: int, event: Mapping[str, Any]) -> None:
        """Count a tick's event: a denial, a breach of the assumptions or the books, a
        broken limit, a change of params made or refused (an end of the run counts
        nothing)."""
        change = event if event["kind"] == "params" else event.get("params")
        if change is not None:
            self.param_changes.append({"tick": tick, **change})
        if event["kind"] == "denied":
            for prover in event["provers"]:
                self.denials[prover["name"]] += 1
        elif event["kind"] in ("assumption", "reconciliation"):
            self.breaches.append({"tick": tick, **event})
        elif event["kind"] == "limit":
            self.limit_breaches.append({"tick": tick, **event})


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
