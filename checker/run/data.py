"""Market data for ``seqprove run``: a CSV or Parquet file, one row per tick.

The columns are the model's market inputs (matched by name) and the venue's columns:
``bid``, ``ask``, ``bid_size``, ``ask_size``, ``low``, ``high``, ``volume`` (required) and
``time`` (optional: ISO-8601 times or numbers that never go backwards, kept in the journal
as text; a market input named ``time`` reads this column as its value). A column that is
neither, or a missing one, is an error before the first tick; so is a cell that is not a
value of its column's type. Numbers are read exactly and bounded
(:func:`checker.lang.numbers.read_number`): CSV text ``60000.5`` is that decimal, a
Parquet decimal is exact, and a Parquet float is read as the shortest decimal that prints
as it. A line is at most :data:`MAX_LINE_BYTES` bytes and a cell at most
:data:`MAX_CELL_CHARS` characters; the file is hashed as it is read.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.errors import Diagnostic, ModelError
from checker.lang.numbers import NumberTooLarge, read_number
from checker.model import Model, Value, Variable
from checker.run import TIME_COLUMN, VENUE_COLUMNS
from checker.run.venue import Market

MAX_PROBLEMS = 20
MAX_LINE_BYTES = 1 << 20
"""Longest line of a CSV file, in bytes (1 MiB): a longer one is refused where it starts,
before it is read whole."""
MAX_CELL_CHARS = 4096
"""Longest cell, in characters (CSV or Parquet text)."""
_CHUNK = 1 << 20


class DataError(ModelError):
    """Bad market data: every problem located at FILE:LINE:COLUMN (for Parquet, LINE
    counts rows as a CSV file would: the column names are line 1, the first row line 2)."""


@dataclass(frozen=True)
class Row:
    """One tick of market data: where it came from, the book, the model's market inputs."""

    line: int
    time: str | None
    market: Market
    inputs: dict[str, Value]


@dataclass(frozen=True)
class Feed:
    file: str
    sha256: str
    rows: tuple[Row, ...]


def market_inputs(model: Model) -> list[Variable]:
    return [v for v in model.inputs if v.source == "market"]


def columns_for(model: Model) -> list[str]:
    """Exactly the columns a run of ``model`` reads: the time, the venue's, its market
    inputs."""
    columns = [TIME_COLUMN, *VENUE_COLUMNS]
    return columns + [v.name for v in market_inputs(model) if v.name not in columns]


def unsynthesizable(model: Model, synthetic: Container[str]) -> list[str]:
    """The market inputs of ``model`` that ``seqprove data synth`` cannot write: those
    with no synthetic column, and an input named ``time`` (synth writes the time column as
    ISO-8601 text, which no input type reads)."""
    time_input = any(v.name == TIME_COLUMN for v in market_inputs(model))
    return [
        n for n in columns_for(model) if n not in synthetic or (time_input and n == TIME_COLUMN)
    ]


def _cell(text: Any, kind: str, values: Sequence[str]) -> Value | str | None:
    """A cell as a value of ``kind`` (``number`` for venue columns), or None if it is
    not one.

    Raises
    ------
    NumberTooLarge
        When the cell is a number with too many digits or too large an exponent.
    """
    if isinstance(text, bool):
        return text if kind == "bool" else None
    if isinstance(text, int):
        return text if kind in ("int", "real", "number") else None
    if isinstance(text, Decimal):
        if kind not in ("real", "number") or not text.is_finite():
            return None
        return read_number(str(text))
    if isinstance(text, float):
        if not math.isfinite(text) or kind not in ("real", "number"):
            return None
        return Fraction(repr(text))
    if not isinstance(text, str):
        return None
    text = text.strip()
    if kind == "bool":
        return {"true": True, "false": False, "1": True, "0": False}.get(text.lower())
    if kind == "enum":
        return values.index(text) if text in values else None
    number = read_number(text)
    if number is None:
        return None
    if kind == "int":
        if isinstance(number, Fraction):
            return int(number) if number.denominator == 1 else None
        return number
    return number


def _expect(kind: str, values: Sequence[str]) -> str:
    return {
        "bool": "true or false",
        "int": "an integer",
        "real": "a number",
        "number": "a number",
        "enum": "one of " + ", ".join(values),
    }[kind]


