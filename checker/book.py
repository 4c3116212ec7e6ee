"""The book the checker keeps for each instrument (language version 2).

In a model with ``instruments``, each instrument's position and working orders are state
that only the semantics changes: the fills the market chooses and the actions the
strategy sends. This module is that semantics, in one place, read by the SMT encoding
(:mod:`checker.smt.system`), the interpreter (:mod:`checker.interpret`) and the executor
(:mod:`checker.run`). It says it twice, on purpose: as sympy expressions, which the
encoding turns into z3 terms, and on values, which the interpreter runs; the two-semantics
tests check that both readings agree tick by tick.

One side of one instrument's book holds ``W`` working and ``P`` pending quantity; the
user reads ``I.open_buy = W + P`` (the state kept is ``I.open_buy`` and, on sides that can
have one, the hidden ``I.pending_buy``). A tick, as ``LANGUAGE-2.md`` gives it:

1. the market chooses the inputs and, per side, a fill ``I.bought = fw + fp`` with
   ``0 <= fw <= W`` and ``0 <= fp <= P`` (``fp`` is the hidden input
   ``I.bought_pending``): :meth:`Book.constraints`, part of the admissible inputs;
2. the fills are booked: ``position += bought - sold``, ``W -= fw``, ``P := 0``
   (:meth:`Book.booked`, :meth:`Book.book_fills`);
3. the transition is chosen on the configuration after step 2;
4. its actions change the book in order: a ``gtc`` place adds ``qty`` to ``W``, an ``ioc``
   (or market) place adds it to ``P``, a cancel moves its side's ``W`` to ``P``
   (:meth:`Book.effects`, :meth:`Book.apply`). A place whose quantity is not positive
   adds nothing (a venue refuses it; the built-in check ``positive_qty`` refutes the
   model that can send one);
5. ``do`` applies; 6. the limits are checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass

import sympy

from checker.model import (
    SIDES,
    Action,
    Instrument,
    Model,
    Transition,
    Value,
    book_name,
    fill_pending_name,
    order_symbol,
    pending_name,
)
from checker.types import SIDE, TIF


@dataclass(frozen=True)
class Side:
    """One side of one instrument's book, by the names of its variables."""

    instrument: str
    side: str
    open: str  # I.open_buy: working plus pending
    pending: str | None  # I.pending_buy; None where nothing can be pending (always 0)
    fill: str  # I.bought: this tick's fill
    fill_pending: str | None  # I.bought_pending: the part of it that hit pending orders

    @property
    def sign(self) -> int:
        """How a fill of this side moves the position."""
        return 1 if self.side == "buy" else -1


@dataclass(frozen=True)
class OrderSent:
    """A ``place`` of a transition, as an order check reads it: each field of the order
    as an expression over the state before the transition and the inputs."""

    action: Action
    fields: Mapping[str, sympy.Basic]  # order field -> expression (no "price" if none)

    def check(self, expr: sympy.Basic) -> sympy.Basic | None:
        """``expr`` (an order check) read on this order, or None when it reads the price
        and the order has none (it then holds vacuously)."""
        symbols = {order_symbol(f): v for f, v in self.fields.items()}
        if order_symbol("price") in expr.free_symbols and "price" not in self.fields:
            return None
        return expr.xreplace(symbols)


