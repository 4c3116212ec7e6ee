"""The paper books of a run: one venue per instrument of a version-2 model (one venue for a
version-1 model), what their fills give the model, and the reconciliation of each venue's
book with the book the model keeps (``LANGUAGE-2.md``, "What `seqprove run` must do").

A version-2 venue runs in deferred mode (:mod:`checker.run.venue`, rule 7), which is the
tick of the language on a venue: an order placed at a tick fills from the next one; an IOC
or market order, and an order a cancel reaches, can fill at the next row only and then
leave. So after every row the venue's position and open quantities are those the model's
book has after the fills (:meth:`checker.interpret.Interpreter.after_fills`), and after
the actions those it has after the transition. :meth:`Venues.differences` says where they
are not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.book import Book
from checker.errors import Diagnostic
from checker.interpret import ActionValue
from checker.model import SIDES, Model, Value, Variable, book_name, decimal_text
from checker.run.venue import Fill, Market, Num, PaperVenue, VenueError


def _text(value: Value) -> str:
    return decimal_text(value) if isinstance(value, Fraction) else str(value)


def _whole(value: Num) -> Num:
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


def _column(model: Model, var: Variable) -> int:
    """Where ``var``'s name starts on its line of the model file (1 if it cannot be read)."""
    try:
        line = Path(model.file).read_text(encoding="utf-8").splitlines()[var.line - 1]
    except (OSError, IndexError, UnicodeDecodeError):
        return 1
    return line.find(var.name) + 1 or 1


def venue_source_problems(model: Model) -> list[Diagnostic]:
    """The venue inputs ``seqprove run`` cannot give ``model``: with several instruments,
    each has its own venue, so only ``venue.pnl_change`` (the account's PnL, the sum of
    the venues') has one meaning; the others name a quantity of one book."""
    if len(model.instruments) < 2:
        return []
    return [
        Diagnostic(
            model.file,
            v.line,
            _column(model, v),
            f"input '{v.name}' takes {v.source}, but the model trades "
            f"{', '.join(i.name for i in model.instruments)}, each on its own venue: read "
            f"the instrument's book instead (I.position, I.open_buy, I.bought, ...)",
        )
        for v in model.inputs
        if v.source not in ("market", "fills", "venue.pnl_change")
    ]


@dataclass(frozen=True)
class Mismatch:
    """One quantity of one instrument's book on which a venue and the model disagree."""

    name: str  # the model's name of it: perp.open_sell (perp.pending_sell: hidden)
    venue: Num
    model: Num
    label: str = ""  # how a message names it, when not by its name

    def text(self) -> str:
        diff: Num = self.venue - self.model
        more = "more" if diff > 0 else "less"
        return (
            f"{self.label or self.name} is {_text(self.venue)} on the venue and "
            f"{_text(self.model)} in the model ({_text(-diff if diff < 0 else diff)} {more} "
            "on the venue)"
        )

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "venue": _text(self.venue), "model": _text(self.model)}