class _Unreadable(Exception):
    """The file cannot be read on from here: a line too long, bytes that are not
    UTF-8, a NUL byte, a CSV quoting error."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


class _Hashed:
    """A binary file read line by line, bounded, and hashed as it is read."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("rb")
        self.sha = hashlib.sha256()
        self.line = 0

    def lines(self) -> Iterator[str]:
        while True:
            raw = self.handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            self.sha.update(raw)
            self.line += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                raise _Unreadable(
                    self.line, 1, f"line longer than {MAX_LINE_BYTES} bytes (the limit of a line)"
                )
            nul = raw.find(b"\0")
            if nul >= 0:
                column = len(raw[:nul].decode("utf-8", "replace")) + 1
                raise _Unreadable(self.line, column, "a NUL byte: this is not a text file")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
                raise _Unreadable(
                    self.line, column, f"byte 0x{raw[exc.start]:02x} is not UTF-8 text"
                ) from None
            yield text.removeprefix("\ufeff") if self.line == 1 else text

    def digest(self) -> str:
        while chunk := self.handle.read(_CHUNK):
            self.sha.update(chunk)
        self.handle.close()
        return self.sha.hexdigest()


def _file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _csv_rows(source: _Hashed) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(source.lines())
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _Unreadable(reader.line_num, 1, f"cannot read CSV: {exc}") from None
        yield reader.line_num, cells


def _parquet_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    yield 1, list(table.column_names)
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for i in range(table.num_rows):
        yield i + 2, [c[i] for c in columns]


def read_feed(path: Path, model: Model) -> Feed:
    """Read and check the whole file against ``model`` before the first tick.

    Raises
    ------
    DataError
        With every problem found (at most 20), each at its line and column.
    """
    file = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise DataError([Diagnostic(file, 1, 1, "market data must be a .csv or .parquet file")])
    try:
        if suffix == ".csv":
            source = _Hashed(path)
            try:
                rows = _check(file, _csv_rows(source), model)
                digest = source.digest()
            finally:
                source.handle.close()
        else:
            digest = _file_sha256(path)
            rows = _check(file, _parquet_rows(path), model)
        return Feed(file, digest, tuple(rows))
    except OSError as exc:
        raise DataError([Diagnostic(file, 1, 1, f"cannot read market data: {exc}")]) from None
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises its own errors on a damaged file
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError([Diagnostic(file, 1, 1, f"cannot read Parquet: {exc}")]) from None
        raise


def _short(cell: Any) -> str:
    """A cell as it is shown in a message: quoted, and cut short when it is long."""
    text = repr(cell)
    return text if len(text) <= 40 else text[:30] + "..." + text[-6:]


class _Clock:
    """The time column: ISO-8601 times or numbers, all of one kind, never going back."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.last: tuple[Any, str, int] | None = None  # (value, as written, line)

    def problem(self, cell: Any, line: int) -> str | None:
        """What is wrong with ``cell`` as the next row's time, or None."""
        value, kind = self._read(cell)
        if value is None:
            return f"column 'time': {_short(cell)} is neither an ISO-8601 time nor a number"
        if self.kind is not None and kind != self.kind:
            return f"column 'time': {_short(cell)} is {kind}, but the rows above give {self.kind}"
        self.kind = kind
        if self.last is not None and value < self.last[0]:
            return (
                f"column 'time': {_short(cell)} is before the time of the row above "
                f"({self.last[1]}, line {self.last[2]}): the rows must be in time order"
            )
        self.last = (value, str(cell), line)
        return None

    @staticmethod
    def _read(cell: Any) -> tuple[Any, str]:
        if isinstance(cell, datetime):
            return cell, "a time with a zone" if cell.tzinfo else "a time without a zone"
        if isinstance(cell, int | float | Decimal) and not isinstance(cell, bool):
            number = _cell(cell, "number", ())
            return number, "a number"
        if not isinstance(cell, str) or not cell.strip().isprintable():
            return None, ""
        try:
            number = read_number(cell)
        except NumberTooLarge:
            return None, ""
        if number is not None:
            return number, "a number"
        try:
            moment = datetime.fromisoformat(cell.strip())
        except ValueError:
            return None, ""
        return moment, "a time with a zone" if moment.tzinfo else "a time without a zone"


