"""Market data for ``seqprove run``: a CSV or Parquet file, one row per tick.

The columns are the model's market inputs (matched by name) and the venue's columns:
``bid``, ``ask``, ``bid_size``, ``ask_size``, ``low``, ``high``, ``volume`` (required) and
``time`` (optional, kept in the journal as text). A column that is neither, or a missing
one, is an error before the first tick; so is a cell that is not a value of its column's
type. Numbers are read exactly: CSV text ``60000.5`` is that decimal, a Parquet decimal is
exact, and a Parquet float is read as the shortest decimal that prints as it.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from checker.errors import Diagnostic, ModelError
from checker.lang.loader import parse_number
from checker.model import Model, Value, Variable
from checker.run import TIME_COLUMN, VENUE_COLUMNS
from checker.run.venue import Market

MAX_PROBLEMS = 20


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


def _cell(text: Any, kind: str, values: Sequence[str]) -> Value | str | None:
    """A cell as a value of ``kind`` (``number`` for venue columns), or None if it is
    not one."""
    if isinstance(text, bool):
        return text if kind == "bool" else None
    if isinstance(text, int):
        return text if kind in ("int", "real", "number") else None
    if isinstance(text, Decimal):
        return Fraction(text) if kind in ("real", "number") and text.is_finite() else None
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
    number = parse_number(text)
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


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        for cells in reader:
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
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        rows = _csv_rows(path) if suffix == ".csv" else _parquet_rows(path)
        return Feed(file, digest, tuple(_check(file, rows, model)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError([Diagnostic(file, 1, 1, f"cannot read market data: {exc}")]) from None
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises its own errors on a damaged file
        if type(exc).__module__.startswith("pyarrow"):
            raise DataError([Diagnostic(file, 1, 1, f"cannot read Parquet: {exc}")]) from None
        raise


def _check(file: str, rows: Iterator[tuple[int, list[Any]]], model: Model) -> list[Row]:
    header_line, header = next(rows, (1, []))
    names = [str(h).strip() for h in header]
    problems: list[Diagnostic] = []
    wanted = {v.name: v for v in market_inputs(model)}
    known = set(wanted) | set(VENUE_COLUMNS) | {TIME_COLUMN}
    for i, name in enumerate(names):
        if name not in known:
            problems.append(
                Diagnostic(
                    file,
                    header_line,
                    i + 1,
                    f"column '{name}' is neither a market input of {model.strategy} "
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
    result: list[Row] = []
    for line, cells in rows:
        if len(cells) != len(names):
            problems.append(
                Diagnostic(file, line, 1, f"{len(cells)} cells, the header has {len(names)}")
            )
        else:
            values: dict[str, Any] = {}
            for i, name, kind, enum_values in kinds:
                value = _cell(cells[i], kind, enum_values)
                if value is None:
                    problems.append(
                        Diagnostic(
                            file,
                            line,
                            i + 1,
                            f"column '{name}': {cells[i]!r} is not {_expect(kind, enum_values)}",
                        )
                    )
                values[name] = value
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