class Venues:
    """The venues of a run, by instrument (``""``: the one venue of a version-1 model)."""

    def __init__(self, venues: Mapping[str, PaperVenue]) -> None:
        self.by_name = dict(venues)

    @classmethod
    def for_model(
        cls,
        model: Model,
        slippage_bps: Fraction,
        given: Mapping[str, PaperVenue] | None = None,
    ) -> Venues:
        """A paper venue per instrument of ``model`` (deferred, with the instrument's
        contract size and initial position), or one instant venue for a version-1 model;
        ``given`` replaces some of them (a test's venue)."""
        given = given or {}
        if not model.instruments:
            spec = model.venue
            return cls({"": given.get("") or PaperVenue(spec.contract_size, slippage_bps)})
        return cls(
            {
                i.name: given.get(i.name)
                or PaperVenue(
                    i.contract_size,
                    slippage_bps,
                    deferred=True,
                    instrument=i.name,
                    position=i.position if not isinstance(i.position, bool) else 0,
                )
                for i in model.instruments
            }
        )

    def __iter__(self) -> Any:
        return iter(self.by_name.items())

    @property
    def first(self) -> PaperVenue:
        return next(iter(self.by_name.values()))

    # -- market data ------------------------------------------------------------------------
    def on_market(self, tick: int, markets: Mapping[str, Market]) -> list[Fill]:
        fills: list[Fill] = []
        for name, venue in self.by_name.items():
            fills += venue.on_market(tick, markets[name])
        return fills

    def left(self) -> list[str]:
        """The pending orders that left every venue at the last row."""
        return [cid for venue in self.by_name.values() for cid in venue.left]

    def equity(self) -> Fraction:
        """The account's PnL: the sum of every venue's equity (in the quote currency)."""
        return sum((v.equity() for v in self.by_name.values()), start=Fraction(0))

    # -- what the model is given --------------------------------------------------------------
    @staticmethod
    def fill_inputs(book: Book, fills: Iterable[Fill]) -> dict[str, Value]:
        """The fills of a tick as the model's inputs: ``I.bought``, ``I.sold`` and, on the
        sides that have them, the parts that hit pending orders (``I.bought_pending``)."""
        totals: dict[str, Num] = {}
        for side in book.sides:
            totals[side.fill] = 0
            if side.fill_pending is not None:
                totals[side.fill_pending] = 0
        for fill in fills:
            side = book.side(fill.instrument, fill.side)
            totals[side.fill] += fill.qty
            if fill.pending and side.fill_pending is not None:
                totals[side.fill_pending] += fill.qty
        return {name: _whole(value) for name, value in totals.items()}

    # -- reconciliation ---------------------------------------------------------------------
    def differences(
        self, book: Book, values: Mapping[str, Value], *, pending: bool
    ) -> list[Mismatch]:
        """Where a venue's book differs from the model's book ``values``: its position,
        and per side the quantity that can still fill (``I.open_buy``); with ``pending``
        (after the actions) also the part of it that leaves after the next row
        (``I.pending_buy``, 0 on a side the model keeps none)."""
        found: list[Mismatch] = []
        for i in book.instruments:
            venue = self.by_name[i.name]
            position = book_name(i.name, "position")
            if venue.position != values[position]:
                found.append(Mismatch(position, venue.position, values[position]))
            for side_name in SIDES:
                side = book.side(i.name, side_name)
                have = venue.open_quantity(side_name)
                if have != values[side.open]:
                    found.append(Mismatch(side.open, have, values[side.open]))
                if not pending:
                    continue
                mine = values[side.pending] if side.pending is not None else 0
                have = venue.pending_quantity(side_name)
                if have != mine:
                    name = side.pending or f"{i.name}.pending_{side_name}"
                    label = f"the part of {side.open} that leaves after the next row"
                    found.append(Mismatch(name, have, mine, f"{label} (cancelled, IOC, market)"))
        return found

    # -- actions ----------------------------------------------------------------------------
    def send(self, tick: int, cid: str, action: ActionValue) -> tuple[dict[str, Any], list[Fill]]:
        """Send one action to its instrument's venue (a ``cancel_all`` without instrument
        to every venue): what the journal records of it, and the fills it got at once (a
        market order on an instant venue)."""
        out: dict[str, Any] = {"cid": cid, "name": action.name, "status": "sent"}
        if action.instrument:
            out["instrument"] = action.instrument
        fills: list[Fill] = []
        targets = (
            [self.by_name[action.instrument]] if action.instrument else list(self.by_name.values())
        )
        try:
            if action.name == "place":
                assert action.side is not None and action.qty is not None
                qty = action.qty if isinstance(action.qty, int) else _whole(action.qty)
                price = action.price
                if price is not None and type(price) is not Fraction:
                    price = Fraction(price)
                out.update(side=action.side, qty=qty, price=price)
                if action.instrument:
                    out["tif"] = "ioc" if price is None else action.tif
                    fills += targets[0].place(tick, cid, action.side, qty, price, out["tif"])
                else:
                    fills += targets[0].place(tick, cid, action.side, qty, price)
            elif action.name == "cancel":
                assert action.side is not None
                out.update(side=action.side)
                out["cancelled"] = targets[0].cancel(tick, cid, action.side)
            else:
                out["cancelled"] = [c for v in targets for c in v.cancel_all(tick, cid)]
        except VenueError as exc:
            out.update(status="rejected", reason=str(exc))
        return out, fills

    # -- persistence ------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The journal's compact state of every venue: a version-1 run's one venue as it
        is, a version-2 run's by instrument."""
        if "" in self.by_name:
            return self.first.snapshot(history=False)
        return {name: v.snapshot(history=False) for name, v in self.by_name.items()}

    def restored(self, data: Mapping[str, Any]) -> Venues:
        """Venues of the same classes as these, restored from :meth:`snapshot`'s record."""
        if "" in self.by_name:
            return Venues({"": type(self.first).restore(dict(data))})
        if set(data) != set(self.by_name):
            raise ValueError(f"venues {sorted(data)}, not the instruments {sorted(self.by_name)}")
        return Venues({name: type(v).restore(data[name]) for name, v in self.by_name.items()})
