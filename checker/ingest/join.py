"""The books of every instrument on one time axis: the grid, its gaps, the policy.

With an interval the axis is the grid of interval starts over the span every instrument
covers (from the latest first row to the earliest last row); an instrument with no row
at a grid time has a gap there, handled by the policy (:mod:`checker.ingest.quality`).
Without one (tick data) the axis is every book row's time in that common span, and an
instrument without a row at a time keeps its last book (a book stands until it changes):
that is not a gap, and it has no trades there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from checker.ingest.base import Ints, Objects, fail
from checker.ingest.books import Book
from checker.ingest.quality import FIRST_PLACES, Problem, iso

ZERO = Decimal(0)
ACTIONS = {
    "drop": "left those rows out",
    "carry": "carried the last book into each, with no trades (low = ask, high = bid, volume = 0)",
}


@dataclass
class Joined:
    """Every instrument's columns on the common axis (quantities in the base asset)."""

    keys: Ints
    columns: dict[str, dict[str, Objects]]
    problems: list[Problem]
    cut: int
    """Book rows outside the common span, left out."""


def join(books: list[Book], interval_us: int | None, policy: str) -> Joined:
    first = max(int(b.keys[0]) for b in books)
    last = min(int(b.keys[-1]) for b in books)
    if first > last:
        spans = "; ".join(
            f"{b.instrument or 'book'} {iso(int(b.keys[0]))} .. {iso(int(b.keys[-1]))}"
            for b in books
        )
        raise fail(books[0].source.path, 1, f"the sources do not overlap in time: {spans}")
    problems: list[Problem] = []
    if interval_us is None:
        keys = np.unique(np.concatenate([b.keys for b in books]))
        keys = keys[(keys >= first) & (keys <= last)]
    else:
        keys = np.arange(first, last + 1, interval_us, dtype=np.int64)
        present = np.ones(len(keys), dtype=bool)
        for book in books:
            here = np.isin(keys, book.keys)
            if not here.all():
                problems.append(_gaps(book, keys, here, policy))
            present &= here
        if policy != "carry":  # under stop, the import stops once every problem is found
            keys = keys[present]
    cut = sum(int(((b.keys < first) | (b.keys > last)).sum()) for b in books)
    columns = {book.instrument: _on(book, keys) for book in books}
    return Joined(keys, columns, problems, cut)


def _gaps(book: Book, keys: Ints, here: np.ndarray, policy: str) -> Problem:
    """The gaps of ``book`` on the grid: missing intervals, counted, with the book row
    after each of the first few gaps."""
    missing = np.flatnonzero(~here)
    begins = missing[np.r_[True, np.diff(missing) > 1]]
    places = []
    for at in begins[:FIRST_PLACES]:
        after = int(np.searchsorted(book.keys, keys[at], side="left"))
        row = int(book.rows[min(after, len(book.rows) - 1)])
        places.append((*book.source.where(row), int(keys[at])))
    label = f" of {book.instrument}" if book.instrument else ""
    detail = f"in {len(begins)} gap{'s' if len(begins) > 1 else ''}"
    return Problem(
        f"missing intervals{label}", len(missing), tuple(places), ACTIONS.get(policy, ""), detail
    )


def _on(book: Book, keys: Ints) -> dict[str, Objects]:
    """``book``'s columns at ``keys``: its last row at or before each; low, high and
    volume from its trades at that very key, else none."""
    at = np.searchsorted(book.keys, keys, side="right") - 1
    bid, ask = book.bid[at], book.ask[at]
    out = {"bid": bid, "ask": ask, "bid_size": book.bid_size[at], "ask_size": book.ask_size[at]}
    low, high = ask.copy(), bid.copy()
    volume = np.empty(len(keys), dtype=object)
    volume[:] = ZERO
    if len(book.trade_keys):
        t = np.searchsorted(book.trade_keys, keys, side="left")
        t_clipped = np.minimum(t, len(book.trade_keys) - 1)
        match = book.trade_keys[t_clipped] == keys
        low[match] = book.low[t_clipped[match]]
        high[match] = book.high[t_clipped[match]]
        volume[match] = book.volume[t_clipped[match]]
    out.update(low=low, high=high, volume=volume)
    return out
