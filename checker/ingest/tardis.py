"""Tardis CSV exports (``incremental_book_L2`` aside): ``quotes`` and ``trades``.

``quotes``: ``exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,
bid_amount``; ``trades``: ``exchange,symbol,timestamp,local_timestamp,id,side,price,
amount``. Times are µs since the epoch (``timestamp``: the exchange's); amounts are in the
base asset for linear instruments (BTC of Binance USDT-M BTCUSDT).
"""

from __future__ import annotations

from pathlib import Path

from checker.ingest.base import Source, decimals, epoch_times, fail, line_numbers, sha256_of
from checker.ingest.csvfiles import read_text_table

QUOTES = "tardis-quotes"
TRADES = "tardis-trades"
HEADERS = {
    QUOTES: (
        "exchange",
        "symbol",
        "timestamp",
        "local_timestamp",
        "ask_amount",
        "ask_price",
        "bid_price",
        "bid_amount",
    ),
    TRADES: ("exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"),
}
FIELDS = {
    QUOTES: {
        "bid": "bid_price",
        "ask": "ask_price",
        "bid_size": "bid_amount",
        "ask_size": "ask_amount",
    },
    TRADES: {"price": "price", "amount": "amount"},
}


def detect(line: str) -> str | None:
    cells = tuple(c.strip() for c in line.split(","))
    for fmt, header in HEADERS.items():
        if cells == header:
            return fmt
    return None


def read(path: Path, fmt: str) -> Source:
    file = str(path)
    table = read_text_table(path, file, header=True)
    names = [str(c).strip() for c in table.columns]
    for column in ("timestamp", *FIELDS[fmt].values()):
        if column not in names:
            raise fail(file, 1, f"no column '{column}': not a Tardis {fmt.split('-')[1]} file")
    if not len(table):
        raise fail(file, 1, "no rows")
    lines = line_numbers(len(table), 2)
    at = {n: i for i, n in enumerate(names)}
    times = epoch_times(table["timestamp"].tolist(), file, lines, at["timestamp"] + 1, "timestamp")
    columns = {
        field: decimals(table[column].tolist(), file, lines, at[column] + 1, column)
        for field, column in FIELDS[fmt].items()
    }
    symbol = str(table["symbol"].iloc[0]) if "symbol" in at else ""
    kind = "quotes" if fmt == QUOTES else "trades"
    return Source(
        file, fmt, kind, "tick", None, "base", times, lines, columns, sha256_of(path), symbol
    )
