"""Binance klines (data.binance.vision): 12 columns, with or without a header.

``open_time, open, high, low, close, volume, close_time, quote_volume, count,
taker_buy_volume, taker_buy_quote_volume, ignore``; the times are ms since the epoch (µs
in the files Binance publishes since 2025); volume is in the base asset (BTC of BTCUSDT).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from checker.ingest.base import Source, decimals, epoch_times, fail, line_numbers, sha256_of
from checker.ingest.csvfiles import read_text_table

FORMAT = "binance-klines"
COLUMNS = 12
HEADER = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
)


def has_header(line: str) -> bool:
    first = line.split(",", 1)[0].strip().strip('"')
    return not first.lstrip("-").isdigit()


def looks_like(line: str) -> bool:
    cells = [c.strip().strip('"') for c in line.split(",")]
    if len(cells) != COLUMNS:
        return False
    if has_header(line):
        return cells[0] == "open_time" and cells[6] == "close_time"
    return cells[0].isdigit() and cells[6].isdigit()


def read(path: Path, first: str) -> Source:
    file = str(path)
    header = has_header(first)
    table = read_text_table(path, file, header=header)
    if table.shape[1] != COLUMNS:
        raise fail(
            file, 1, f"a Binance kline file has {COLUMNS} columns, this one {table.shape[1]}"
        )
    lines = line_numbers(len(table), 2 if header else 1)
    if not len(table):
        raise fail(file, 1, "no klines")
    cells = [table.iloc[:, i].tolist() for i in range(COLUMNS)]
    opens = epoch_times(cells[0], file, lines, 1, "open_time")
    closes = epoch_times(cells[6], file, lines, 7, "close_time")
    # a kline closes one unit (1 ms or 1 µs) before the next opens
    span_us = int(np.median(closes - opens))
    interval_ms = -(-(span_us + 1) // 1000)
    if interval_ms <= 0:
        raise fail(file, int(lines[0]), "close_time is not after open_time: not klines", 7)
    columns = {
        name: decimals(cells[i], file, lines, i + 1, name)
        for name, i in (("high", 2), ("low", 3), ("close", 4), ("volume", 5))
    }
    return Source(
        file, FORMAT, "candles", "bar", interval_ms, "base", opens, lines, columns, sha256_of(path)
    )
