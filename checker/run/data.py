"""Market data for ``seqprove run``: a CSV or Parquet file, one row per tick.

The columns are the model's market inputs (each reads the column its ``column`` key
names, or else the one of its own name) and the venue's columns: ``bid``, ``ask``,
``bid_size``, ``ask_size``, ``low``, ``high``, ``volume`` (required) and ``time``
(optional: ISO-8601 times or numbers that never go backwards, kept in the journal as
text; a market input named ``time`` reads this column as its value). A model with
instruments has the venue columns of each instrument ``I``: ``I.bid``, ``I.ask``, ...;
with exactly one instrument the plain names are accepted too (one form or the other, not
both), and a market input that reads a venue column in either form reads it in the form
the data has. A column that is neither is not read (:attr:`Feed.ignored` lists it, and the
run says so once); a missing one is an error before the first tick, and so is a header
that is a row of data (a headerless file), and a cell that is not a value of its column's
type. The file's metadata (:mod:`checker.run.meta`), when it has some, comes with the
rows (:attr:`Feed.meta`). Numbers are read exactly and bounded
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
from checker.lang.timing import since_epoch
from checker.model import Model, Value, Variable, decimal_text
from checker.run import TIME_COLUMN, VENUE_COLUMNS
from checker.run.meta import BookOrigin, DataMeta, MetaError, read_meta, sidecar
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
    ignored: tuple[str, ...] = ()
    """The columns of the file that the model does not read, in the file's order."""
    meta: DataMeta | None = None
    """What the file says about itself (:func:`checker.run.meta.read_meta`), or None."""

    def span(self) -> tuple[str, str] | None:
        """The times of the first and last rows, as written, when the data has times."""
        times = [r.time for r in (self.rows[0], self.rows[-1]) if r.time is not None]
        return (times[0], times[-1]) if len(times) == 2 else None


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


def book_origin(model: Model, meta: DataMeta | None, instrument: str) -> BookOrigin | None:
    """What ``meta`` says of the book of ``instrument`` (``""``: the one book of a model
    without instruments): its own entry; for the one book of a model with at most one
    instrument, the entry of the plain columns (``""``) or the only entry there is."""
    if meta is None:
        return None
    found = meta.book(instrument)
    if found is None and len(model.instruments) <= 1:
        found = meta.book("") or (meta.books[0] if len(meta.books) == 1 else None)
    return found


def _units_problems(file: str, model: Model, meta: DataMeta | None) -> list[Diagnostic]:
    """Where the data's metadata counts an instrument's quantities in contracts of
    another size than the model's: every size and volume would be off by their ratio."""
    problems = []
    books = [(i.name, i.contract_size) for i in model.instruments] or [
        ("", model.venue.contract_size)
    ]
    for name, size in books:
        origin = book_origin(model, meta, name)
        if origin is None or origin.contract_size is None:
            continue
        try:
            theirs = Fraction(origin.contract_size)
        except (ValueError, ZeroDivisionError):
            theirs = None
        if theirs == size:
            continue
        whose = f"instrument '{name}'" if name else "its venue"
        problems.append(
            Diagnostic(
                file,
                1,
                1,
                f"the data's metadata counts quantities in contracts of "
                f"{origin.contract_size} (base asset), but {model.strategy} trades "
                f"{whose} in contracts of {decimal_text(size)}: import the data again "
                f"for contracts of {decimal_text(size)}",
            )
        )
    return problems


def unsynthesizable(model: Model, synthetic: Container[str]) -> list[str]:
    """The market inputs of ``model`` that ``seqprove data synth`` cannot write: those
    with no synthetic column, and an input named ``time`` (synth writes the time column as
    ISO-8601 text, which no input type reads; a clock does). An instrument's venue columns
    are always written."""
    time_input = any(
        input_column(model, v, venue_columns(model)) == TIME_COLUMN
        for v in market_inputs(model)
        if _kind(model, v) != CLOCK  # the clock reads the ISO-8601 text synth writes
    )
    books = {c for form in venue_columns(model).values() for c in form.values()}
    return [
        n
        for n in columns_for(model)
        if (n not in synthetic and n not in books) or (time_input and n == TIME_COLUMN)
    ]


CLOCK = "clock"
"""How the model's clock input reads the time column (:func:`_clock_cell`)."""


def _kind(model: Model, var: Variable) -> str:
    """How a market input reads its column: its type, or :data:`CLOCK` for the clock."""
    if model.clock is not None and var.name == model.clock.input:
        return CLOCK
    return var.type.kind


