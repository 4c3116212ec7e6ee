"""What every reader of a source format gives: a :class:`Source`, its rows in columns.

A source's times are integers, microseconds since the Unix epoch (UTC), one per row; its
values are :class:`decimal.Decimal` (exact: the text of the file, never a float) in
object arrays of numpy; each row keeps the line of the file it came from, so that every
message can say ``FILE:LINE``.

Three kinds of source, named as :data:`checker.run.meta.BOOK_KINDS` names books:

- ``quotes``: columns ``bid``, ``ask``, ``bid_size``, ``ask_size`` (a top-of-book update
  per row, or a quote bar's close and last sizes);
- ``trades``: columns ``price``, ``amount`` (one trade per row);
- ``candles``: columns ``high``, ``low``, ``close``, ``volume`` (one bar per row).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from checker.errors import Diagnostic, ModelError

Objects = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]

KIND_COLUMNS: dict[str, tuple[str, ...]] = {
    "quotes": ("bid", "ask", "bid_size", "ask_size"),
    "trades": ("price", "amount"),
    "candles": ("high", "low", "close", "volume"),
}
"""The columns of each kind of source."""

US_PER_MS = 1000
_CHUNK = 1 << 20


class IngestError(ModelError):
    """Input ``data import`` cannot use: each problem at FILE:LINE:COLUMN (column 1 when
    the problem is a whole row, a gap or the file)."""


def fail(file: str, line: int, message: str, column: int = 1) -> IngestError:
    return IngestError([Diagnostic(file, line, column, message)])


@dataclass
class Source:
    """One source file, read."""

    path: str
    format: str
    kind: str
    granularity: str
    """``tick`` (quotes or trades as they happened) or ``bar`` (each row an interval)."""
    interval_ms: int | None
    unit: str
    """What the file counts quantities in, as :mod:`checker.ingest.units` reads it."""
    times: Ints
    lines: Ints
    columns: dict[str, Objects]
    sha256: str
    symbol: str = ""
    instrument: str = ""
    files: list[str] = field(default_factory=list)
    """The file of each row (several files of one kind for one instrument are joined);
    empty while the source is one file."""

    @property
    def rows(self) -> int:
        return len(self.times)

    def file_of(self, row: int) -> str:
        return self.files[row] if self.files else self.path

    def where(self, row: int) -> tuple[str, int]:
        return self.file_of(row), int(self.lines[row])

    def take(self, keep: npt.NDArray[np.bool_] | Ints) -> Source:
        """The rows ``keep`` selects (a mask or indices), as a new source."""
        files = list(np.asarray(self.files, dtype=object)[keep]) if self.files else []
        return Source(
            self.path,
            self.format,
            self.kind,
            self.granularity,
            self.interval_ms,
            self.unit,
            self.times[keep],
            self.lines[keep],
            {k: v[keep] for k, v in self.columns.items()},
            self.sha256,
            self.symbol,
            self.instrument,
            files,
        )


def sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def decimals(
    cells: Sequence[Any], file: str, lines: Sequence[int] | Ints, column: int, name: str
) -> Objects:
    """``cells`` (text, ints or Decimals) as exact decimals, or an error at the first
    cell that is not a finite number."""
    out = np.empty(len(cells), dtype=object)
    if len(cells) and isinstance(cells[0], str):  # the common case, at C speed
        try:
            out[:] = list(map(Decimal, cells))
        except (InvalidOperation, TypeError, ValueError):
            pass
        else:
            if all(map(Decimal.is_finite, out)):
                return out
    for i, cell in enumerate(cells):
        try:
            if isinstance(cell, Decimal):
                value = cell
            elif isinstance(cell, float):  # a Parquet float: the shortest decimal that prints as it
                value = Decimal(repr(cell))
            else:
                value = Decimal(cell)
        except (InvalidOperation, TypeError, ValueError):
            value = None
        if value is None or not value.is_finite():
            raise fail(
                file, int(lines[i]), f"column '{name}': {_short(cell)} is not a number", column
            )
        out[i] = value
    return out


def _short(cell: Any) -> str:
    text = repr(cell)
    return text if len(text) <= 40 else text[:30] + "..." + text[-6:]


EPOCH_UNITS = ((10**11, 1_000_000, "s"), (10**14, 1000, "ms"), (10**17, 1, "us"))
"""Numbers below each bound are times in that unit (seconds until the year 5138,
milliseconds until 5138, microseconds), with the factor to microseconds; larger are
nanoseconds."""


def epoch_unit(first: int) -> tuple[int, str]:
    """The unit of epoch numbers whose first is ``first``: (factor to µs, name)."""
    for bound, factor, name in EPOCH_UNITS:
        if abs(first) < bound:
            return factor, name
    return 0, "ns"


def epoch_times(
    cells: Sequence[Any],
    file: str,
    lines: Sequence[int] | Ints,
    column: int,
    name: str,
    factor: int | None = None,
) -> Ints:
    """Whole numbers of a time unit as µs: ``factor`` µs each (0: ns), or, when None,
    epoch numbers in s, ms, µs or ns, told by the first's size."""
    out = np.empty(len(cells), dtype=np.int64)
    for i, cell in enumerate(cells):
        value = _integer(cell)
        if value is None or not -(2**62) < value < 2**62:
            raise fail(
                file,
                int(lines[i]),
                f"column '{name}': {_short(cell)} is not a time (a whole number of s, ms, "
                "µs or ns since 1970-01-01 UTC)",
                column,
            )
        if factor is None:
            factor, _ = epoch_unit(value)
        out[i] = value * factor if factor else value // 1000
    return out