def _check(file: str, rows: Iterator[tuple[int, list[Any]]], model: Model) -> list[Row]:
    problems: list[Diagnostic] = []
    try:
        return _check_rows(file, rows, model, problems)
    except _Unreadable as exc:
        problems.append(Diagnostic(file, exc.line, exc.column, exc.message))
        raise DataError(problems) from None


def _check_rows(
    file: str, rows: Iterator[tuple[int, list[Any]]], model: Model, problems: list[Diagnostic]
) -> list[Row]:
    header_line, header = next(rows, (1, []))
    names = [str(h).strip() for h in header]
    wanted = {v.name: v for v in market_inputs(model)}
    known = set(wanted) | set(VENUE_COLUMNS) | {TIME_COLUMN}
    for i, name in enumerate(names):
        if name not in known:
            problems.append(
                Diagnostic(
                    file,
                    header_line,
                    i + 1,
                    f"column {_short(name)} is neither a market input of {model.strategy} "
                    f"nor a venue column (drop it; `seqprove data synth --model` writes "
                    f"only the columns a model reads)",
                )
            )
        elif names.index(name) != i:
            problems.append(Diagnostic(file, header_line, i + 1, f"column '{name}' repeated"))
    for name in [*VENUE_COLUMNS, *wanted]:
        if name not in names:
            what = f"input '{name}' of {model.strategy}" if name in wanted else "venue column"
            problems.append(Diagnostic(file, header_line, 1, f"missing column '{name}' ({what})"))
    if problems:
        raise DataError(problems)
    kinds = [
        (
            i,
            name,
            wanted[name].type.kind if name in wanted else "number",
            wanted[name].type.values if name in wanted else (),
        )
        for i, name in enumerate(names)
        if name != TIME_COLUMN or name in wanted
    ]
    time_at = names.index(TIME_COLUMN) if TIME_COLUMN in names else None
    time_input = TIME_COLUMN in wanted
    # the time must not go backwards, unless a bool or enum input reads the column
    clocked = not time_input or wanted[TIME_COLUMN].type.kind in ("int", "real")
    clock = _Clock()
    hinted = False
    result: list[Row] = []
    for line, cells in rows:
        if len(cells) != len(names):
            problems.append(
                Diagnostic(file, line, 1, f"{len(cells)} cells, the header has {len(names)}")
            )
        else:
            values: dict[str, Any] = {}
            for i, name, kind, enum_values in kinds:
                values[name] = value = None
                cell = cells[i]
                if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                    problems.append(
                        Diagnostic(
                            file,
                            line,
                            i + 1,
                            f"column '{name}': a cell of {len(cell)} characters "
                            f"(at most {MAX_CELL_CHARS})",
                        )
                    )
                    continue
                try:
                    value = _cell(cell, kind, enum_values)
                except NumberTooLarge as exc:
                    problems.append(
                        Diagnostic(file, line, i + 1, f"column '{name}': {_short(cell)}: {exc}")
                    )
                    continue
                if value is None:
                    hint = ""
                    if name == TIME_COLUMN and not hinted:
                        hinted = True
                        hint = (
                            f" (the input 'time' of {model.strategy} reads the data's time "
                            "column: write the time as a value of the input's type, or "
                            "rename the input)"
                        )
                    problems.append(
                        Diagnostic(
                            file,
                            line,
                            i + 1,
                            f"column '{name}': {_short(cell)} is not "
                            f"{_expect(kind, enum_values)}{hint}",
                        )
                    )
                values[name] = value
            if time_at is not None and clocked:
                cell = cells[time_at]
                if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                    if not time_input:  # an input's cell is reported above
                        problems.append(
                            Diagnostic(
                                file,
                                line,
                                time_at + 1,
                                f"column 'time': a cell of {len(cell)} characters "
                                f"(at most {MAX_CELL_CHARS})",
                            )
                        )
                elif (not time_input or values[TIME_COLUMN] is not None) and (
                    problem := clock.problem(cell, line)
                ) is not None:
                    problems.append(Diagnostic(file, line, time_at + 1, problem))
            if not problems:
                time = None if time_at is None else str(cells[time_at])
                market = Market(**{c: Fraction(values[c]) for c in VENUE_COLUMNS})
                result.append(Row(line, time, market, {n: values[n] for n in wanted}))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise DataError(problems)
    if not result:
        raise DataError([Diagnostic(file, header_line, 1, "no rows of market data")])
    return result
