"""A deterministic paper venue for one instrument, with exact arithmetic.

Every number is an ``int`` or a ``fractions.Fraction``, never a float, and a quantity keeps
the type it was given: an order for an ``int`` quantity fills in ``int`` quantities.

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
   that continues exactly like the original.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from fractions import Fraction
from typing import Any

from checker.errors import SeqproveError

Num = int | Fraction
SIDES = ("buy", "sell")


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
    kind: str  # "limit" (a resting order filled) | "market" (filled on arrival)


@dataclass
class Order:
    cid: str
    tick: int
    side: str
    qty: Num
    price: Fraction | None  # None: a market order
    filled: Num = 0
    status: str = "open"  # "open" | "filled" | "cancelled"

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
        self, contract_size: Fraction = Fraction(1), slippage_bps: Fraction = Fraction(0)
    ) -> None:
        self.contract_size = Fraction(_exact("contract_size", contract_size))
        self.slippage_bps = Fraction(_exact("slippage_bps", slippage_bps))
        self.tick: int | None = None  # tick of the last market
        self.market: Market | None = None
        self.position: Num = 0
        self.cash = Fraction(0)
        self.bought_limit: Num = 0
        self.sold_limit: Num = 0
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self._open: dict[str, Order] = {}  # open limit orders, in placement order
        self._nfills: dict[str, int] = {}  # fills so far per order
        self._seen: set[str] = set()  # action cids already handled
        self._equity: tuple[tuple[int | None, int], Fraction] | None = None

    # -- market data --------------------------------------------------------------------------

    def on_market(self, tick: int, market: Market) -> list[Fill]:
        if self.tick is not None and tick <= self.tick:
            raise VenueError(f"market tick {tick} does not follow tick {self.tick}")
        out: list[Fill] = []
        for side in SIDES:
            resting = [o for o in self._open.values() if o.side == side and o.tick < tick]
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
        self.tick, self.market = tick, market
        return out

    def poll(self, tick: int) -> list[Fill]:
        """Events that arrived since the tick began. A live venue reports fills here
        asynchronously; the paper venue fills only in :meth:`on_market`, so it has none."""
        return []

    @staticmethod
    def _liquidity(side: str, p: Fraction, m: Market) -> Num:
        if side == "buy":
            return max(m.ask_size if m.ask <= p else 0, m.volume if m.low < p else 0)
        return max(m.bid_size if m.bid >= p else 0, m.volume if m.high > p else 0)

    # -- actions --------------------------------------------------------------------------------

    def place(self, tick: int, cid: str, side: str, qty: Num, price: Fraction | None) -> list[Fill]:
        if cid in self._seen:
            return []
        qty = _exact("quantity", qty)
        if qty <= 0:
            raise VenueError(f"order {cid}: quantity {qty} is not positive")
        if side not in SIDES:
            raise VenueError(f"order {cid}: side {side!r} is not 'buy' or 'sell'")
        if price is None and self.market is None:
            raise VenueError(f"market order {cid}: no market data yet")
        limit = None if price is None else Fraction(_exact("price", price))
        self._seen.add(cid)
        order = Order(cid, tick, side, qty, limit, filled=qty * 0)
        self.orders[cid] = order
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
        return self._cancel([c for c, o in self._open.items() if o.side == side])

    def cancel_all(self, tick: int, cid: str) -> list[str]:
        if cid in self._seen:
            return []
        self._seen.add(cid)
        return self._cancel(list(self._open))

    def _cancel(self, cids: list[str]) -> list[str]:
        for c in cids:
            self._open.pop(c).status = "cancelled"
        return cids

    def _fill(self, order: Order, tick: int, qty: Num, price: Fraction, kind: str) -> Fill:
        n = self._nfills.get(order.cid, 0) + 1
        self._nfills[order.cid] = n
        fill = Fill(f"{order.cid}/{n}", order.cid, tick, order.side, qty, price, kind)
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
        return sum((o.remaining for o in self._open.values() if o.side == side), start=0)

    # -- persistence ------------------------------------------------------------------------

    def snapshot(self, history: bool = True) -> dict[str, Any]:
        """Everything the venue knows; with ``history=False`` only what it needs to go on
        (settings, accounting, last market, open orders), a small record the journal keeps
        every tick while it stores orders and fills in tables of their own."""
        m = self.market
        orders = self.orders.values() if history else self._open.values()
        return {
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
            "orders": [
                {
                    "cid": o.cid,
                    "tick": o.tick,
                    "side": o.side,
                    "qty": _enc(o.qty),
                    "price": None if o.price is None else _enc(o.price),
                    "filled": _enc(o.filled),
                    "status": o.status,
                }
                for o in orders
            ],
            "nfills": {cid: self._nfills[cid] for cid in self._open if cid in self._nfills},
            "fills": [
                {
                    "fill_id": f.fill_id,
                    "cid": f.cid,
                    "tick": f.tick,
                    "side": f.side,
                    "qty": _enc(f.qty),
                    "price": _enc(f.price),
                    "kind": f.kind,
                }
                for f in (self.fills if history else ())
            ],
            "seen": sorted(self._seen) if history else [],
        }

    @classmethod
    def restore(cls, data: dict[str, Any]) -> PaperVenue:
        v = cls(Fraction(data["contract_size"]), Fraction(data["slippage_bps"]))
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
            )
            v.orders[order.cid] = order
            if order.status == "open":
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
            )
            v.fills.append(fill)
            v._nfills[fill.cid] = v._nfills.get(fill.cid, 0) + 1
        for cid, n in data.get("nfills", {}).items():
            v._nfills[cid] = max(n, v._nfills.get(cid, 0))
        v._seen = set(data["seen"])
        return v
