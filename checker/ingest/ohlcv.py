"""OHLCV CSV as FTX exported it: ``timestamp,open,high,low,close,volume``, one bar per
row, ``timestamp`` an ISO-8601 time (UTC) or epoch numbers, ``volume`` in the quote
currency (USD for BTC-PERP). The bar's interval is the most common step between rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from checker.ingest.base import Source, any_times, decimals, fail, line_numbers, sha256_of
from checker.ingest.csvfiles import read_text_table

FORMAT = "ftx-ohlcv"
HEADER = ("timestamp", "open", "high", "low", "close", "volume")


def looks_like(line: str) -> bool:
    return tuple(c.strip().lower() for c in line.split(",")) == HEADER


def bar_interval_ms(times: np.ndarray) -> int:
    """The most common step between rows, in ms (a bar's interval)."""
    steps = np.diff(times)
    steps = steps[steps > 0]
    if not len(steps):
        return 60_000
    values, counts = np.unique(steps, return_counts=True)
    return max(int(values[np.argmax(counts)]) // 1000, 1)


def read(path: Path) -> Source:
    file = str(path)
    table = read_text_table(path, file, header=True)
    if not len(table):
        raise fail(file, 1, "no bars")
    lines = line_numbers(len(table), 2)
    names = [str(c).strip().lower() for c in table.columns]
    if tuple(names) != HEADER:
        raise fail(file, 1, f"the header is not {','.join(HEADER)}")
    cells = [table.iloc[:, i].tolist() for i in range(6)]
    times = any_times(cells[0], file, lines, 1, "timestamp")
    columns = {
        name: decimals(cells[i], file, lines, i + 1, name)
        for name, i in (("high", 2), ("low", 3), ("close", 4), ("volume", 5))
    }
    return Source(
        file,
        FORMAT,
        "candles",
        "bar",
        bar_interval_ms(times),
        "quote",
        times,
        lines,
        columns,
        sha256_of(path),
    )