class Book:
    """The books of a model's instruments (empty for a version-1 model)."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.instruments: tuple[Instrument, ...] = model.instruments
        sides: list[Side] = []
        for i in model.instruments:
            for side in SIDES:
                has_pending = side in i.pending
                sides.append(
                    Side(
                        i.name,
                        side,
                        book_name(i.name, f"open_{side}"),
                        pending_name(i.name, side) if has_pending else None,
                        book_name(i.name, "bought" if side == "buy" else "sold"),
                        fill_pending_name(i.name, side) if has_pending else None,
                    )
                )
        self.sides = tuple(sides)
        self.state = frozenset(v.name for v in model.state if v.builtin)
        self.symbols = {v.name: v.symbol for v in (*model.state, *model.inputs) if v.builtin}

    def __bool__(self) -> bool:
        return bool(self.instruments)

    def side(self, instrument: str, side: str) -> Side:
        for s in self.sides:
            if s.instrument == instrument and s.side == side:
                return s
        raise KeyError((instrument, side))

    # -- as expressions (for the SMT encoding) ----------------------------------------------
    def constraints(self) -> list[sympy.Basic]:
        """Step 1: each side's fill is at most what can fill, split between the working
        and the pending quantity (over the state before the tick and the fills)."""
        s = self.symbols
        found: list[sympy.Basic] = []
        for side in self.sides:
            fill, open_ = s[side.fill], s[side.open]
            if side.pending is None or side.fill_pending is None:
                found += [sympy.Ge(fill, 0), sympy.Le(fill, open_)]
                continue
            part, pending = s[side.fill_pending], s[side.pending]
            found += [
                sympy.Ge(part, 0),
                sympy.Le(part, pending),
                sympy.Ge(fill - part, 0),
                sympy.Le(fill - part, open_ - pending),
            ]
        return found

    def booked(self) -> dict[str, sympy.Basic]:
        """Step 2: the book after the fills, over the state before the tick and the fills
        (every book variable)."""
        s = self.symbols
        values: dict[str, sympy.Basic] = {}
        for i in self.instruments:
            position = book_name(i.name, "position")
            moved = sympy.Add(
                *(side.sign * s[side.fill] for side in self.sides if side.instrument == i.name)
            )
            values[position] = s[position] + moved
        for side in self.sides:
            if side.pending is None or side.fill_pending is None:
                values[side.open] = s[side.open] - s[side.fill]
            else:
                working = s[side.open] - s[side.pending]
                values[side.open] = working - (s[side.fill] - s[side.fill_pending])
                values[side.pending] = sympy.Integer(0)
        return values

    def effects(self, transition: Transition) -> dict[str, sympy.Basic]:
        """Step 4: the book after ``transition``'s actions, over the configuration after
        the fills and the inputs; only the variables the actions change."""
        s = self.symbols
        now: dict[str, sympy.Basic] = {}

        def get(name: str) -> sympy.Basic:
            return now.get(name, s[name])

        for action in transition.emit:
            side_expr = action.arg("side")
            for side in self._sides_of(action):
                on_side = _is_side(side_expr, side.side)
                if on_side is sympy.false:
                    continue
                if action.name == "place":
                    qty = action.arg("qty")
                    assert qty is not None
                    added = _when(on_side, sympy.Max(qty, 0))
                    now[side.open] = get(side.open) + added
                    if action.tif == "ioc":
                        assert side.pending is not None  # the loader gave this side one
                        now[side.pending] = get(side.pending) + added
                else:  # cancel, cancel_all: the side's working quantity becomes pending
                    assert side.pending is not None
                    now[side.pending] = _choose(on_side, get(side.open), get(side.pending))
        return now

    def worst_case(self, limit: sympy.Basic) -> list[sympy.Basic]:
        """Worst-case versions of ``limit`` (a limit's expression): for each inequality
        in it that is linear in some instruments' positions, the same inequality with
        every position moved as far as its open orders can take it the wrong way (all
        the buys filled where the position's coefficient is positive, all the sells where
        it is negative). Fills only ever move a position within these bounds, so they
        often make an inductive strengthening of an exposure limit (they are candidate
        lemmas: each is proved or dropped). ``abs(e) <= c`` counts as ``e <= c`` and
        ``-e <= c``."""
        positions = {self.symbols[book_name(i.name, "position")]: i.name for i in self.instruments}
        found: list[sympy.Basic] = []
        for expr, strict in _inequalities(limit):
            if not expr.free_symbols & set(positions):
                continue
            moved = expr
            for symbol, instrument in positions.items():
                slope = sympy.diff(expr, symbol)
                if slope.free_symbols or not slope.is_number:
                    moved = None
                    break
                if slope > 0:
                    moved = moved + slope * self.symbols[book_name(instrument, "open_buy")]
                elif slope < 0:
                    moved = moved - slope * self.symbols[book_name(instrument, "open_sell")]
            if moved is not None and moved != expr:
                found.append(sympy.Lt(moved, 0) if strict else sympy.Le(moved, 0))
        return found

    def _sides_of(self, action: Action) -> list[Side]:
        """The sides an action can touch (a cancel_all without instrument: every one)."""
        return [s for s in self.sides if action.instrument in ("", s.instrument)]

    def orders(self, transition: Transition) -> list[OrderSent]:
        """The orders ``transition`` sends, for the order checks."""
        names = tuple(i.name for i in self.instruments)
        found = []
        for action in transition.emit:
            if action.name != "place":
                continue
            fields: dict[str, sympy.Basic] = {
                "instrument": sympy.Integer(names.index(action.instrument) if names else 0),
                "tif": sympy.Integer(TIF.values.index(action.tif)),
            }
            for key in ("side", "qty", "price"):
                value = action.arg(key)
                if value is not None:
                    fields[key] = value
            found.append(OrderSent(action, fields))
        return found

    # -- on values (for the interpreter and the executor) -----------------------------------
    def book_fills(
        self, values: Mapping[str, Value], fills: Mapping[str, Value]
    ) -> dict[str, Value]:
        """Step 2 on values: the book after the fills (every book variable)."""
        after: dict[str, Value] = {}
        for i in self.instruments:
            position = book_name(i.name, "position")
            after[position] = values[position]
        for side in self.sides:
            position = book_name(side.instrument, "position")
            fill = fills[side.fill]
            after[position] = after[position] + side.sign * fill
            part = fills[side.fill_pending] if side.fill_pending is not None else 0
            pending = values[side.pending] if side.pending is not None else 0
            after[side.open] = values[side.open] - pending - (fill - part)
            if side.pending is not None:
                after[side.pending] = values[side.pending] * 0
        return after

    def fills_fit(self, values: Mapping[str, Value], fills: Mapping[str, Value]) -> list[str]:
        """Why ``fills`` cannot happen on the book ``values`` (empty when they can): each
        side's fill, and its part on pending orders, must be within what can fill."""
        problems = []
        for side in self.sides:
            fill = fills[side.fill]
            part = fills[side.fill_pending] if side.fill_pending is not None else 0
            pending = values[side.pending] if side.pending is not None else 0
            working = values[side.open] - pending
            if part < 0 or fill - part < 0:
                problems.append(f"{side.fill} = {fill} is negative")
            elif part > pending or fill - part > working:
                problems.append(
                    f"{side.fill} = {fill} is more than the {side.open} = {values[side.open]} "
                    "that can fill"
                    if part <= pending
                    else f"{side.fill_pending} = {part} is more than the pending "
                    f"{pending} that can fill"
                )
        return problems

    def apply(
        self,
        values: MutableMapping[str, Value],
        actions: Iterable[tuple[str, str, str | None, Value | None, str]],
    ) -> None:
        """Step 4 on values: change the book ``values`` (after the fills) by ``actions``,
        each ``(name, instrument, side, qty, tif)`` with its arguments evaluated, in
        order. ``instrument`` is empty for a cancel_all of every instrument and ``side``
        None for a cancel_all."""
        for name, instrument, side_name, qty, tif in actions:
            for side in self.sides:
                if instrument not in ("", side.instrument):
                    continue
                if side_name is not None and side.side != side_name:
                    continue
                if name == "place":
                    assert qty is not None
                    if qty <= 0:
                        continue  # refused, as a venue does (positive_qty reports it)
                    values[side.open] = values[side.open] + qty
                    if tif == "ioc":
                        assert side.pending is not None
                        values[side.pending] = values[side.pending] + qty
                else:
                    assert side.pending is not None
                    values[side.pending] = values[side.open]


def _inequalities(expr: sympy.Basic) -> list[tuple[sympy.Basic, bool]]:
    """The inequalities of ``expr`` (its conjuncts), each as ``(e, strict)`` meaning
    ``e < 0`` or ``e <= 0``; ``abs(x) + rest <= 0`` gives ``x + rest`` and ``-x + rest``."""
    if isinstance(expr, sympy.And):
        return [found for arg in expr.args for found in _inequalities(arg)]
    if isinstance(expr, sympy.LessThan | sympy.StrictLessThan):
        diff = expr.lhs - expr.rhs
    elif isinstance(expr, sympy.GreaterThan | sympy.StrictGreaterThan):
        diff = expr.rhs - expr.lhs
    else:
        return []
    strict = isinstance(expr, sympy.StrictLessThan | sympy.StrictGreaterThan)
    terms = sympy.Add.make_args(diff)
    absolute = [t for t in terms if isinstance(t, sympy.Abs)]
    if not absolute:
        return [(diff, strict)]
    if len(absolute) != 1:
        return []
    rest = diff - absolute[0]
    inner = absolute[0].args[0]
    return [(inner + rest, strict), (-inner + rest, strict)]


def _is_side(expr: sympy.Basic | None, side: str) -> sympy.Basic:
    """Whether an action's ``side`` argument is ``side`` (true when it has none: a
    cancel_all acts on both sides)."""
    if expr is None:
        return sympy.true
    index = SIDE.values.index(side)
    if isinstance(expr, sympy.Integer):
        return sympy.true if int(expr) == index else sympy.false
    return sympy.Eq(expr, index)


def _when(condition: sympy.Basic, value: sympy.Basic) -> sympy.Basic:
    return value if condition is sympy.true else sympy.Piecewise((value, condition), (0, True))


def _choose(condition: sympy.Basic, yes: sympy.Basic, no: sympy.Basic) -> sympy.Basic:
    return yes if condition is sympy.true else sympy.Piecewise((yes, condition), (no, True))
