"""Side-by-side market statistics of two data files (``seqprove data compare REAL SYNTH``).

Each file is a standard seqprove data file (CSV or Parquet, see :mod:`checker.run.data`)
with a ``time`` column and the venue columns ``bid``, ``ask`` and ``volume`` (or
``I.bid``, ... of one instrument ``I``). Both are resampled to one interval (one minute by
default) on the mid ``(bid + ask) / 2`` (the last of each interval) and the volume (the sum
of each interval), and the statistics below are measured on the resampled series:

- the absolute move of each interval, ``|ln(mid / previous mid)|`` in basis points: its
  maximum, its 99th percentile, and the time of the worst interval (its start);
- the realised volatility: the standard deviation of those log returns, annualised by the
  square root of the number of intervals in a year of 365 days, in %;
- the volume ratio: the largest interval's volume over the median interval's;
- the spread ``(ask - bid) / mid`` in basis points, row by row (not resampled): median,
  99th percentile, maximum. When a file's metadata (:mod:`checker.run.meta`) says its book
  was made from candles or trades, its spread was made too, and the comparison says so.

Intervals without a row are gaps: they are counted, and the move across a gap is measured
from the last mid before it. Times are ISO-8601 text (a zone, or UTC when it has none) or
numbers, read as seconds since 1970-01-01 UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from checker.errors import SeqproveError
from checker.run import TIME_COLUMN
from checker.run.meta import MetaError, read_meta

INTERVAL = re.compile(r"^([1-9][0-9]*)([smhd])$")
_UNITS = {"s": ("s", 1), "m": ("min", 60), "h": ("h", 3600), "d": ("D", 86400)}
YEAR_SECONDS = 365 * 86400


class CompareError(SeqproveError):
    """A data file ``data compare`` cannot read; the message starts ``FILE:LINE[:COLUMN]``."""


@dataclass(frozen=True)
class Stats:
    """The statistics of one file (see the module's docstring); moves and spreads in bp."""

    path: str
    rows: int
    intervals: int
    gaps: int
    max_move_bp: float | None
    p99_move_bp: float | None
    realised_vol_pct: float | None
    worst_time: str | None
    volume_ratio: float | None
    spread_median_bp: float
    spread_p99_bp: float
    spread_max_bp: float
    book: str
    """``quotes`` (a real book, or no metadata), or ``made from candles`` (or trades)."""
    how: str
    """How the book was made, as its metadata says (empty for quotes)."""
    book_made: bool
    """True when the metadata says the bid and ask were made (from candles or trades)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "rows": self.rows,
            "intervals": self.intervals,
            "gaps": self.gaps,
            "max_move_bp": self.max_move_bp,
            "p99_move_bp": self.p99_move_bp,
            "realised_vol_pct": self.realised_vol_pct,
            "worst_time": self.worst_time,
            "volume_ratio": self.volume_ratio,
            "spread_bp": {
                "median": self.spread_median_bp,
                "p99": self.spread_p99_bp,
                "max": self.spread_max_bp,
                "made": self.book_made,
            },
            "book": self.book,
            "how": self.how,
        }


def interval_seconds(text: str) -> int:
    """``1m`` -> 60; raises :class:`CompareError` for anything but ``N`` + ``s|m|h|d``."""
    match = INTERVAL.match(text.strip())
    if match is None:
        raise CompareError(f"interval {text!r}: write a count and a unit, e.g. 1s, 1m, 5m, 1h, 1d")
    return int(match.group(1)) * _UNITS[match.group(2)][1]


def _where(path: Path, position: int, csv: bool) -> str:
    """``FILE:LINE`` of data row ``position`` (0-based) of a CSV file, or ``FILE: row N``."""
    return f"{path}:{position + 2}" if csv else f"{path}: row {position + 1}"


def read_prices(path: Path, instrument: str | None = None) -> pd.DataFrame:
    """The ``time`` (UTC), ``bid``, ``ask`` and ``volume`` of ``path`` as a frame of floats.

    Raises
    ------
    CompareError
        With ``FILE:LINE:COLUMN`` (CSV) or ``FILE: row N`` (Parquet) of the first bad cell.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise CompareError(f"{path}: a data file is .csv or .parquet")
    if not path.is_file():
        raise CompareError(f"{path}: no such file")
    prefix = "" if instrument is None else f"{instrument}."
    wanted = {TIME_COLUMN: TIME_COLUMN, **{f"{prefix}{c}": c for c in ("bid", "ask", "volume")}}
    csv = suffix == ".csv"
    try:
        if csv:
            header = list(pd.read_csv(path, nrows=0).columns)
        else:
            import pyarrow.parquet as pq

            header = list(pq.read_schema(path).names)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CompareError(f"{path}: cannot read it: {exc}") from None
    missing = [c for c in wanted if c not in header]
    if missing:
        hint = ""
        if instrument is None and any("." in c and c.endswith(".bid") for c in header):
            legs = sorted(c[: -len(".bid")] for c in header if c.endswith(".bid"))
            hint = f" (its instruments: {', '.join(legs)}; choose one with --instrument)"
        elif instrument is None and TIME_COLUMN in missing:
            hint = " (data compare resamples on time: the file needs a time column)"
        raise CompareError(f"{path}:1: no column {', '.join(missing)}{hint}")
    try:
        if csv:
            raw = pd.read_csv(path, usecols=list(wanted), dtype=str, keep_default_na=False)
        else:
            raw = pd.read_parquet(path, columns=list(wanted))
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CompareError(f"{path}: cannot read it: {exc}") from None
    if raw.empty:
        raise CompareError(f"{path}: no rows")
    frame = pd.DataFrame(index=raw.index)
    for name, short in wanted.items():
        column = header.index(name) + 1
        if short == TIME_COLUMN:
            frame["time"] = _times(raw[name], path, column, csv)
            continue
        values = pd.to_numeric(raw[name].astype(str) if csv else raw[name], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if bad.any():
            at = int(np.flatnonzero(bad.to_numpy())[0])
            cell = str(raw[name].iloc[at])[:40]
            raise CompareError(f"{_where(path, at, csv)}:{column}: {name} {cell!r} is not a number")
        frame[short] = values.astype(float)
    backwards = frame["time"].diff() < pd.Timedelta(0)
    if backwards.any():
        at = int(np.flatnonzero(backwards.to_numpy())[0])
        raise CompareError(
            f"{_where(path, at, csv)}:{header.index(TIME_COLUMN) + 1}: the time goes back "
            "from the row above: the rows must be in time order"
        )
    negative = frame["volume"] < 0
    if negative.any():
        at = int(np.flatnonzero(negative.to_numpy())[0])
        column = header.index(f"{prefix}volume") + 1
        raise CompareError(f"{_where(path, at, csv)}:{column}: the volume is negative")
    crossed = frame["ask"] < frame["bid"]
    if crossed.any():
        at = int(np.flatnonzero(crossed.to_numpy())[0])
        raise CompareError(f"{_where(path, at, csv)}: the ask is below the bid (a crossed book)")
    return frame


def _times(cells: pd.Series, path: Path, column: int, csv: bool) -> pd.Series:
    """ISO-8601 text (UTC when without a zone) or numbers (seconds since 1970) as UTC."""
    if pd.api.types.is_datetime64_any_dtype(cells):
        stamps = pd.to_datetime(cells, utc=True)
    else:
        numbers = pd.to_numeric(cells, errors="coerce")
        if pd.notna(numbers.iloc[0]):  # the first row's kind is the file's
            stamps = pd.to_datetime(numbers.astype(float), unit="s", utc=True, errors="coerce")
        else:
            stamps = pd.to_datetime(cells, utc=True, errors="coerce", format="ISO8601")
    bad = stamps.isna()
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        cell = str(cells.iloc[at])[:40]
        raise CompareError(
            f"{_where(path, at, csv)}:{column}: time {cell!r} is neither an ISO-8601 time "
            "nor a number"
        )
    return stamps


def _book(path: Path, instrument: str | None) -> tuple[str, str, bool]:
    try:
        meta = read_meta(path)
    except MetaError as exc:
        raise CompareError(str(exc)) from None
    origin = None if meta is None else meta.book(instrument or "")
    if origin is None or origin.kind == "quotes":
        return "quotes", "", False
    return f"made from {origin.kind}", origin.how, True


def measure(path: Path, interval: str = "1m", instrument: str | None = None) -> Stats:
    """The statistics of data file ``path`` resampled to ``interval``."""
    seconds = interval_seconds(interval)
    frame = read_prices(path, instrument)
    mid = (frame["bid"] + frame["ask"]) / 2
    if (mid <= 0).any():
        at = int(np.flatnonzero((mid <= 0).to_numpy())[0])
        raise CompareError(
            f"{_where(path, at, path.suffix.lower() == '.csv')}: the mid is not positive"
        )
    spread = ((frame["ask"] - frame["bid"]) / mid * 1e4).to_numpy()
    series = pd.DataFrame({"mid": mid.to_numpy(), "volume": frame["volume"].to_numpy()})
    series.index = pd.DatetimeIndex(frame["time"])
    rule = f"{seconds}s"
    bins = series.resample(rule).agg({"mid": "last", "volume": "sum"})
    present = bins["mid"].notna()
    closes = bins["mid"][present]
    moves = np.abs(np.diff(np.log(closes.to_numpy()))) * 1e4
    volumes = bins["volume"][present].to_numpy()
    max_move = p99 = vol = None
    worst = None
    if len(moves):
        at = int(np.argmax(moves))
        max_move, p99 = float(moves[at]), float(np.percentile(moves, 99))
        worst = closes.index[at + 1].strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(moves) >= 2:
        returns = np.diff(np.log(closes.to_numpy()))
        vol = float(np.std(returns, ddof=1) * np.sqrt(YEAR_SECONDS / seconds) * 100)
    median_volume = float(np.median(volumes))
    book, how, made = _book(path, instrument)
    return Stats(
        path=str(path),
        rows=len(frame),
        intervals=int(present.sum()),
        gaps=int((~present).sum()),
        max_move_bp=max_move,
        p99_move_bp=p99,
        realised_vol_pct=vol,
        worst_time=worst,
        volume_ratio=float(volumes.max()) / median_volume if median_volume > 0 else None,
        spread_median_bp=float(np.median(spread)),
        spread_p99_bp=float(np.percentile(spread, 99)),
        spread_max_bp=float(spread.max()),
        book=book,
        how=how,
        book_made=made,
    )


def _number(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"


def rows(real: Stats, synth: Stats, interval: str) -> list[tuple[str, str, str]]:
    """The comparison as (statistic, REAL, SYNTH) text rows, as printed."""

    def spread(s: Stats, value: float) -> str:
        return _number(value, 2) + (" (made)" if s.book_made else "")

    def both(label: str, f: Any) -> tuple[str, str, str]:
        return label, f(real), f(synth)

    return [
        both("rows", lambda s: f"{s.rows:,}"),
        both(f"{interval} intervals (gaps)", lambda s: f"{s.intervals:,} ({s.gaps:,})"),
        both(f"max abs {interval} move (bp)", lambda s: _number(s.max_move_bp)),
        both(f"p99 abs {interval} move (bp)", lambda s: _number(s.p99_move_bp)),
        both("worst interval (start)", lambda s: s.worst_time or "-"),
        both("realised volatility (%/yr)", lambda s: _number(s.realised_vol_pct, 0)),
        both(f"volume ratio (max/median {interval})", lambda s: _number(s.volume_ratio, 1, "x")),
        both("spread median (bp)", lambda s: spread(s, s.spread_median_bp)),
        both("spread p99 (bp)", lambda s: spread(s, s.spread_p99_bp)),
        both("spread max (bp)", lambda s: spread(s, s.spread_max_bp)),
        both("book", lambda s: s.book),
    ]


def ratio(a: float | None, b: float | None) -> float | None:
    """``b / a``, or None when either is missing or ``a`` is 0."""
    return None if a is None or b is None or a == 0 else b / a
