"""A deterministic paper venue for one instrument, with exact arithmetic.

Every number is an ``int`` or a ``fractions.Fraction``, never a float, and a quantity keeps
the type it was given: an order for an ``int`` quantity fills in ``int`` quantities.

A venue runs in one of two modes. The *instant* mode (the default) is the venue of
version-1 models: market orders fill on arrival and cancels take effect at once (rules 1-6
below). The *deferred* mode (``deferred=True``) is the venue of one instrument of a
version-2 model, aligned with the tick of ``LANGUAGE-2.md`` (rule 7).

Rules:

1. ``on_market(tick, market)`` is called once per tick, before the strategy acts, with
   strictly increasing ticks. It first matches the resting limit orders placed at earlier
   ticks against the row (never an order placed at this same tick: such an order was placed
   after the strategy saw the row), then records the row as the last market: the mark for
   ``equity()`` and the touch for market orders.

   - A buy limit at price ``p`` is marketable when ``ask <= p`` or the market traded
     through it, ``low < p``. Its liquidity is the largest of the sources that apply:
     ``ask_size`` if ``ask <= p``, ``volume`` if ``low < p``. The buy orders share that
     liquidity in price-time priority (higher price first, then earlier placement): each
     fills ``min(remaining, liquidity - already filled on this side this row)``, which gives
     partial fills. The fill price is the limit price ``p``. The sell side is the mirror
     image: ``bid >= p`` with ``bid_size``, ``high > p`` with ``volume``, lower price first.
   - An order for an ``int`` quantity fills whole quantities (the available quantity is
     rounded down); a zero fill is no fill.
   - That is the *book* fill model (``fill_model="book"``), for rows that are states of a
     book (ticks, L1 quotes). Rows that are bars (candles) have no book: their bid, ask and
     touch sizes were made up. The *bars* fill model (``fill_model="bars"``) matches a
     resting limit order only against what the bar traded: a buy at ``p`` fills when the
     bar's range reaches it, ``low <= p`` (a sell when ``high >= p``), and the orders of a
     side share at most ``volume * participation`` (``participation``, default 1/10) in
     the same price-time priority, at their limit prices; the bid, ask and touch sizes
     are never liquidity for a limit order. Market orders fill at the touch as in rule 2
     (and rule 7) in both models. Neither model knows an order's place in the queue at
     its price: the first order of the side gets the liquidity first, as if it were at
     the front.

2. ``place(..., price=None)`` is a market order: it fills at once and in full at the touch
   with slippage, a buy at ``ask * (1 + slippage_bps / 10000)``, a sell at
   ``bid * (1 - slippage_bps / 10000)``; it raises ``VenueError`` before any market is seen.
   ``place`` with a price rests a limit order, which is not matched against the current row
   and can fill from the next ``on_market``. A quantity must be greater than zero and a side
   ``"buy"`` or ``"sell"``, or ``place`` raises ``VenueError`` (and records nothing).

3. Idempotence: a ``place``, ``cancel`` or ``cancel_all`` whose ``cid`` was already seen
   does nothing and returns ``[]``, so a resumed run may re-send the actions of a tick that
   was not journaled.

4. ``cancel(tick, cid, side)`` cancels every open order on that side, ``cancel_all`` every
   open order; both return the cancelled client ids in placement order. A partly filled
   order keeps its filled part.

5. Every fill updates ``position`` (buys minus sells), ``cash`` (sells minus buys at the
   fill price, times ``contract_size``) and, for limit fills only, ``bought_limit`` or
   ``sold_limit``. ``equity()`` is ``cash + position * mid * contract_size`` with the last
   market's mid (0 before any market).

6. ``snapshot()`` is JSON-serialisable (an ``int`` stays a JSON integer, a ``Fraction``
   becomes a string such as ``"3/2"``) and ``PaperVenue.restore(snapshot)`` rebuilds a venue
   that continues exactly like the original (a venue of the bars fill model records it and
   its participation rate).

7. Deferred mode. An order is *pending* when it can fill at the next ``on_market`` only and
   then leaves the book: an IOC order (``tif="ioc"``) and a market order from the moment
   they are placed, and every open order that a ``cancel`` or ``cancel_all`` reaches (the
   cancel races the fills of the next row). At the next ``on_market`` a pending limit order
   is matched like a resting one, in the same price-time priority (a marketable cancelled
   order fills: the cancel lost the race, the conservative reading); a pending market
   order fills in full at that row's touch with slippage, as in rule 2; then every pending
   order that is not filled leaves, ``cancelled``, its cid in ``left``. A fill says whether
   it hit a pending order (``Fill.pending``). ``open_quantity`` counts every order that
   can still fill, pending ones included; ``pending_quantity`` the pending ones alone. The
   venue may start with a position (``position=``): it is taken on at the first row's mid
   (``cash -= position * mid * contract_size``), so the PnL starts at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any

from checker.errors import SeqproveError

Num = int | Fraction
SIDES = ("buy", "sell")
FILL_MODELS = ("book", "bars")
"""How resting limit orders fill: against the book and the trades of each row (``book``),
or against the range and volume of each bar (``bars``)."""
PARTICIPATION = Fraction(1, 10)
"""The default share of a bar's volume that the bars fill model gives an account's orders
on one side (see ``docs/executor.md``, "Fill models")."""


class VenueError(SeqproveError):
    """An action the venue refuses: a bad quantity or side, a market order with no market."""


@dataclass(frozen=True)
class Market:
    """One row of market data: the book now and the trades since the previous row."""

    bid: Fraction
    ask: Fraction
    bid_size: Fraction
    ask_size: Fraction
    low: Fraction  # lowest trade price since the previous row
    high: Fraction  # highest trade price since the previous row
    volume: Fraction  # traded quantity since the previous row

    def __post_init__(self) -> None:
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | Fraction):
                raise VenueError(f"market {f.name} must be an int or a Fraction, not {value!r}")
            object.__setattr__(self, f.name, Fraction(value))
        object.__setattr__(self, "mid", (self.bid + self.ask) / 2)

    mid: Fraction = field(init=False, compare=False)  # (bid + ask) / 2, the mark


@dataclass(frozen=True)
class Fill:
    fill_id: str  # f"{cid}/{n}", n = 1, 2, ... per order
    cid: str
    tick: int
    side: str  # "buy" | "sell"
    qty: Num
    price: Fraction
    kind: str  # "limit" (an order with a price filled) | "market" (an order without one)
    instrument: str = ""  # the venue's instrument (deferred mode)
    pending: bool = False  # it hit a pending order (deferred mode)


@dataclass
class Order:
    cid: str
    tick: int
    side: str
    qty: Num
    price: Fraction | None  # None: a market order
    filled: Num = 0
    status: str = "open"  # "open" | "pending" (deferred mode) | "filled" | "cancelled"
    tif: str = "gtc"  # "gtc" | "ioc" (a market order is ioc)
    instrument: str = ""

    @property
    def remaining(self) -> Num:
        return self.qty - self.filled


def _enc(x: Num) -> int | str:
    return x if isinstance(x, int) else str(x)


def _dec(v: int | str) -> Num:
    return v if isinstance(v, int) else Fraction(v)


def _limit(order: Order) -> Fraction:
    assert order.price is not None, "only limit orders rest"
    return order.price


def _exact(name: str, value: object) -> Num:
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise VenueError(f"{name} must be an int or a Fraction, not {value!r}")
    return value


class PaperVenue:
    def __init__(
        self,
        contract_size: Fraction = Fraction(1),
        slippage_bps: Fraction = Fraction(0),
        *,
        deferred: bool = False,
        instrument: str = "",
        position: Num = 0,
        fill_model: str = "book",
        participation: Fraction = PARTICIPATION,
    ) -> None:
        self.contract_size = Fraction(_exact("contract_size", contract_size))
        self.slippage_bps = Fraction(_exact("slippage_bps", slippage_bps))
        self.fill_model = "book"
        self.participation = PARTICIPATION
        self.set_fill_model(fill_model, participation)
        self.deferred = deferred
        self.instrument = instrument
        self.start: Num = _exact("position", position)  # taken on at the first mid
        self.tick: int | None = None  # tick of the last market
        self.market: Market | None = None
        self.position: Num = self.start
        self.cash = Fraction(0)
        self.bought_limit: Num = 0
        self.sold_limit: Num = 0
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.left: list[str] = []  # pending orders that left at the last on_market
        self._open: dict[str, Order] = {}  # orders that can still fill, in placement order
        self._nfills: dict[str, int] = {}  # fills so far per order
        self._seen: set[str] = set()  # action cids already handled
        self._equity: tuple[tuple[int | None, int], Fraction] | None = None

    # -- market data --------------------------------------------------------------------------

    def on_market(self, tick: int, market: Market) -> list[Fill]:
        if self.tick is not None and tick <= self.tick:
            raise VenueError(f"market tick {tick} does not follow tick {self.tick}")
        if self.market is None and self.start:
            self.cash -= self.start * market.mid * self.contract_size
        out: list[Fill] = []
        if self.deferred:
            out += self._market_orders(tick, market)
        for side in SIDES:
            resting = [
                o
                for o in self._open.values()
                if o.side == side and o.tick < tick and o.price is not None
            ]
            sign = -1 if side == "buy" else 1  # sorted() is stable: ties keep placement order
            used: Num = 0
            for order in sorted(resting, key=lambda o: sign * _limit(o)):
                avail = self._liquidity(side, _limit(order), market) - used
                if isinstance(order.qty, int):
                    avail = math.floor(avail)
                qty = min(order.remaining, avail)
                if qty > 0:
                    used += qty
                    out.append(self._fill(order, tick, qty, _limit(order), "limit"))
        self.left = []
        if self.deferred:
            left = [c for c, o in self._open.items() if o.status == "pending" and o.tick < tick]
            self.left = self._cancel(left)
        self.tick, self.market = tick, market
        return out

    def _market_orders(self, tick: int, market: Market) -> list[Fill]:
        """Deferred mode: the pending market orders fill in full at this row's touch."""
        slip = self.slippage_bps / 10000
        out = []
        for order in [o for o in self._open.values() if o.price is None and o.tick < tick]:
            touch = market.ask * (1 + slip) if order.side == "buy" else market.bid * (1 - slip)
            out.append(self._fill(order, tick, order.remaining, touch, "market"))
        return out

    def poll(self, tick: int) -> list[Fill]:
        """Events that arrived since the tick began. A live venue reports fills here
        asynchronously; the paper venue fills only in :meth:`on_market`, so it has none."""
        return []

    def set_fill_model(self, fill_model: str, participation: Fraction = PARTICIPATION) -> None:
        """Match resting limit orders by ``fill_model`` (:data:`FILL_MODELS`) from now on,
        the bars model giving them ``participation`` of each bar's volume (0 < it <= 1)."""
        if fill_model not in FILL_MODELS:
            raise VenueError(f"fill model {fill_model!r} is not one of {', '.join(FILL_MODELS)}")
        rate = _exact("participation", participation)
        if not 0 < rate <= 1:
            raise VenueError(f"participation {rate} is not in (0, 1]")
        self.fill_model, self.participation = fill_model, Fraction(rate)

    def _liquidity(self, side: str, p: Fraction, m: Market) -> Num:
        """What the orders of ``side`` at limit price ``p`` can fill against in row ``m``."""
        if self.fill_model == "bars":
            reached = m.low <= p if side == "buy" else m.high >= p
            return m.volume * self.participation if reached else 0
        if side == "buy":
            return max(m.ask_size if m.ask <= p else 0, m.volume if m.low < p else 0)
        return max(m.bid_size if m.bid >= p else 0, m.volume if m.high > p else 0)

    # -- actions --------------------------------------------------------------------------------

    def place(
        self,
        tick: int,
        cid: str,
        side: str,
        qty: Num,
        price: Fraction | None,
        tif: str = "gtc",
    ) -> list[Fill]:
        if cid in self._seen:
            return []
        qty = _exact("quantity", qty)
        if qty <= 0:
            raise VenueError(f"order {cid}: quantity {qty} is not positive")
        if side not in SIDES:
            raise VenueError(f"order {cid}: side {side!r} is not 'buy' or 'sell'")
        if tif not in ("gtc", "ioc") or (tif == "ioc" and not self.deferred):
            raise VenueError(f"order {cid}: time in force {tif!r} is not taken here")
        if price is None and self.market is None and not self.deferred:
            raise VenueError(f"market order {cid}: no market data yet")
        limit = None if price is None else Fraction(_exact("price", price))
        self._seen.add(cid)
        order = Order(cid, tick, side, qty, limit, filled=qty * 0, instrument=self.instrument)
        self.orders[cid] = order
        if self.deferred:
            if limit is None or tif == "ioc":
                order.status, order.tif = "pending", "ioc"
            self._open[cid] = order
            return []
        if limit is not None:
            self._open[cid] = order
            return []
        assert self.market is not None
        slip = self.slippage_bps / 10000
        touch = self.market.ask * (1 + slip) if side == "buy" else self.market.bid * (1 - slip)
        return [self._fill(order, tick, qty, touch, "market")]

    def cancel(self, tick: int, cid: str, side: str) -> list[str]:
        if cid in self._seen:
            return []
        if side not in SIDES:
            raise VenueError(f"cancel {cid}: side {side!r} is not 'buy' or 'sell'")
        self._seen.add(cid)
        return self._cancel_sent([c for c, o in self._open.items() if o.side == side])

    def cancel_all(self, tick: int, cid: str) -> list[str]:
        if cid in self._seen:
            return []
        self._seen.add(cid)
        return self._cancel_sent(list(self._open))

    def _cancel_sent(self, cids: list[str]) -> list[str]:
        """A cancel reaches ``cids``: they leave at once (instant mode), or become pending
        (deferred mode: they may still fill at the next row, then leave)."""
        if not self.deferred:
            return self._cancel(cids)
        for c in cids:
            self._open[c].status = "pending"
        return cids

    def _cancel(self, cids: list[str]) -> list[str]:
        for c in cids:
            self._open.pop(c).status = "cancelled"
        return cids

    def _fill(self, order: Order, tick: int, qty: Num, price: Fraction, kind: str) -> Fill:
        n = self._nfills.get(order.cid, 0) + 1
        self._nfills[order.cid] = n
        fill = Fill(
            f"{order.cid}/{n}",
            order.cid,
            tick,
            order.side,
            qty,
            price,
            kind,
            self.instrument,
            order.status == "pending",
        )
        self.fills.append(fill)
        order.filled += qty
        if order.remaining == 0:
            order.status = "filled"
            self._open.pop(order.cid, None)
        if order.side == "buy":
            self.position += qty
            self.cash -= qty * price * self.contract_size
            if kind == "limit":
                self.bought_limit += qty
        else:
            self.position -= qty
            self.cash += qty * price * self.contract_size
            if kind == "limit":
                self.sold_limit += qty
        return fill

    # -- accounting -------------------------------------------------------------------------

    def equity(self) -> Fraction:
        key = (self.tick, len(self.fills))  # equity changes only with a market or a fill
        if self._equity is None or self._equity[0] != key:
            mark = self.market.mid if self.market is not None else Fraction(0)
            self._equity = (key, self.cash + self.position * mark * self.contract_size)
        return self._equity[1]

    def open_quantity(self, side: str) -> Num:
        """The quantity of ``side`` orders that can still fill (pending ones included)."""
        return sum((o.remaining for o in self._open.values() if o.side == side), start=0)

    def open_quantities(self) -> tuple[Num, Num]:
        """``(open_quantity("buy"), open_quantity("sell"))`` in one pass over the orders."""
        buy: Num = 0
        sell: Num = 0
        for o in self._open.values():
            if o.side == "buy":
                buy += o.qty - o.filled
            else:
                sell += o.qty - o.filled
        return buy, sell

    def pending_quantity(self, side: str) -> Num:
        """The quantity of ``side`` orders that can fill at the next row only, then leave."""
        return sum(
            (o.remaining for o in self._open.values() if o.side == side and o.status == "pending"),
            start=0,
        )

    def open_orders(self) -> list[Order]:
        """The orders that can still fill, in placement order."""
        return list(self._open.values())

    # -- persistence ------------------------------------------------------------------------

    def snapshot(self, history: bool = True) -> dict[str, Any]:
        """Everything the venue knows; with ``history=False`` only what it needs to go on
        (settings, accounting, last market, open orders), a small record the journal keeps
        every tick while it stores orders and fills in tables of their own. A deferred
        venue adds its mode, instrument and starting position, and each order's time in
        force and each fill's instrument and pending mark."""
        m = self.market
        orders = self.orders.values() if history else self._open.values()
        data: dict[str, Any] = {
            "contract_size": _enc(self.contract_size),
            "slippage_bps": _enc(self.slippage_bps),
            "tick": self.tick,
            "market": None
            if m is None
            else {f.name: _enc(getattr(m, f.name)) for f in fields(m) if f.init},
            "position": _enc(self.position),
            "cash": _enc(self.cash),
            "bought_limit": _enc(self.bought_limit),
            "sold_limit": _enc(self.sold_limit),
            "orders": [self._order_json(o) for o in orders],
            "nfills": {cid: self._nfills[cid] for cid in self._open if cid in self._nfills},
            "fills": [self._fill_json(f) for f in (self.fills if history else ())],
            "seen": sorted(self._seen) if history else [],
        }
        if self.deferred:
            data.update(deferred=True, instrument=self.instrument, start=_enc(self.start))
        if self.fill_model != "book":
            data.update(fill_model=self.fill_model, participation=_enc(self.participation))
        return data

    def _order_json(self, o: Order) -> dict[str, Any]:
        data = {
            "cid": o.cid,
            "tick": o.tick,
            "side": o.side,
            "qty": _enc(o.qty),
            "price": None if o.price is None else _enc(o.price),
            "filled": _enc(o.filled),
            "status": o.status,
        }
        if self.deferred:
            data["tif"] = o.tif
        return data

    def _fill_json(self, f: Fill) -> dict[str, Any]:
        data: dict[str, Any] = {
            "fill_id": f.fill_id,
            "cid": f.cid,
            "tick": f.tick,
            "side": f.side,
            "qty": _enc(f.qty),
            "price": _enc(f.price),
            "kind": f.kind,
        }
        if self.deferred:
            data["pending"] = f.pending
        return data

    @classmethod
    def restore(cls, data: dict[str, Any]) -> PaperVenue:
        deferred = bool(data.get("deferred", False))
        instrument = str(data.get("instrument", ""))
        v = cls(
            Fraction(data["contract_size"]),
            Fraction(data["slippage_bps"]),
            deferred=deferred,
            instrument=instrument,
            position=_dec(data.get("start", 0)),
            fill_model=str(data.get("fill_model", "book")),
            participation=Fraction(data.get("participation", PARTICIPATION)),
        )
        v.tick = data["tick"]
        m = data["market"]
        v.market = None if m is None else Market(**{k: Fraction(x) for k, x in m.items()})
        v.position = _dec(data["position"])
        v.cash = Fraction(data["cash"])
        v.bought_limit = _dec(data["bought_limit"])
        v.sold_limit = _dec(data["sold_limit"])
        for o in data["orders"]:
            price = None if o["price"] is None else Fraction(o["price"])
            order = Order(
                o["cid"],
                o["tick"],
                o["side"],
                _dec(o["qty"]),
                price,
                _dec(o["filled"]),
                o["status"],
                o.get("tif", "gtc"),
                instrument,
            )
            v.orders[order.cid] = order
            if order.status in ("open", "pending"):
                v._open[order.cid] = order
        for f in data["fills"]:
            fill = Fill(
                f["fill_id"],
                f["cid"],
                f["tick"],
                f["side"],
                _dec(f["qty"]),
                Fraction(f["price"]),
                f["kind"],
                instrument,
                bool(f.get("pending", False)),
            )
            v.fills.append(fill)
            v._nfills[fill.cid] = v._nfills.get(fill.cid, 0) + 1
        for cid, n in data.get("nfills", {}).items():
            v._nfills[cid] = max(n, v._nfills.get(cid, 0))
        v._seen = set(data["seen"])
        return v
