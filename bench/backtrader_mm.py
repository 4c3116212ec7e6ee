"""The perp market maker of ``bench/executor.py`` written as a backtrader strategy, timed on
the same rows.

It runs in the bench-only environment ``.venv-bench`` (``bench/requirements-backtrader.txt``;
backtrader is not a dependency of seqprove), as a child of ``bench/executor.py``, which
passes the data file, how many of its rows to run (those the executor ran) and the
model's constants, and reads one JSON line back: the CPU seconds of each repetition of
``cerebro.run()`` (``time.process_time``, the best is kept), the rows run and what the
strategy did. Only the standard library and backtrader are imported.

The strategy is :func:`hand_run` of ``bench/executor.py`` in backtrader's terms: observe ->
quoting -> hedging, quotes of ``quote_size`` at the bid and the ask, a market hedge of
``hedge_size`` outside ``hedge_band``, the same monitor (input ranges, ``sane_book``,
``fills_need_orders``; a breach cancels everything and stops trading) and the same limits.
What differs is backtrader's own: floats instead of exact fractions, its broker's fills
(a limit order fills from the next bar whose range reaches its price, in full, whatever the
volume; a market order fills at the next bar's open), and its bars (``open`` = ``close``
= the mid, ``low``/``high`` from the row, the bid and ask as extra lines). So its fills and
PnL are not the executor's; what is compared is the time per row of the same strategy on
the same rows.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gc
import json
import sys
import time
from typing import Any

import backtrader as bt

OBSERVE, QUOTING, HEDGING, HALTED = "observe", "quoting", "hedging", "halted"


class Rows(bt.feed.DataBase):  # type: ignore[misc]
    """Pre-parsed rows (time as a backtrader number, bid, ask, low, high, volume)."""

    lines = ("bid", "ask")
    params = (("rows", None),)

    def start(self) -> None:
        super().start()
        self._next = 0

    def _load(self) -> bool:
        rows = self.p.rows
        if self._next >= len(rows):
            return False
        when, bid, ask, low, high, volume = rows[self._next]
        self._next += 1
        mid = (bid + ask) / 2
        lines = self.lines
        lines.datetime[0] = when
        lines.open[0] = mid
        lines.close[0] = mid
        lines.low[0] = min(low, mid)
        lines.high[0] = max(high, mid)
        lines.volume[0] = volume
        lines.openinterest[0] = 0
        lines.bid[0] = bid
        lines.ask[0] = ask
        return True


class PerpMarketMaker(bt.Strategy):  # type: ignore[misc]
    params = (
        ("max_position", 100),
        ("quote_size", 10),
        ("hedge_band", 50),
        ("hedge_size", 20),
        ("max_loss", 5000.0),
        ("min_spread", 0.5),
        ("max_move", 250.0),
        ("contract", 0.01),
    )

    def __init__(self) -> None:
        self.step = OBSERVE
        self.pos = 0  # contracts, as the model counts them
        self.open_bid = self.open_ask = 0
        self.pnl = 0.0
        self.bought_limit = self.sold_limit = 0  # limit fills so far, contracts
        self.read_bought = self.read_sold = 0
        self.read_equity = 0.0
        self.start_value = 0.0
        self.working: list[Any] = []
        self.orders = self.fills = 0
        self.stopped = ""

    def start(self) -> None:
        self.start_value = self.broker.getvalue()

    def notify_order(self, order: Any) -> None:
        if order.status not in (order.Partial, order.Completed):
            return
        self.fills += 1
        if order.exectype != bt.Order.Limit:
            return
        qty = round(abs(order.executed.size) / self.p.contract)
        if order.isbuy():
            self.bought_limit += qty
        else:
            self.sold_limit += qty

    def cancel_all(self) -> None:
        for order in self.working:
            if order.alive():
                self.cancel(order)
        self.working = []

    def next(self) -> None:
        if self.stopped:
            return
        p, d = self.p, self.data
        q, max_pos = p.quote_size, p.max_position
        bid, ask = d.bid[0], d.ask[0]
        bought = self.bought_limit - self.read_bought
        sold = self.sold_limit - self.read_sold
        equity = self.broker.getvalue() - self.start_value
        pnl_change = equity - self.read_equity
        if not (
            0 <= bought <= q
            and 0 <= sold <= q
            and -p.max_move <= pnl_change <= p.max_move
            and 0 < bid < ask
            and bought <= self.open_bid
            and sold <= self.open_ask
        ):
            self.cancel_all()
            self.step, self.stopped = HALTED, "assumption"
            return
        moved = True
        if self.step == OBSERVE:
            if not self.pnl > -p.max_loss:
                self.cancel_all()
                self.open_bid = self.open_ask = 0
                self.step = HALTED
            elif (
                ask - bid >= p.min_spread
                and self.pos + self.open_bid + q <= max_pos
                and self.pos - self.open_ask - q >= -max_pos
            ):
                size = q * p.contract
                self.working.append(self.buy(size=size, price=bid, exectype=bt.Order.Limit))
                self.working.append(self.sell(size=size, price=ask, exectype=bt.Order.Limit))
                self.orders += 2
                self.open_bid += q
                self.open_ask += q
                self.step = QUOTING
            else:
                moved = False
        elif self.step == QUOTING:
            self.pos += bought - sold
            self.open_bid -= bought
            self.open_ask -= sold
            self.pnl += pnl_change
            self.read_bought += bought
            self.read_sold += sold
            self.read_equity = equity
            self.step = HEDGING
        else:
            self.cancel_all()
            band, hedge = p.hedge_band, p.hedge_size
            if self.pos > band or self.pos < -band:
                if self.pos > 0:
                    self.sell(size=hedge * p.contract)
                    self.pos -= hedge
                else:
                    self.buy(size=hedge * p.contract)
                    self.pos += hedge
                self.orders += 1
            self.pos += bought - sold
            self.open_bid = self.open_ask = 0
            self.read_bought += bought
            self.read_sold += sold
            self.step = OBSERVE
        if moved:
            if (
                self.pos > max_pos
                or self.pos < -max_pos
                or self.pos + self.open_bid > max_pos
                or self.pos - self.open_ask < -max_pos
                or not self.pnl > -(p.max_loss + p.max_move)
            ):
                self.cancel_all()
                self.stopped = "limit"
            elif self.step == HALTED:
                self.stopped = "final"


def read_rows(path: str, count: int) -> list[tuple[float, ...]]:
    """The first ``count`` rows of a ``seqprove data synth`` CSV, for :class:`Rows`."""
    rows = []
    with open(path, newline="") as handle:
        for n, r in enumerate(csv.DictReader(handle)):
            if n >= count:
                break
            when = datetime.datetime.fromisoformat(r["time"].replace("Z", "+00:00"))
            rows.append(
                (
                    bt.date2num(when.replace(tzinfo=None)),
                    float(r["bid"]),
                    float(r["ask"]),
                    float(r["low"]),
                    float(r["high"]),
                    float(r["volume"]),
                )
            )
    return rows


def run_once(rows: list[tuple[float, ...]], params: dict[str, Any]) -> tuple[float, Any]:
    cerebro = bt.Cerebro(stdstats=False, preload=True, runonce=False)
    cerebro.adddata(Rows(rows=rows))
    cerebro.addstrategy(PerpMarketMaker, **params)
    cerebro.broker.setcash(1e12)
    gc.collect()
    gc.freeze()
    try:
        start = time.process_time()
        strategy = cerebro.run()[0]
        seconds = time.process_time() - start
    finally:
        gc.unfreeze()
    return seconds, strategy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--params", default="{}", help="the model's constants, JSON")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = read_rows(args.data, args.rows)
    params = json.loads(args.params)
    runs = []
    strategy = None
    for _ in range(args.repeats):
        seconds, strategy = run_once(rows, params)
        runs.append(seconds)
    assert strategy is not None
    print(
        json.dumps(
            {
                "backtrader": bt.__version__,
                "python": sys.version.split()[0],
                "rows": len(rows),
                "runs_cpu_s": runs,
                "orders": strategy.orders,
                "fills": strategy.fills,
                "stopped": strategy.stopped or "data-end",
                "pnl": strategy.pnl,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
