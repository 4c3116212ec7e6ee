"""The book of one instrument, made from its sources, on its own times.

An instrument's sources (already cleaned, :mod:`checker.ingest.quality`) are one book
source and, for a book of quotes, an optional source of trades:

- quotes (Tardis quotes, LEAN quote bars, mapped bid/ask): the real bid, ask and touch
  sizes; low/high/volume from the trades (or trade bars) of each row, and where there
  are none ``low = ask``, ``high = bid``, ``volume = 0``: a row that never claims a trade
  through a resting order (the paper venue fills a buy at ``p`` when ``low < p``, and a
  buy below the ask has ``p < ask = low``);
- candles (klines, OHLCV, LEAN trade bars): bid and ask are the close -/+ half the
  spread, the touch sizes the bar's volume, low/high/volume the bar's;
- trades alone: the same, from the last trade, the lowest, the highest and the sum of
  the trades of each row.

Rows are *keys*: the start of each interval when there is one (``--interval``, or the
bars' own), else the times of the book's rows (tick data). Resampling keeps the last
quote, and the min, max and sum of lows, highs and volumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal

import numpy as np

from checker.ingest.base import Ints, Objects, Source, fail
from checker.ingest.units import describe, to_base

EXACT = Context(prec=80)


@dataclass
class Book:
    """One instrument's rows: book and trades, quantities in the base asset."""

    instrument: str
    source: Source
    keys: Ints
    rows: Ints
    """The row of ``source`` each key was made from (its last), for messages."""
    bid: Objects
    ask: Objects
    bid_size: Objects
    ask_size: Objects
    trade_keys: Ints
    low: Objects
    high: Objects
    volume: Objects
    kind: str
    granularity: str
    how: str
    unit: str


