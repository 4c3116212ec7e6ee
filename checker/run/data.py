"""Market data for ``seqprove run``: a CSV or Parquet file, one row per tick.

The columns are the model's market inputs (each reads the column its ``column`` key
names, or else the one of its own name) and the venue's columns: ``bid``, ``ask``,
``bid_size``, ``ask_size``, ``low``, ``high``, ``volume`` (required) and ``time``
(optional: ISO-8601 times or numbers that never go backwards, kept in the journal as
text; a market input named ``time`` reads this column as its value). A model with
instruments has the venue columns of each instrument ``I``: ``I.bid``, ``I.ask``, ...;
with exactly one instrument the plain names are accepted too (one form or the other, not
both), and a market input that reads a venue column in either form reads it in the form
the data has. A column that is neither, or a missing one, is an error before the first
tick; so is a cell that is not a value of its column's type. Numbers are read exactly and bounded
(:func:`checker.lang.numbers.read_number`): CSV text ``60000.5`` is that decimal, a
Parquet decimal is exact, and a Parquet float is read as the shortest decimal that prints
as it. A line is at most :data:`MAX_LINE_BYTES` bytes and a cell at most
:data:`MAX_CELL_CHARS` characters; the file is hashed as it is read.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Collection, Container, Iterator, Mapping, Sequence
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
    """One tick of market data: where it came from, the book of each instrument (``""``:
    the one book of a model without instruments), the model's market inputs."""

    line: int
    time: str | None
    markets: Mapping[str, Market]
    inputs: dict[str, Value]

    @property
    def market(self) -> Market:
        """The book of a model without instruments (with instruments, the first one's)."""
        return next(iter(self.markets.values()))


@dataclass(frozen=True)
class Feed:
    file: str
    sha256: str
    rows: tuple[Row, ...]


def market_inputs(model: Model) -> list[Variable]:
    return [v for v in model.inputs if v.source == "market"]


def _venue_field(model: Model, column: str) -> str | None:
    """The venue column (``bid``, ...) that ``column`` names for a model with one
    instrument ``I`` (``bid`` or ``I.bid``), else None."""
    if len(model.instruments) != 1:
        return None
    prefix = f"{model.instruments[0].name}."
    name = column.removeprefix(prefix)
    return name if name in VENUE_COLUMNS else None


def plain_form(model: Model, header: Collection[str] | None = None) -> bool:
    """Whether the venue columns of a model with one instrument are the plain ``bid``,
    ... rather than ``I.bid``, ...: as the data's ``header`` has them, else as the model's
    market inputs name them (``I.bid`` when none does)."""
    if len(model.instruments) != 1:
        return not model.instruments
    prefixed = [f"{model.instruments[0].name}.{c}" for c in VENUE_COLUMNS]
    if header is not None:
        if any(c in header for c in VENUE_COLUMNS):
            return True
        if any(c in header for c in prefixed):
            return False
    named = [v.column or v.name for v in market_inputs(model)]
    return any(c in VENUE_COLUMNS for c in named) and not any(c in prefixed for c in named)


def venue_columns(model: Model, header: Collection[str] | None = None) -> dict[str, dict[str, str]]:
    """The venue columns each book reads, by instrument (``""`` without instruments):
    ``{instrument: {venue column: data column}}``; ``header`` decides the form with one
    instrument (see :func:`plain_form`)."""
    if not model.instruments:
        return {"": {c: c for c in VENUE_COLUMNS}}
    plain = plain_form(model, header)
    return {
        i.name: {c: c if plain else f"{i.name}.{c}" for c in VENUE_COLUMNS}
        for i in model.instruments
    }


def input_column(model: Model, var: Variable, forms: Mapping[str, Mapping[str, str]]) -> str:
    """The data column market input ``var`` reads: its ``column`` or its name, a venue
    column of the one instrument in the form of ``forms`` (:func:`venue_columns`)."""
    column = var.column or var.name
    field = _venue_field(model, column)
    if field is None:
        return column
    return forms[model.instruments[0].name][field]


def columns_for(model: Model) -> list[str]:
    """Exactly the columns a run of ``model`` reads: the time, the venue's (each
    instrument's), its market inputs."""
    forms = venue_columns(model)
    columns = [TIME_COLUMN, *(c for form in forms.values() for c in form.values())]
    for v in market_inputs(model):
        column = input_column(model, v, forms)
        if column not in columns:
            columns.append(column)
    return columns