_INT = re.compile(r"\s*[+-]?\d+(\.0*)?\s*")


def _integer(cell: Any) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, Decimal):
        return int(cell) if cell.is_finite() and cell == int(cell) else None
    if isinstance(cell, str) and _INT.fullmatch(cell):
        return int(cell.strip().split(".")[0])
    return None


def text_times(
    cells: Sequence[Any], file: str, lines: Sequence[int] | Ints, column: int, name: str
) -> Ints:
    """ISO-8601 times (a time without a zone is UTC) as µs since the epoch."""
    import pandas as pd

    parsed = pd.to_datetime(
        pd.Series(cells, dtype=object), utc=True, errors="coerce", format="ISO8601"
    )
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise fail(
            file,
            int(lines[i]),
            f"column '{name}': {_short(cells[i])} is not an ISO-8601 time",
            column,
        )
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    micros: Ints = naive.to_numpy().astype("datetime64[us]").astype(np.int64)
    return micros


def any_times(
    cells: Sequence[Any], file: str, lines: Sequence[int] | Ints, column: int, name: str
) -> Ints:
    """Epoch numbers or ISO-8601 text, as the first cell shows."""
    if len(cells) and _integer(cells[0]) is not None:
        return epoch_times(cells, file, lines, column, name)
    return text_times(cells, file, lines, column, name)


def line_numbers(count: int, first: int) -> Ints:
    return np.arange(first, first + count, dtype=np.int64)


def joined(sources: Iterable[Source]) -> Source:
    """Several sources of one kind for one instrument (consecutive days, say) as one, in
    the order of their first times; each row keeps its file."""
    parts = sorted(sources, key=lambda s: int(s.times[0]) if s.rows else 0)
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    files: list[str] = []
    for p in parts:
        files += p.files or [p.path] * p.rows
    return Source(
        " + ".join(p.path for p in parts),
        first.format,
        first.kind,
        first.granularity,
        first.interval_ms,
        first.unit,
        np.concatenate([p.times for p in parts]),
        np.concatenate([p.lines for p in parts]),
        {k: np.concatenate([p.columns[k] for p in parts]) for k in first.columns},
        first.sha256,
        first.symbol,
        first.instrument,
        files,
    )
