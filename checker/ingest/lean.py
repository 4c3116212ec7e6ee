"""LEAN (QuantConnect) minute and second bars, zipped: ``YYYYMMDD_trade.zip`` and
``YYYYMMDD_quote.zip``, each holding one CSV file without a header.

Trade bars: ``time, open, high, low, close, volume``; quote bars: ``time, bid open, bid
high, bid low, bid close, last bid size, ask open, ask high, ask low, ask close, last ask
size``. ``time`` is ms since midnight UTC of the file's date, which only the file name
gives. The folder says the market: ``.../crypto/MARKET/minute/SYMBOL/`` (spot, sizes in
the base asset) or ``.../cryptofuture/binance/minute/SYMBOL/`` (perpetuals: a symbol
quoted in ``usd``, e.g. ``btcusd``, is Binance COIN-M, counted in inverse contracts of
100 USD for BTC and 10 USD for the other coins; ``usdt``/``busd`` ones are linear, in the
base asset).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from checker.ingest.base import (
    Source,
    decimals,
    epoch_times,
    fail,
    line_numbers,
    sha256_of,
)
from checker.ingest.csvfiles import read_text_table

TRADE = "lean-trade"
QUOTE = "lean-quote"
NAME = re.compile(r"(\d{8})_(trade|quote)\.zip", re.IGNORECASE)
RESOLUTIONS = {"minute": 60_000, "second": 1000}
COINM_FACE_USD = {"btc": 100}
"""Binance COIN-M contract face values in USD (100 for BTC, 10 for every other coin)."""


def detect(path: Path) -> str | None:
    found = NAME.fullmatch(path.name)
    if found is None:
        return None
    return TRADE if found.group(2).lower() == "trade" else QUOTE


def unit_of(path: Path) -> str:
    """What the quantities of a LEAN file count, from its folders."""
    parts = [p.lower() for p in path.parts]
    symbol = parts[-2] if len(parts) >= 2 else ""
    if "cryptofuture" in parts and "binance" in parts and symbol.endswith("usd"):
        base = symbol.removesuffix("usd")
        return f"inverse:{COINM_FACE_USD.get(base, 10)}"
    return "base"


def read(path: Path, fmt: str) -> Source:
    file = str(path)
    found = NAME.fullmatch(path.name)
    if found is None:
        raise fail(file, 1, "a LEAN file is named YYYYMMDD_trade.zip or YYYYMMDD_quote.zip")
    try:
        day = datetime.strptime(found.group(1), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        raise fail(file, 1, f"{found.group(1)} in the file name is not a date") from None
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise fail(file, 1, f"a LEAN zip holds one CSV file, this one {len(members)}")
            data = archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise fail(file, 1, f"cannot read the zip file: {exc}") from None
    except OSError as exc:
        raise fail(file, 1, f"cannot read: {exc.strerror or exc}") from None
    inner = f"{file}/{members[0]}"
    table = read_text_table(io.BytesIO(data), inner, header=False)
    if not len(table):
        raise fail(inner, 1, "no bars")
    width = 6 if fmt == TRADE else 11
    if table.shape[1] != width:
        kind = "trade" if fmt == TRADE else "quote"
        raise fail(inner, 1, f"a LEAN {kind} bar has {width} cells, this file {table.shape[1]}")
    lines = line_numbers(len(table), 1)
    cells = [table.iloc[:, i].tolist() for i in range(width)]
    since_midnight = epoch_times(cells[0], inner, lines, 1, "time", factor=1000)
    times = since_midnight + int(day.timestamp()) * 1_000_000
    resolution = path.parent.parent.name.lower()
    interval_ms = RESOLUTIONS.get(resolution, 60_000)
    if fmt == TRADE:
        named = (("high", 2), ("low", 3), ("close", 4), ("volume", 5))
        kind = "candles"
    else:
        named = (("bid", 4), ("bid_size", 5), ("ask", 9), ("ask_size", 10))
        kind = "quotes"
    columns = {name: decimals(cells[i], inner, lines, i + 1, name) for name, i in named}
    return Source(
        inner,
        fmt,
        kind,
        "bar",
        interval_ms,
        unit_of(path),
        times,
        lines,
        columns,
        sha256_of(path),
        path.parent.name,
    )
