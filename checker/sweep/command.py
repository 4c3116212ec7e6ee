"""``seqprove sweep``: the command. The rest of the sweep (and Dask, sympy, z3, pandas)
is imported only once it runs, so that registering it costs ``seqprove``'s start-up
next to nothing."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from checker.errors import UsageError
from checker.options import DEFAULT_CACHE, DEFAULT_OPTIONS, DEFAULT_PROOFS

if TYPE_CHECKING:
    from checker.sweep.task import Row


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of seconds")
    return value


@click.command("sweep")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--grid",
    multiple=True,
    metavar="NAME=V1,V2,...",
    help="The values of a param to sweep (repeatable): a list, or NAME=LO..HI:STEP with "
    "both ends included. Every combination of the grids' values is a point.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a param at every point (repeatable).",
)
@click.option(
    "--data",
    "data_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Market data to backtest every proved point on, as `seqprove run --no-journal` "
    "would (repeatable: every point on every file).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    metavar="N",
    help="Worker processes of the local Dask cluster.  [default: the number of CPUs]",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786) "
    "instead of a local one.",
)
@click.option(
    "--serial",
    is_flag=True,
    help="Run every point in this process, without Dask: the reference for the table.",
)
@click.option(
    "--out",
    metavar="PREFIX",
    help="Write the table to PREFIX.parquet and PREFIX.json.  [default: sweep]",
)
@click.option(
    "--parquet",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the table as Parquet to this file (instead of --out).",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="Write the table as JSON to this file, - for standard output (instead of --out).",
)
@click.option(
    "--budget",
    type=click.IntRange(min=1),
    default=DEFAULT_OPTIONS.budget,
    show_default=True,
    help="z3 resource units allowed per limit, as for `seqprove verify`.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    callback=_finite,
    default=DEFAULT_OPTIONS.timeout,
    show_default=True,
    help="Wall-clock seconds allowed per limit, as for `seqprove verify`.",
)
@click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    help="The result cache, shared by every worker (on a cluster of several machines, "
    "a folder they all see).  [default: .seqprove/cache]",
)
@click.option("--no-cache", is_flag=True, help="Verify every point again.")
@click.option(
    "--proofs",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_PROOFS,
    show_default=True,
    help="Where proof records are written for `seqprove run` (and read by the backtests).",
)
def sweep_command(
    models: tuple[Path, ...],
    grid: tuple[str, ...],
    params: tuple[str, ...],
    data_files: tuple[Path, ...],
    workers: int | None,
    scheduler: str | None,
    serial: bool,
    out: str | None,
    parquet: Path | None,
    json_file: Path | None,
    budget: int,
    timeout: float,
    cache: Path | None,
    no_cache: bool,
    proofs: Path,
) -> None:
    """Verify MODELS at every point of a grid of params, and backtest the proved points,
    on Dask.

    Each model file is verified at each point of the params it declares, as `seqprove
    verify --param` would (the same cache and proof records); with --data, each proved
    point is then backtested on each data file. The rows are gathered into one table
    (Parquet and JSON), in the same order however many workers ran them.

    Exit codes: 0 every point proved; 1 a limit refuted (or broken in a backtest); 2
    something unknown and nothing refuted; 3 bad input (a bad grid, a model that does
    not load, bad market data); 4 internal error."""
    from checker import cli  # its helpers; loaded by now, since it registered this command
    from checker.sweep.cluster import plan, run
    from checker.sweep.grid import parse_grid
    from checker.sweep.table import SweepTable, print_table

    if serial and (workers is not None or scheduler is not None):
        raise UsageError(
            "--serial runs without Dask: it goes with neither --workers nor --scheduler"
        )
    if workers is not None and scheduler is not None:
        raise UsageError(
            "--workers sizes the local cluster: an existing one (--scheduler) has its own"
        )
    if cache is not None and no_cache:
        raise UsageError("--cache and --no-cache: give one")
    options = DEFAULT_OPTIONS.overlay(budget=budget, timeout=timeout)
    axes = parse_grid(grid)
    fixed = cli._params(params)
    targets = _targets(out, parquet, json_file)
    folder = None if no_cache else cache or DEFAULT_CACHE
    tasks = plan(models, axes, fixed, data_files, options, folder, proofs)
    err = cli._console(stderr=True)
    with cli._progress(err, len(tasks), True, "sweeping") as bar:

        def done() -> None:
            if bar is not None:
                bar.advance(bar.task_ids[0])

        rows = run(tasks, serial=serial, workers=workers, scheduler=scheduler, done=done)
    table = SweepTable(axes, tuple(fixed.items()), rows)
    for message in _problems(rows):
        cli._echo(message, err=True)
    parquet_path, json_path = targets
    if parquet_path is not None:
        table.write_parquet(parquet_path)
    if json_path is not None:
        text = table.write_json(None if str(json_path) == "-" else json_path)
        if str(json_path) == "-":
            cli._echo(text, nl=False)
    if str(json_path) != "-":
        print_table(table, cli._console(stderr=False))
        written = [str(p) for p in targets if p is not None]
        err.print(f"table: {', '.join(written)}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(table.exit_code)


def _targets(
    out: str | None, parquet: Path | None, json_file: Path | None
) -> tuple[Path | None, Path | None]:
    """Where the Parquet and the JSON tables go (checked before the sweep runs, so that a
    finished sweep cannot fail to be written for a wrong path)."""
    if out is not None and (parquet is not None or json_file is not None):
        raise UsageError("--out names both files: give it, or --parquet and --json")
    if parquet is None and json_file is None:
        prefix = out or "sweep"
        parquet, json_file = Path(f"{prefix}.parquet"), Path(f"{prefix}.json")
    for option, path in (("--parquet", parquet), ("--json", json_file)):
        if path is None or str(path) == "-":
            continue
        if path.is_dir():
            raise UsageError(f"{option} {path}: a folder; give a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{option} {path}: cannot make its folder ({exc.strerror})") from None
    return parquet, json_file


def _problems(rows: tuple[Row, ...]) -> list[str]:
    """The messages of the rows' bad input and internal errors, each once, in the rows'
    order: ``FILE:LINE:COLUMN: ...`` where the loader or the data reader locates it."""
    found: dict[str, None] = {}
    for row in rows:
        if row.error is None:
            continue
        if row.verdict == "internal error" or row.backtest == "internal error":
            found[
                f"seqprove: {row.file}: internal error ({row.error}). This is a bug in "
                "seqprove; please report it with the model that caused it."
            ] = None
        else:  # a model's problems repeat on each of its points: each line once
            found.update(dict.fromkeys(row.error.splitlines()))
    return list(found)