def _runs(keys: Ints) -> tuple[Ints, Ints]:
    """The first and last index of each run of equal keys (``keys`` sorted)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:] - 1, len(keys) - 1]
    return starts.astype(np.int64), ends.astype(np.int64)


def _reduce(ufunc: np.ufunc, values: Objects, starts: Ints) -> Objects:
    if not len(values):
        return values
    return ufunc.reduceat(values, starts)


def _keys(times: Ints, interval_us: int | None) -> Ints:
    if interval_us is None:
        return times
    return times // interval_us * interval_us


def _spread(prices: Objects, spread_bps: Decimal) -> tuple[Objects, Objects]:
    half = spread_bps / Decimal(20000)
    down, up = 1 - half, 1 + half
    bid = np.array([EXACT.multiply(p, down) for p in prices], dtype=object)
    ask = np.array([EXACT.multiply(p, up) for p in prices], dtype=object)
    return bid, ask


def make_book(
    instrument: str,
    sources: list[Source],
    interval_us: int | None,
    spread_bps: Decimal,
) -> Book:
    """The book of ``instrument`` from its cleaned ``sources`` (one of each kind)."""
    by_kind = {s.kind: s for s in sources}  # one of each kind: the files of a kind are joined
    quotes, trades, candles = (by_kind.get(k) for k in ("quotes", "trades", "candles"))
    label = f"instrument {instrument!r}" if instrument else "the book"
    if quotes is None and trades is not None and candles is not None:
        raise fail(
            candles.path,
            1,
            f"{label} has candles and trades but no quotes: give one of them (a book is "
            "made from candles or from trades, not both)",
        )
    if quotes is not None and trades is not None and candles is not None:
        raise fail(
            candles.path, 1, f"{label}: give trades or trade bars beside the quotes, not both"
        )
    spread = f"{spread_bps.normalize():f}"
    if quotes is not None:
        return _quote_book(instrument, quotes, trades or candles, interval_us)
    if candles is not None:
        if interval_us is None:
            raise fail(candles.path, 1, "candles need an interval")
        keys = _keys(candles.times, interval_us)
        starts, ends = _runs(keys)
        close = candles.columns["close"][ends]
        volume = _reduce(
            np.add,
            to_base(candles.unit, candles.columns["volume"], candles.columns["close"]),
            starts,
        )
        bid, ask = _spread(close, spread_bps)
        how = (
            f"bid and ask made from each bar's close -/+ half a spread of {spread} bp "
            f"({candles.format}); touch sizes are the bar's volume; low, high and volume "
            "are the bar's"
        )
        return Book(
            instrument,
            candles,
            keys[starts],
            ends,
            bid,
            ask,
            volume,
            volume,
            keys[starts],
            _reduce(np.minimum, candles.columns["low"], starts),
            _reduce(np.maximum, candles.columns["high"], starts),
            volume,
            "candles",
            "bar",
            how,
            candles.unit,
        )
    assert trades is not None
    keys = _keys(trades.times, interval_us)
    starts, ends = _runs(keys)
    price = trades.columns["price"]
    volume = _reduce(np.add, to_base(trades.unit, trades.columns["amount"], price), starts)
    bid, ask = _spread(price[ends], spread_bps)
    how = (
        f"bid and ask made from the last trade of each row -/+ half a spread of {spread} bp "
        f"({trades.format}); touch sizes are the row's traded volume; low, high and volume "
        "are the row's trades"
    )
    return Book(
        instrument,
        trades,
        keys[starts],
        ends,
        bid,
        ask,
        volume,
        volume,
        keys[starts],
        _reduce(np.minimum, price, starts),
        _reduce(np.maximum, price, starts),
        volume,
        "trades",
        "tick",
        how,
        trades.unit,
    )


def _quote_book(
    instrument: str, quotes: Source, trades: Source | None, interval_us: int | None
) -> Book:
    keys = _keys(quotes.times, interval_us)
    starts, ends = _runs(keys)
    book_keys = keys[starts]
    c = quotes.columns
    bid, ask = c["bid"][ends], c["ask"][ends]
    bid_size = to_base(quotes.unit, c["bid_size"][ends], bid)
    ask_size = to_base(quotes.unit, c["ask_size"][ends], ask)
    empty = np.zeros(0, dtype=object)
    trade_keys, low, high, volume = np.zeros(0, dtype=np.int64), empty, empty, empty
    where = f"{quotes.format}"
    if trades is None:
        joined = (
            "no trades joined: low = ask, high = bid, volume = 0 on every row, so that "
            "no row claims a trade through a resting order"
        )
    else:
        if trades.kind == "trades":
            price, amount = trades.columns["price"], trades.columns["amount"]
            t_low = t_high = price
        else:
            price, amount = trades.columns["close"], trades.columns["volume"]
            t_low, t_high = trades.columns["low"], trades.columns["high"]
        if interval_us is None:
            # tick quotes: the trades since the row before go with each row
            at = np.searchsorted(book_keys, trades.times, side="left")
            inside = (at < len(book_keys)) & (trades.times >= book_keys[0])
            t_keys = book_keys[at[inside]]
            price, amount = price[inside], amount[inside]
            t_low, t_high = t_low[inside], t_high[inside]
        else:
            t_keys = _keys(trades.times, interval_us)
        t_starts, _ = _runs(t_keys)
        trade_keys = t_keys[t_starts]
        low = _reduce(np.minimum, t_low, t_starts)
        high = _reduce(np.maximum, t_high, t_starts)
        volume = _reduce(np.add, to_base(trades.unit, amount, price), t_starts)
        joined = (
            f"low, high and volume from the {trades.format} of each row (rows without "
            "trades: low = ask, high = bid, volume = 0)"
        )
        if trades.unit != quotes.unit:
            joined += f"; trades counted in {describe(trades.unit)}"
    bar = quotes.granularity == "bar"
    what = (
        "each bar's closing bid and ask and their last sizes" if bar else "real top-of-book quotes"
    )
    resampled = " (the last quote of each interval)" if interval_us is not None and not bar else ""
    how = f"{what}{resampled} ({where}); {joined}"
    return Book(
        instrument,
        quotes,
        book_keys,
        ends,
        bid,
        ask,
        bid_size,
        ask_size,
        trade_keys,
        low,
        high,
        volume,
        "quotes",
        quotes.granularity,
        how,
        quotes.unit,
    )