def unsynthesizable(model: Model, synthetic: Container[str]) -> list[str]:
    """The market inputs of ``model`` that ``seqprove data synth`` cannot write: those
    with no synthetic column, and an input named ``time`` (synth writes the time column as
    ISO-8601 text, which no input type reads). An instrument's venue columns are always
    written."""
    time_input = any(
        input_column(model, v, venue_columns(model)) == TIME_COLUMN for v in market_inputs(model)
    )
    books = {c for form in venue_columns(model).values() for c in form.values()}
    return [
        n
        for n in columns_for(model)
        if (n not in synthetic and n not in books) or (time_input and n == TIME_COLUMN)
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


def _header_problems(
    file: str,
    line: int,
    names: list[str],
    model: Model,
    readers: Mapping[str, list[Variable]],
    venue_of: Mapping[str, tuple[str, str]],
) -> list[Diagnostic]:
    """What is wrong with the header: a column nobody reads, a repeated one, one of the
    one instrument's venue columns given in both forms, a missing one."""
    problems: list[Diagnostic] = []
    known = set(readers) | set(venue_of) | {TIME_COLUMN}
    instruments = [i.name for i in model.instruments]
    for i, name in enumerate(names):
        plain = _venue_field(model, name)
        if name not in known and plain is not None and plain != name and plain in names:
            problems.append(
                Diagnostic(
                    file,
                    line,
                    i + 1,
                    f"columns '{plain}' and '{name}' are one column of instrument "
                    f"'{instruments[0]}': give it once, as '{plain}' or as '{name}', and "
                    "every venue column in the same form",
                )
            )
        elif name not in known:
            hint = "drop it; `seqprove data synth --model` writes only the columns a model reads"
            if name in VENUE_COLUMNS and len(instruments) > 1:
                each = ", ".join(f"{n}.{name}" for n in instruments)
                hint = f"each instrument has its own: {each}"
            problems.append(
                Diagnostic(
                    file,
                    line,
                    i + 1,
                    f"column {_short(name)} is neither a market input of {model.strategy} "
                    f"nor a venue column ({hint})",
                )
            )
        elif names.index(name) != i:
            problems.append(Diagnostic(file, line, i + 1, f"column '{name}' repeated"))
    for name in dict.fromkeys([*venue_of, *readers]):
        if name in names:
            continue
        if name in readers:
            what = f"input '{readers[name][0].name}' of {model.strategy}"
        elif venue_of[name][0]:
            what = f"venue column of instrument '{venue_of[name][0]}'"
        else:
            what = "venue column"
        problems.append(Diagnostic(file, line, 1, f"missing column '{name}' ({what})"))
    return problems


def _check_rows(
    file: str, rows: Iterator[tuple[int, list[Any]]], model: Model, problems: list[Diagnostic]
) -> list[Row]:
    header_line, header = next(rows, (1, []))
    names = [str(h).strip() for h in header]
    forms = venue_columns(model, names)
    venue_of = {
        column: (instrument, field)
        for instrument, form in forms.items()
        for field, column in form.items()
    }
    readers: dict[str, list[Variable]] = {}
    for v in market_inputs(model):
        readers.setdefault(input_column(model, v, forms), []).append(v)
    problems += _header_problems(file, header_line, names, model, readers, venue_of)
    if problems:
        raise DataError(problems)
    kinds = [
        (
            i,
            name,
            [(v.type.kind, v.type.values) for v in readers.get(name, [])]
            + ([("number", ())] if name in venue_of else []),
        )
        for i, name in enumerate(names)
        if name != TIME_COLUMN or name in readers
    ]
    kinds = [(i, name, list(dict.fromkeys(k))) for i, name, k in kinds]
    time_at = names.index(TIME_COLUMN) if TIME_COLUMN in names else None
    time_input = readers[TIME_COLUMN][0] if TIME_COLUMN in readers else None
    # the time must not go backwards, unless a bool or enum input reads the column
    clocked = time_input is None or time_input.type.kind in ("int", "real")
    clock = _Clock()
    hinted = False
    result: list[Row] = []
    for line, cells in rows:
        if len(cells) != len(names):
            problems.append(
                Diagnostic(file, line, 1, f"{len(cells)} cells, the header has {len(names)}")
            )
        else:
            values: dict[tuple[str, str], Any] = {}
            for i, name, column_kinds in kinds:
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
                for kind, enum_values in column_kinds:
                    try:
                        value = _cell(cell, kind, enum_values)
                    except NumberTooLarge as exc:
                        problems.append(
                            Diagnostic(file, line, i + 1, f"column '{name}': {_short(cell)}: {exc}")
                        )
                        break
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
                        break
                    values[name, kind] = value
            if time_at is not None and clocked:
                cell = cells[time_at]
                if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                    if time_input is None:  # an input's cell is reported above
                        problems.append(
                            Diagnostic(
                                file,
                                line,
                                time_at + 1,
                                f"column 'time': a cell of {len(cell)} characters "
                                f"(at most {MAX_CELL_CHARS})",
                            )
                        )
                elif (time_input is None or (TIME_COLUMN, time_input.type.kind) in values) and (
                    problem := clock.problem(cell, line)
                ) is not None:
                    problems.append(Diagnostic(file, line, time_at + 1, problem))
            if not problems:
                time = None if time_at is None else str(cells[time_at])
                markets = {
                    instrument: Market(
                        **{f: Fraction(values[column, "number"]) for f, column in form.items()}
                    )
                    for instrument, form in forms.items()
                }
                inputs = {
                    v.name: values[column, v.type.kind]
                    for column, vs in readers.items()
                    for v in vs
                }
                result.append(Row(line, time, markets, inputs))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise DataError(problems)
    if not result:
        raise DataError([Diagnostic(file, header_line, 1, "no rows of market data")])
    return result