def _clock_cell(text: Any, unit: str) -> int | None:
    """The time column's cell as the clock reads it: an ISO-8601 time as the whole
    number of ``unit`` since 1970-01-01T00:00:00Z (a time without a zone is UTC; a
    fraction of the unit is dropped, towards the past), a number as that many units."""
    if isinstance(text, bool):
        return None
    moment: datetime | None = text if isinstance(text, datetime) else None
    if moment is None:
        number = _cell(text, "real", ())
        if isinstance(number, int):
            return number
        if isinstance(number, Fraction):
            return int(number) if number.denominator == 1 else None
        if not isinstance(text, str):
            return None
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
    return since_epoch(moment, unit)


def _cell(text: Any, kind: str, values: Sequence[str]) -> Value | str | None:
    """A cell as a value of ``kind`` (``number`` for venue columns, :data:`CLOCK` for
    the clock, whose unit is ``values[0]``), or None if it is not one.

    Raises
    ------
    NumberTooLarge
        When the cell is a number with too many digits or too large an exponent.
    """
    if kind == CLOCK:
        return _clock_cell(text, values[0])
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
        CLOCK: "an ISO-8601 time or a whole number of " + (values[0] if values else "ms"),
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


def _parquet_rows(path: Path, model: Model) -> Iterator[tuple[int, list[Any]]]:
    """The header, then the rows; the cells of a column the model does not read are None
    (only the columns it reads are converted)."""
    import pyarrow.parquet as pq

    names = list(pq.read_schema(path).names)
    yield 1, names
    read = set(_Layout.of(model, [str(n).strip() for n in names]).read)
    wanted = [n for n in names if str(n).strip() in read]
    if len(set(names)) != len(names):  # a repeated name: reported on the header
        return
    table = pq.read_table(path, columns=wanted)
    blank: list[Any] = [None] * table.num_rows
    converted = {n: table.column(n).to_pylist() for n in wanted}
    columns = [converted.get(n, blank) for n in names]
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
                rows, ignored = _check(file, _csv_rows(source), model)
                digest = source.digest()
            finally:
                source.handle.close()
        else:
            digest = _file_sha256(path)
            rows, ignored = _check(file, _parquet_rows(path, model), model)
        meta = _meta(path)
        units = _units_problems(file, model, meta)
        if units:
            raise DataError(units)
        return Feed(file, digest, tuple(rows), tuple(ignored), meta)
    except OSError as exc:
        raise DataError([Diagnostic(file, 1, 1, f"cannot read market data: {exc}")]) from None
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises its own errors on a damaged file
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError([Diagnostic(file, 1, 1, f"cannot read Parquet: {exc}")]) from None
        raise


def _meta(path: Path) -> DataMeta | None:
    """The file's metadata; one that cannot be read is an error where it is kept."""
    try:
        return read_meta(path)
    except MetaError as exc:
        where = str(path) if path.suffix.lower() == ".parquet" else str(sidecar(path))
        message = str(exc).removeprefix(f"{where}: ").removeprefix(f"{path}: ")
        raise DataError([Diagnostic(where, 1, 1, f"data metadata: {message}")]) from None


def _short(cell: Any) -> str:
    """A cell as it is shown in a message: quoted, and cut short when it is long."""
    text = repr(cell)
    return text if len(text) <= 40 else text[:30] + "..." + text[-6:]


def time_value(cell: Any) -> Any:
    """A time cell's value as the time column reads it (a ``datetime`` for ISO-8601
    text, an exact number for a number), or None when it is neither."""
    return _Clock._read(cell)[0]


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


def _check(
    file: str, rows: Iterator[tuple[int, list[Any]]], model: Model
) -> tuple[list[Row], list[str]]:
    problems: list[Diagnostic] = []
    try:
        return _check_rows(file, rows, model, problems)
    except _Unreadable as exc:
        problems.append(Diagnostic(file, exc.line, exc.column, exc.message))
        raise DataError(problems) from None


@dataclass(frozen=True)
class _Layout:
    """How a header's columns are read by ``model``: the venue columns of each book (in
    the form the header has them), and the inputs reading each column."""

    forms: dict[str, dict[str, str]]
    venue_of: dict[str, tuple[str, str]]  # data column: (instrument, venue column)
    readers: dict[str, list[Variable]]  # data column: the market inputs reading it

    @classmethod
    def of(cls, model: Model, names: Collection[str]) -> _Layout:
        forms = venue_columns(model, names)
        venue_of = {
            column: (instrument, field)
            for instrument, form in forms.items()
            for field, column in form.items()
        }
        readers: dict[str, list[Variable]] = {}
        for v in market_inputs(model):
            readers.setdefault(input_column(model, v, forms), []).append(v)
        return cls(forms, venue_of, readers)

    @property
    def read(self) -> list[str]:
        """Every column a run reads: the time, the venue's, the inputs'."""
        return list(dict.fromkeys([TIME_COLUMN, *self.venue_of, *self.readers]))


