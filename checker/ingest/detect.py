"""Which format a source file is in, and reading it in that format."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from checker.ingest import binance, ccxt, lean, mapped, ohlcv, tardis
from checker.ingest.base import Source, fail
from checker.ingest.csvfiles import first_line

FORMATS: dict[str, str] = {
    binance.FORMAT: "Binance klines, 12 columns, with or without a header",
    tardis.QUOTES: "Tardis quotes CSV (top of book, µs timestamps)",
    tardis.TRADES: "Tardis trades CSV (µs timestamps)",
    lean.QUOTE: "LEAN minute/second quote bars, YYYYMMDD_quote.zip",
    lean.TRADE: "LEAN minute/second trade bars, YYYYMMDD_trade.zip",
    ccxt.OHLCV: "ccxt fetch_ohlcv saved as JSON",
    ccxt.TRADES: "ccxt fetch_trades saved as JSON",
    ohlcv.FORMAT: "timestamp,open,high,low,close,volume CSV, volume in the quote currency",
    mapped.FORMAT: "any CSV or Parquet file, read through --map",
}
"""Every format ``data import`` reads, by name, with what it is."""


def detect(path: Path) -> str:
    """The format of ``path``, from its name and its first line.

    Raises
    ------
    IngestError
        When no format fits.
    """
    file = str(path)
    if not path.is_file():
        raise fail(file, 1, _missing(path))
    suffix = path.suffix.lower()
    if suffix == ".zip":
        found = lean.detect(path)
        if found:
            return found
    elif suffix == ".json":
        found = ccxt.detect(path)
        if found:
            return found
    elif suffix == ".parquet":
        raise fail(
            file, 1, "a Parquet source needs --map (e.g. --map time=ts --map bid=best_bid ...)"
        )
    else:
        line = first_line(path)
        found = tardis.detect(line)
        if found:
            return found
        if binance.looks_like(line):
            return binance.FORMAT
        if ohlcv.looks_like(line):
            return ohlcv.FORMAT
    raise fail(
        file,
        1,
        "unknown format: not one of " + ", ".join(FORMATS) + " (give --format, or --map "
        "for another CSV or Parquet file)",
    )


def _missing(path: Path) -> str:
    """Why ``path``, which is not a file, cannot be a source."""
    if path.is_dir():
        return "a directory, not a file (give each file of it as a source)"
    return "no such file"


def read(path: Path, fmt: str, mapping: Mapping[str, str]) -> Source:
    """Read ``path`` in format ``fmt``."""
    if not path.is_file():
        raise fail(str(path), 1, _missing(path))
    if fmt == binance.FORMAT:
        return binance.read(path, first_line(path))
    if fmt in (tardis.QUOTES, tardis.TRADES):
        return tardis.read(path, fmt)
    if fmt in (lean.QUOTE, lean.TRADE):
        return lean.read(path, fmt)
    if fmt in (ccxt.OHLCV, ccxt.TRADES):
        return ccxt.read(path, fmt)
    if fmt == ohlcv.FORMAT:
        return ohlcv.read(path)
    if fmt == mapped.FORMAT:
        return mapped.read(path, mapping)
    raise fail(str(path), 1, f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
