"""The table of a sweep: one row per model file, grid point and data file, in the order
of the files, then of the grid (the last ``--grid`` varying fastest), then of ``--data``,
whatever ran them and in whatever order they finished. Written as Parquet and JSON, and
shown in the terminal.

The columns of :data:`RUN_COLUMNS` say how this run went (the cache, the worker, the
time taken); every other column is the same on every run of the same sweep, serial or
on any number of workers, so two tables compare equal once those are dropped.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.lang.numbers import read_number
from checker.results import exit_code
from checker.sweep.grid import Axis
from checker.sweep.task import VERDICTS, Row

if TYPE_CHECKING:
    import pandas

FORMAT = "seqprove-sweep/1"
"""The ``format`` of the JSON document."""

RUN_COLUMNS = (
    "cached",
    "worker",
    "verify_seconds",
    "verify_cpu_seconds",
    "backtest_seconds",
    "backtest_cpu_seconds",
)
"""The columns that depend on the run, not on the sweep: drop them to compare tables."""

PARAM_PREFIX = "param."
"""A grid param's column is its name after this (``param.quote_size``), so that no
param name can clash with another column."""

SHOWN_ROWS = 100
"""Most rows the terminal table shows; the files hold them all."""

_DTYPES = {
    "file": "string",
    "strategy": "string",
    "data": "string",
    "exit_code": "Int64",
    "verdict": "string",
    "proved": "Int64",
    "refuted": "Int64",
    "unknown": "Int64",
    "structural_errors": "Int64",
    "refuted_limits": "string",
    "unknown_limits": "string",
    "backtest": "string",
    "run_exit": "Int64",
    "outcome": "string",
    "outcome_tick": "Int64",
    "outcome_message": "string",
    "ticks": "Int64",
    "actions": "Int64",
    "orders": "Int64",
    "fills": "Int64",
    "rejected_actions": "Int64",
    "denials": "Int64",
    "assumption_breaches": "Int64",
    "limit_breaches": "Int64",
    "pnl": "Float64",
    "max_abs_position": "string",
    "final_step": "string",
    "fill_model": "string",
    "error": "string",
    "cached": "boolean",
    "worker": "string",
    "verify_seconds": "Float64",
    "verify_cpu_seconds": "Float64",
    "backtest_seconds": "Float64",
    "backtest_cpu_seconds": "Float64",
}
"""The pandas type of each column but the params' (nullable: a row without a backtest
has no ticks)."""

_PARAM_DTYPES = {"int": "Int64", "real": "Float64", "text": "string"}

_STYLE = {
    "proved": "bold green",
    "refuted": "bold red",
    "unknown": "bold yellow",
    "bad input": "bold red",
    "internal error": "bold red",
}


@dataclass(frozen=True)
class SweepTable:
    """The rows of a sweep, with the grid and the ``--param`` values it ran with."""

    axes: tuple[Axis, ...]
    params: tuple[tuple[str, str], ...]
    rows: tuple[Row, ...]

    @property
    def exit_code(self) -> int:
        """As ``seqprove verify``'s: 4 an internal error, 3 bad input, 1 a limit refuted
        (or broken in a backtest), 2 something unknown, 0 every point proved."""
        return exit_code(r.exit_code for r in self.rows)

    @property
    def columns(self) -> tuple[str, ...]:
        fields = [f.name for f in dataclasses.fields(Row) if f.name != "point"]
        params = [PARAM_PREFIX + a.name for a in self.axes]
        at = fields.index("data")
        return (*fields[:at], *params, fields[at], "exit_code", *fields[at + 1 :])

    def records(self, run_columns: bool = True) -> list[dict[str, Any]]:
        """The rows as dicts in column order; without the :data:`RUN_COLUMNS` when
        ``run_columns`` is false."""
        kinds = {a.name: a.kind for a in self.axes}
        found = []
        for row in self.rows:
            record = dataclasses.asdict(row)
            values = dict(record.pop("point"))
            record["exit_code"] = row.exit_code
            for name, kind in kinds.items():
                record[PARAM_PREFIX + name] = _param(values.get(name), kind)
            for name in ("verify_seconds", "verify_cpu_seconds"):
                record[name] = round(record[name], 3)
            for name in ("backtest_seconds", "backtest_cpu_seconds"):
                if record[name] is not None:
                    record[name] = round(record[name], 3)
            found.append(
                {c: record[c] for c in self.columns if run_columns or c not in RUN_COLUMNS}
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "grid": {a.name: list(a.values) for a in self.axes},
            "params": dict(self.params),
            "columns": list(self.columns),
            "run_columns": list(RUN_COLUMNS),
            "rows": self.records(),
            "exit_code": self.exit_code,
        }

    def to_frame(self, run_columns: bool = True) -> pandas.DataFrame:
        """The rows as a pandas DataFrame with nullable column types (what the Parquet
        file holds)."""
        import pandas

        dtypes = {**_DTYPES, **{PARAM_PREFIX + a.name: _PARAM_DTYPES[a.kind] for a in self.axes}}
        columns = [c for c in self.columns if run_columns or c not in RUN_COLUMNS]
        frame = pandas.DataFrame.from_records(self.records(run_columns), columns=columns)
        return frame.astype({c: dtypes[c] for c in columns})

    def write_parquet(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_parquet(path, index=False)

    def write_json(self, path: Path | None) -> str:
        """The JSON document; written to ``path`` unless it is None."""
        text = json.dumps(self.to_json(), indent=2) + "\n"
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return text


def _param(text: str | None, kind: str) -> int | float | str | None:
    """A grid value in its column's type (None: the row's model has no such param)."""
    if text is None or kind == "text":
        return text
    value = read_number(text)
    assert value is not None  # the axis's kind says every value reads as a number
    return int(value) if kind == "int" else float(value)


def print_table(table: SweepTable, console: Console) -> None:
    """A row per model, point and data file, then a line that counts the verdicts."""
    shown = Table(show_edge=True, header_style="bold")
    shown.add_column("model", overflow="fold")
    for axis in table.axes:
        shown.add_column(axis.name, justify="right")
    backtests = any(r.data is not None for r in table.rows)
    for heading in ("verdict", "limits", *(("data", "backtest", "PnL") if backtests else ())):
        shown.add_column(heading, overflow="fold")
    shown.add_column("time", justify="right")
    for row in table.rows[:SHOWN_ROWS]:
        values = dict(row.point)
        cells: list[str | Text] = [row.file, *(values.get(a.name, "-") for a in table.axes)]
        cells += [Text(row.verdict.upper(), style=_STYLE[row.verdict]), _limits(row)]
        if backtests:
            cells += [row.data or "-", _backtest(row), _pnl(row)]
        cells.append("cached" if row.cached else f"{row.verify_seconds:.2f} s")
        shown.add_row(*cells)
    console.print(shown)
    if len(table.rows) > SHOWN_ROWS:
        console.print(f"... and {len(table.rows) - SHOWN_ROWS} more row(s) in the table files")
    console.print(summary(table.rows, table.exit_code), markup=False, highlight=False)


def _limits(row: Row) -> str:
    if row.verdict in ("bad input", "internal error"):
        return "-"
    parts = [f"{row.proved} proved"]
    if row.refuted:
        parts.append(f"{row.refuted} refuted: {row.refuted_limits}")
    if row.unknown:
        parts.append(f"{row.unknown} unknown: {row.unknown_limits}")
    if row.structural_errors:
        parts.append(f"{row.structural_errors} structural error(s)")
    return "; ".join(parts)


def _backtest(row: Row) -> str:
    if row.backtest == "ran":  # the data's end needs no tick: it is the data's length
        ended = row.outcome == "data-end"
        return str(row.outcome) if ended else f"{row.outcome} at tick {row.outcome_tick}"
    return row.backtest or "-"


def _pnl(row: Row) -> str:
    return "-" if row.pnl is None else f"{row.pnl:.2f}"


def summary(rows: Sequence[Row], code: int) -> str:
    """``6 point(s): 5 proved, 1 refuted, ...; backtests: 10 ran, 2 skipped; exit 1``
    (a point counted once, however many data files it ran on)."""
    points = {(r.file, r.point): r.verdict for r in rows}
    counts = ", ".join(
        f"{sum(v == verdict for v in points.values())} {verdict}" for verdict in VERDICTS.values()
    )
    text = f"{len(points)} point(s): {counts}"
    tried = [r.backtest for r in rows if r.backtest is not None]
    if tried:
        ran = sum(b == "ran" for b in tried)
        skipped = sum(b.startswith("skipped") for b in tried)
        failed = len(tried) - ran - skipped
        text += f"; backtests: {ran} ran, {skipped} skipped"
        text += f", {failed} failed" if failed else ""
    return f"{text}; exit {code}"
