"""``seqprove sweep``: verify models over a grid of params, and backtest the proved
points on market data, on Dask, into one table.

- :mod:`~checker.sweep.grid` reads ``--grid`` into axes and points;
- :mod:`~checker.sweep.task` is what a worker runs: one model at one point, verified as
  ``seqprove verify`` does and backtested as ``seqprove run --no-journal`` does;
- :mod:`~checker.sweep.cluster` plans the tasks and runs them, serially or on Dask;
- :mod:`~checker.sweep.table` is the table: Parquet, JSON and the terminal;
- :mod:`~checker.sweep.command` is the command.

``seqprove`` registers the command at every start, so only the command's module is
loaded with this package; the names below load their modules when first used (and
Dask, sympy, z3 and pandas load when a sweep runs).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from checker.sweep.command import sweep_command

if TYPE_CHECKING:
    from checker.sweep.cluster import SweepTiming, sweep, time_sweep
    from checker.sweep.grid import Axis, parse_grid
    from checker.sweep.table import RUN_COLUMNS, SweepTable
    from checker.sweep.task import Row

__all__ = [
    "RUN_COLUMNS",
    "Axis",
    "Row",
    "SweepTable",
    "SweepTiming",
    "parse_grid",
    "sweep",
    "sweep_command",
    "time_sweep",
]

_HOMES = {
    "RUN_COLUMNS": "table",
    "Axis": "grid",
    "Row": "task",
    "SweepTable": "table",
    "SweepTiming": "cluster",
    "parse_grid": "grid",
    "sweep": "cluster",
    "time_sweep": "cluster",
}


def __getattr__(name: str) -> object:
    """The public names but the command, each from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
