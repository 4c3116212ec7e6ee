"""Any CSV or Parquet file, read through a column map (``--map bid=best_bid``).

The map's targets say what the source is: ``bid``, ``ask``, ``bid_size``, ``ask_size``
(quotes), ``price``, ``amount`` (trades) or ``high``, ``low``, ``close``, ``volume``
(candles; ``open`` may be mapped and is not needed); ``time`` is always needed. A CSV
file has a header; its times are epoch numbers (s, ms, µs or ns) or ISO-8601 text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from checker.ingest.base import (
    KIND_COLUMNS,
    Source,
    any_times,
    decimals,
    fail,
    line_numbers,
    sha256_of,
)
from checker.ingest.csvfiles import read_parquet_table, read_text_table
from checker.ingest.ohlcv import bar_interval_ms

FORMAT = "mapped"
TARGETS = ("time", "open", *{c for cols in KIND_COLUMNS.values() for c in cols})


def kind_of(mapping: Mapping[str, str], file: str) -> str:
    if {"bid", "ask", "bid_size", "ask_size"} & mapping.keys():
        kind = "quotes"
    elif {"price", "amount"} & mapping.keys():
        kind = "trades"
    elif {"high", "low", "close", "volume"} & mapping.keys():
        kind = "candles"
    else:
        raise fail(
            file,
            1,
            "--map names no column of a book: map bid, ask, bid_size, ask_size (quotes), "
            "price, amount (trades) or high, low, close, volume (candles)",
        )
    missing = [c for c in ("time", *KIND_COLUMNS[kind]) if c not in mapping]
    if missing:
        raise fail(
            file,
            1,
            f"--map: a source of {kind} needs {', '.join(('time', *KIND_COLUMNS[kind]))}; "
            f"map {', '.join(f'{m}=COLUMN' for m in missing)}",
        )
    return kind


def read(path: Path, mapping: Mapping[str, str]) -> Source:
    file = str(path)
    kind = kind_of(mapping, file)
    if path.suffix.lower() == ".parquet":
        table = read_parquet_table(path)
    else:
        table = read_text_table(path, file, header=True)
    names = [str(c).strip() for c in table.columns]
    for target, column in mapping.items():
        if column not in names:
            raise fail(
                file,
                1,
                f"--map {target}={column}: the file has no column '{column}' "
                f"(it has {', '.join(names[:20])})",
            )
    if not len(table):
        raise fail(file, 1, "no rows")
    lines = line_numbers(len(table), 2)
    at = {n: i + 1 for i, n in enumerate(names)}
    time_column = mapping["time"]
    times = any_times(table[time_column].tolist(), file, lines, at[time_column], time_column)
    columns = {
        target: decimals(
            table[mapping[target]].tolist(), file, lines, at[mapping[target]], mapping[target]
        )
        for target in KIND_COLUMNS[kind]
    }
    granularity, interval = ("bar", bar_interval_ms(times)) if kind == "candles" else ("tick", None)
    return Source(
        file, FORMAT, kind, granularity, interval, "base", times, lines, columns, sha256_of(path)
    )
