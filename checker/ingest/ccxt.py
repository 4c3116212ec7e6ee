"""ccxt's unified structures, saved as JSON: ``fetch_ohlcv`` (a list of ``[timestamp,
open, high, low, close, volume]``) and ``fetch_trades`` (a list of objects with
``timestamp``, ``price`` and ``amount``, among others). Timestamps are ms since the epoch;
amounts and volumes are in the base asset (ccxt's unified amount; for contracts, see
``--unit``). Numbers are read as the decimals the JSON text writes, never as floats.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from checker.ingest.base import Source, decimals, epoch_times, fail, sha256_of

OHLCV = "ccxt-ohlcv"
TRADES = "ccxt-trades"


def _items(path: Path) -> tuple[list[Any], list[int]]:
    """The elements of the JSON list in ``path``, each with the line where it starts."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise fail(file, 1, f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise fail(file, 1, f"cannot read: {exc.strerror or exc}") from None
    decoder = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal)
    at = len(text) - len(text.lstrip())
    if not text.startswith("[", at):
        raise fail(file, text.count("\n", 0, at) + 1, "a ccxt file is a JSON list")
    at += 1
    items: list[Any] = []
    lines: list[int] = []
    line, counted = 1, 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text):
            raise fail(file, text.count("\n") + 1, "the JSON list is not closed")
        line += text.count("\n", counted, at)
        counted = at
        if text[at] == "]":
            break
        try:
            item, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise fail(file, exc.lineno, f"not JSON: {exc.msg}", exc.colno) from None
        items.append(item)
        lines.append(line)
        at = end
    return items, lines


def detect(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", errors="replace").lstrip()
    except OSError:
        return None
    if not head.startswith("["):
        return None
    rest = head[1:].lstrip()
    if rest.startswith("["):
        return OHLCV
    if rest.startswith("{"):
        return TRADES
    return None


def read(path: Path, fmt: str) -> Source:
    file = str(path)
    items, lines = _items(path)
    if not items:
        raise fail(file, 1, "no rows in the JSON list")
    if fmt == OHLCV:
        for item, line in zip(items, lines, strict=True):
            if not isinstance(item, list) or len(item) < 6:
                raise fail(
                    file, line, "a ccxt OHLCV row is [timestamp, open, high, low, close, volume]"
                )
        cells = [[item[i] for item in items] for i in range(6)]
        times = epoch_times(cells[0], file, lines, 1, "timestamp")
        columns = {
            name: decimals(cells[i], file, lines, 1, name)
            for name, i in (("high", 2), ("low", 3), ("close", 4), ("volume", 5))
        }
        steps = np.diff(times)
        interval_ms = int(np.median(steps)) // 1000 if len(steps) else 60_000
        kind, granularity, interval = "candles", "bar", max(interval_ms, 1)
    else:
        for item, line in zip(items, lines, strict=True):
            if not isinstance(item, dict) or not {"timestamp", "price", "amount"} <= item.keys():
                raise fail(file, line, "a ccxt trade is an object with timestamp, price and amount")
        times = epoch_times([t["timestamp"] for t in items], file, lines, 1, "timestamp")
        columns = {
            name: decimals([t[name] for t in items], file, lines, 1, name)
            for name in ("price", "amount")
        }
        kind, granularity, interval = "trades", "tick", None
    symbol = str(items[0].get("symbol", "")) if isinstance(items[0], dict) else ""
    return Source(
        file,
        fmt,
        kind,
        granularity,
        interval,
        "base",
        times,
        np.asarray(lines, dtype=np.int64),
        columns,
        sha256_of(path),
        symbol,
    )