def _datum(cell: str) -> bool:
    """Whether a header cell is a value rather than a name: a number or an ISO-8601 time."""
    text = cell.strip()
    try:
        if read_number(text) is not None:
            return True
    except NumberTooLarge:
        return True
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _headerless(file: str, line: int, names: list[str], read: Collection[str]) -> Diagnostic | None:
    """A header that is a row of data (a file without column names), or None: at least
    half of its cells are numbers or times, and it names no column the model reads."""
    data = [i for i, n in enumerate(names) if _datum(n)]
    if not data or 2 * len(data) < len(names) or any(n in read for n in names):
        return None
    first = names[data[0]]
    return Diagnostic(
        file,
        line,
        data[0] + 1,
        f"the first line is a row of data, not column names ({_short(first)} is a value): "
        "seqprove run reads a file whose first line names its columns; `seqprove data "
        "import` reads a file without one (such as Binance klines) and writes one it can run",
    )


def _header_problems(
    file: str, line: int, names: list[str], model: Model, layout: _Layout
) -> tuple[list[Diagnostic], list[str]]:
    """What is wrong with the header (a repeated column, one of the one instrument's venue
    columns given in both forms, a missing one), and the columns nobody reads."""
    problems: list[Diagnostic] = []
    ignored: list[str] = []
    readers, venue_of = layout.readers, layout.venue_of
    known = set(layout.read)
    instruments = [i.name for i in model.instruments]
    for i, name in enumerate(names):
        plain = _venue_field(model, name)
        if names.index(name) != i:
            problems.append(Diagnostic(file, line, i + 1, f"column '{name}' repeated"))
        elif name not in known and plain is not None and plain != name and plain in names:
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
            ignored.append(name)
    for name in dict.fromkeys([*venue_of, *readers]):
        if name in names:
            continue
        if name in readers:
            what = f"input '{readers[name][0].name}' of {model.strategy}"
        elif venue_of[name][0]:
            what = f"venue column of instrument '{venue_of[name][0]}'"
            field = venue_of[name][1]
            if len(instruments) > 1 and field in names:
                each = ", ".join(f"{n}.{field}" for n in instruments)
                what += f"; the file's '{field}' is not read: each instrument has its own, {each}"
        else:
            what = "venue column"
        problems.append(
            Diagnostic(
                file,
                line,
                1,
                f"missing column '{name}' ({what}; `seqprove data import --map "
                f"{name}=COLUMN` writes it from a column of another name)",
            )
        )
    return problems, ignored


def _check_rows(
    file: str, rows: Iterator[tuple[int, list[Any]]], model: Model, problems: list[Diagnostic]
) -> tuple[list[Row], list[str]]:
    header_line, header = next(rows, (1, []))
    names = [str(h).strip() for h in header]
    layout = _Layout.of(model, names)
    forms, venue_of, readers = layout.forms, layout.venue_of, layout.readers
    headerless = _headerless(file, header_line, names, layout.read)
    if headerless is not None:
        raise DataError([headerless])
    found, ignored = _header_problems(file, header_line, names, model, layout)
    problems += found
    if problems:
        raise DataError(problems)
    kinds = [
        (
            i,
            name,
            [
                (CLOCK, (model.clock.unit,))
                if model.clock is not None and _kind(model, v) == CLOCK
                else (v.type.kind, v.type.values)
                for v in readers.get(name, [])
            ]
            + ([("number", ())] if name in venue_of else []),
        )
        for i, name in enumerate(names)
        if (name != TIME_COLUMN and name not in ignored) or name in readers
    ]
    kinds = [(i, name, list(dict.fromkeys(k))) for i, name, k in kinds]
    time_at = names.index(TIME_COLUMN) if TIME_COLUMN in names else None
    time_input = readers[TIME_COLUMN][0] if TIME_COLUMN in readers else None
    # the time must not go backwards, unless a bool or enum input reads the column
    clocked = time_input is None or _kind(model, time_input) in ("int", "real", CLOCK)
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
                elif (time_input is None or (TIME_COLUMN, _kind(model, time_input)) in values) and (
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
                    v.name: values[column, _kind(model, v)]
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
    return result, ignored
