"""Strategy inputs derived from market data: ``seqprove data derive``.

A reference model reads inputs that no exchange publishes: the clock of its session, the
mid's move since the previous tick, a basis between two legs, a momentum signal, an
account's margin ratio, a kill switch. ``data synth`` writes them beside its synthetic
book; this module computes them from the rows of a real data file, by the formulas of
:mod:`checker.run.synth` applied to the real mid path (without the synthetic noise), so
that the same models run over real markets. Every derivation is exact (decimal text in,
``fractions.Fraction`` arithmetic, decimal text out) and deterministic.

``mid`` below is an instrument's quoted mid ``(bid + ask) / 2``: the instrument whose
venue columns the model's price inputs read (the first one, or the only one).

- ``now``: milliseconds since the first row's ``time`` (an int; the data must have a
  ``time`` column).
- ``mid_move``: ``mid`` minus the previous row's ``mid`` (0 on the first row), in USD.
- ``basis_bps``: the second leg's mid over the first's, ``(mid_2 / mid_1 - 1) * 10000``,
  rounded half-even to 0.01 bp (a model with two instruments: the first is the near leg).
- ``signal_long`` / ``signal_short``: ``mid`` moved more than ``+momentum_bps`` /
  ``-momentum_bps`` over the last ``momentum_rows`` rows (defaults 8 bp over 60 rows, the
  rule of ``data synth``, where a row is a second).
- ``margin_ratio`` (%): a long account at 3.5x leverage whose ratio is 20 % at the first
  row, ``20 x / max(1 + 3.5 (x - 1), 0.01)`` with ``x`` the mid over the first row's,
  rounded to 0.01 (``data synth``'s account without its noise and volatility term).
- ``kill_switch``: false on every row (nobody presses it in a replay of history).
- ``expired``: false before ``expiry`` (a time), true from it on; false everywhere when no
  expiry is given.

An input with no derivation here (an option's ``edge`` needs a pricer's feed) is refused,
by name. Inputs the data already has are left as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.errors import SeqproveError
from checker.model import Model
from checker.run import TIME_COLUMN
from checker.run.data import input_column, market_inputs, venue_columns
from checker.run.meta import META_KEY, DataMeta, meta_text, read_meta, write_sidecar

DERIVABLE = (
    "now",
    "mid_move",
    "basis_bps",
    "signal_long",
    "signal_short",
    "margin_ratio",
    "kill_switch",
    "expired",
)
"""Inputs this module can compute from the rows."""


class DeriveError(SeqproveError):
    """Inputs that cannot be derived from this data."""


@dataclass(frozen=True)
class Settings:
    momentum_rows: int = 60
    momentum_bps: Fraction = Fraction(8)
    expiry: datetime | None = None


@dataclass(frozen=True)
class _Rows:
    """What a derivation reads: the mid of each of the first two books, the times."""

    count: int
    mids: list[list[Fraction]]
    times: list[datetime]


@dataclass(frozen=True)
class Derived:
    """What :func:`derive` added: the column names, and one line each saying how."""

    columns: tuple[str, ...]
    how: tuple[str, ...]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _decimal(value: Fraction, places: int) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _fraction(text: str, where: str) -> Fraction:
    try:
        return Fraction(Decimal(text.strip()))
    except (ArithmeticError, ValueError):
        raise DeriveError(f"{where}: {text!r} is not a number") from None


def _text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format(exact.normalize(), "f")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a data file, every cell as its text (exact)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        header = list(table.column_names)
        columns = [[_cell(v) for v in table.column(n).to_pylist()] for n in header]
        return header, [list(r) for r in zip(*columns, strict=True)] if columns else []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        return header, [row for row in reader if row]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _mids(
    cells: Mapping[str, Sequence[str]], book: Mapping[str, str], where: str
) -> list[Fraction]:
    header = list(cells)
    bid, ask = header.index(book["bid"]), header.index(book["ask"])
    return [
        (_fraction(b, f"{where}:{i + 2}:{bid + 1}") + _fraction(a, f"{where}:{i + 2}:{ask + 1}"))
        / 2
        for i, (b, a) in enumerate(zip(cells[book["bid"]], cells[book["ask"]], strict=True))
    ]


def derive(model: Model, path: Path, out: Path, settings: Settings | None = None) -> Derived:
    """Write ``path``'s rows to ``out`` with the model's missing derivable inputs added."""
    try:
        header, rows = read_rows(path)
    except (OSError, ValueError, csv.Error) as exc:
        raise DeriveError(f"{path}:1:1: cannot read the data: {exc}") from None
    if len(set(header)) != len(header):
        raise DeriveError(f"{path}:1:1: a column is repeated")
    short = next((i for i, r in enumerate(rows) if len(r) != len(header)), None)
    if short is not None:
        raise DeriveError(
            f"{path}:{short + 2}:1: {len(rows[short])} cell(s) where the header has {len(header)}"
        )
    cells = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    made, how = derived_columns(model, cells, len(rows), str(path), settings)
    derived = Derived(tuple(made), how)
    meta = read_meta(path)
    if meta is not None or derived.columns:
        base = meta or DataMeta(books=())
        meta = replace(base, extra={**base.extra, "derived": list(derived.how)})
    _write(path, out, header, rows, made, meta)
    return derived


def derived_columns(
    model: Model,
    cells: Mapping[str, Sequence[str]],
    count: int,
    where: str,
    settings: Settings | None = None,
) -> tuple[dict[str, list[str]], tuple[str, ...]]:
    """The market inputs of ``model`` that ``cells`` (column name -> the text of each of
    its ``count`` rows, in the order of the file's header) lacks, derived from them: the
    new columns and one line each saying how. ``where`` names the data in messages, which
    are located as in a CSV file (the header is line 1)."""
    settings = settings or Settings()
    header = list(cells)
    forms = venue_columns(model, header)
    wanted: list[tuple[str, str]] = []  # (input name, column)
    for var in market_inputs(model):
        column = input_column(model, var, forms)
        if column in cells:
            continue
        if var.name not in DERIVABLE:
            raise DeriveError(
                f"{where}:1:1: input {var.name!r} (column {column!r}) is not in the data and "
                f"has no derivation (derivable: {', '.join(DERIVABLE)})"
            )
        wanted.append((var.name, column))
    books = list(forms.values())
    names = {n for n, _ in wanted}
    mids: list[list[Fraction]] = []
    if names & {"mid_move", "basis_bps", "signal_long", "signal_short", "margin_ratio"}:
        if "basis_bps" in names and len(books) < 2:
            raise DeriveError(f"{where}:1:1: 'basis_bps' needs a model with two instruments")
        for book in books[: 2 if "basis_bps" in names else 1]:
            absent = [book[c] for c in ("bid", "ask") if book[c] not in cells]
            if absent:
                raise DeriveError(f"{where}:1:1: no column {absent[0]!r} to derive a mid from")
            mids.append(_mids(cells, book, where))
    times: list[datetime] = []
    if "now" in names or ("expired" in names and settings.expiry is not None):
        if TIME_COLUMN not in cells:
            raise DeriveError(
                f"{where}:1:1: no {TIME_COLUMN!r} column to derive 'now' or 'expired' from"
            )
        at = header.index(TIME_COLUMN)
        for i, text in enumerate(cells[TIME_COLUMN]):
            try:
                times.append(_time(text))
            except ValueError:
                raise DeriveError(
                    f"{where}:{i + 2}:{at + 1}: time {text!r} is not ISO-8601"
                ) from None
        if settings.expiry is not None and any(t.tzinfo is None for t in times):
            raise DeriveError(
                f"{where}:2:{at + 1}: times without a time zone cannot be compared with an expiry"
            )
    if not count:
        raise DeriveError(f"{where}:2:1: no rows")
    found = _Rows(count, mids, times)
    made: dict[str, list[str]] = {}
    how: list[str] = []
    for name, column in wanted:
        values, said = _DERIVATIONS[name](found, settings)
        made[column] = values
        how.append(f"{column}: {said}")
    return made, tuple(how)


def _now(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    start = rows.times[0]
    values = [str((t - start) // timedelta(milliseconds=1)) for t in rows.times]
    return values, "milliseconds since the first row's time"


def _mid_move(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    mid = rows.mids[0]
    values = [_text(m - mid[i - 1] if i else Fraction(0)) for i, m in enumerate(mid)]
    return values, "change of the quoted mid since the previous row (USD)"


def _basis(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    near, far = rows.mids
    values = [_decimal((f / n - 1) * 10_000, 2) for n, f in zip(near, far, strict=True)]
    return values, "the second leg's mid over the first's, in bp (to 0.01)"


def _signal(sign: int) -> Callable[[_Rows, Settings], tuple[list[str], str]]:
    def signal(rows: _Rows, s: Settings) -> tuple[list[str], str]:
        mid = rows.mids[0]
        values = []
        for i, m in enumerate(mid):
            before = mid[max(0, i - s.momentum_rows)]
            change = (m - before) * 10_000 / before * sign
            values.append("true" if change > s.momentum_bps else "false")
        moved = "rose" if sign > 0 else "fell"
        return values, f"the mid {moved} more than {s.momentum_bps} bp over {s.momentum_rows} rows"

    return signal


def _margin(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    first = rows.mids[0][0]
    values = []
    for m in rows.mids[0]:
        x = m / first
        equity = max(1 + Fraction(7, 2) * (x - 1), Fraction(1, 100))
        values.append(_decimal(20 * x / equity, 2))
    return values, "a long account at 3.5x leverage, 20 % at the first row (%)"


def _kill(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    return ["false"] * rows.count, "false on every row"


def _expired(rows: _Rows, s: Settings) -> tuple[list[str], str]:
    if s.expiry is None:
        return ["false"] * rows.count, "false on every row (no expiry given)"
    expiry = s.expiry
    values = ["true" if t >= expiry else "false" for t in rows.times]
    return values, f"true from {expiry.isoformat()} on"


_DERIVATIONS: dict[str, Callable[[_Rows, Settings], tuple[list[str], str]]] = {
    "now": _now,
    "mid_move": _mid_move,
    "basis_bps": _basis,
    "signal_long": _signal(1),
    "signal_short": _signal(-1),
    "margin_ratio": _margin,
    "kill_switch": _kill,
    "expired": _expired,
}


def _write(
    path: Path,
    out: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    made: Mapping[str, Sequence[str]],
    meta: DataMeta | None,
) -> None:
    """``path``'s rows with the ``made`` columns after them, written to ``out`` whole or
    not at all (a partial file is renamed into place), with ``meta``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        if out.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pq.read_table(path) if path.suffix.lower() == ".parquet" else None
            if table is None:
                columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
                table = pa.table(
                    {
                        n: pa.array(list(c), pa.string())
                        for n, c in zip(header, columns, strict=True)
                    }
                )
            for name, values in made.items():
                table = table.append_column(name, pa.array(list(values), pa.string()))
            stored = dict(table.schema.metadata or {})
            if meta is not None:
                stored[META_KEY.encode()] = meta_text(meta).encode()
            pq.write_table(table.replace_schema_metadata(stored), partial)
        else:
            with partial.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([*header, *made])
                writer.writerows([*r, *(made[c][i] for c in made)] for i, r in enumerate(rows))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    if meta is not None and out.suffix.lower() != ".parquet":
        write_sidecar(out, meta)
