"""Running a sweep: its tasks planned from the model files and the grid, then run in this
process (serial) or on Dask, a ``LocalCluster`` of worker processes by default or an
existing cluster by its scheduler's address. Dask schedules; this module only hands it
the tasks and puts their rows back in the table's order.

Workers are processes with one thread each: a verification is CPU-bound, and a process
runs one task at a time anyway (:func:`checker.sweep.task.run_task` says why z3 needs
that), so more threads per process would gain nothing.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checker.errors import UsageError
from checker.files import collect_files
from checker.options import DEFAULT_CACHE, DEFAULT_OPTIONS, DEFAULT_PROOFS, Options
from checker.sweep.grid import Axis, Point, parse_grid, points
from checker.sweep.table import SweepTable
from checker.sweep.task import Row, Task, run_task, warm_up

if TYPE_CHECKING:
    from distributed import Client

CONNECT_SECONDS = 10
"""How long ``--scheduler`` waits for the cluster to answer."""

Done = Callable[[], None]
"""Told each time a task finishes."""


def plan(
    models: Sequence[Path],
    axes: Sequence[Axis],
    params: Mapping[str, str],
    data: Sequence[Path],
    options: Options,
    cache: Path | None,
    proofs: Path,
) -> list[Task]:
    """One task per model file and grid point: each file takes the axes of the params it
    declares (a file that declares none of them is one point). The cache and proof
    folders are made here, so that one that cannot be is found before any work is done.

    Raises
    ------
    UsageError
        A missing model or data file, no model file at all, a ``--grid`` or ``--param``
        that names a param no model declares, one name in both, or a folder that cannot
        be made.
    """
    from checker.lang.loader import declared_params
    from checker.lang.validate import hint

    given = collect_files(models)  # raises for a missing path
    if not given:
        raise UsageError(f"no model files (*.yaml, *.yml) under {', '.join(map(str, models))}")
    shown: dict[Path, str] = {}
    for path in given:  # a file named twice is swept once, named as it was first
        shown.setdefault(path.resolve(), str(path))
    for path in data:
        if not path.is_file():
            raise UsageError(f"--data {path}: no such file")
    both = sorted({a.name for a in axes} & set(params))
    if both:
        raise UsageError(f"--grid and --param both set '{both[0]}': give one")
    declared = {f: declared_params(f) for f in shown}
    known = set().union(*declared.values())
    for option, names in (("--grid", [a.name for a in axes]), ("--param", list(params))):
        for name in names:
            if name not in known:
                raise UsageError(
                    f"{option} {name}: no model of this sweep declares a param "
                    f"'{name}'{hint(name, known)}"
                )
    for option, folder in (("--cache", cache), ("--proofs", proofs)):
        try:
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{option} {folder}: cannot make it ({exc.strerror or exc})") from None
    feeds = tuple((str(p), str(p.resolve())) for p in data)
    tasks = []
    for file, name in shown.items():
        own = [a for a in axes if a.name in declared[file]]
        for point in points(own):
            tasks.append(
                Task(
                    file=name,
                    path=str(file),
                    point=point,
                    params=tuple({**params, **dict(point)}.items()),
                    data=feeds,
                    options=options,
                    cache=None if cache is None else str(cache.resolve()),
                    proofs=str(proofs.resolve()),
                )
            )
    return tasks


def run_serial(tasks: Sequence[Task], done: Done | None = None) -> list[tuple[Row, ...]]:
    """Run the tasks one after another in this process (no Dask): the reference."""
    if tasks:
        warm_up()
    rows = []
    for task in tasks:
        rows.append(run_task(task))
        if done is not None:
            done()
    return rows


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None) -> Iterator[Client]:
    """A Dask client: of the cluster whose scheduler is at ``scheduler``, or of a new
    ``LocalCluster`` of ``workers`` processes (one thread each), closed on the way out,
    whether the sweep ended, failed or was interrupted.

    Raises
    ------
    UsageError
        When the scheduler cannot be reached.
    """
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {scheduler}: cannot reach it ({type(exc).__name__}: {exc})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with _ctrl_c_ignored():  # by the workers, which inherit it: this process closes them
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # its HTTP server, always started: any port
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.CRITICAL,  # a task's failure is its rows' error
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore SIGINT while the local cluster's processes start, so that they ignore it
    too: a Ctrl-C at the terminal reaches every process of its group, and the workers,
    stopped by it in the middle of a task, would each print a traceback. This process
    takes the Ctrl-C and closes the cluster."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_on_dask(
    tasks: Sequence[Task], client: Client, done: Done | None = None
) -> list[tuple[Row, ...]]:
    """Run the tasks on ``client``'s cluster; the rows come back in the order of
    ``tasks``, whichever worker ran them and whenever they finished. A task whose worker
    died (or that could not be sent) gives rows of its own with an internal error."""
    from distributed import as_completed

    try:
        client.run(warm_up)  # every worker there now: one that joins later does it itself
    except Exception as exc:  # warm_up only imports: the workers' installation is wrong
        raise UsageError(
            f"the workers cannot load seqprove ({exc}): install this seqprove on them"
        ) from None
    futures = client.map(run_task, tasks, pure=False)
    where = {future.key: i for i, future in enumerate(futures)}
    rows: list[tuple[Row, ...] | None] = [None] * len(tasks)
    for future in as_completed(futures):
        i = where[future.key]
        try:
            rows[i] = future.result()
        except Exception as exc:  # the worker died, or cannot import seqprove
            rows[i] = _lost(tasks[i], exc)
        if done is not None:
            done()
    return [r if r is not None else _lost(t, None) for r, t in zip(rows, tasks, strict=True)]


def _lost(task: Task, exc: BaseException | None) -> tuple[Row, ...]:
    """The rows of a task that gave none."""
    what = "no result" if exc is None else f"{type(exc).__name__}: {exc}"
    error = f"the task failed on its worker: {what}"
    base = Row(task.file, None, task.point, None, "internal error", error=error[:600])
    if not task.data:
        return (base,)
    return tuple(
        Row(task.file, None, task.point, shown, "internal error", error=error[:600])
        for shown, _ in task.data
    )


def run(
    tasks: Sequence[Task],
    *,
    serial: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    done: Done | None = None,
) -> tuple[Row, ...]:
    """The rows of ``tasks``, in their order: run in this process when ``serial``, else
    on the cluster at ``scheduler``, else on a ``LocalCluster`` of ``workers``
    processes (default: one per CPU)."""
    if serial:
        found = run_serial(tasks, done)
    else:
        with dask_client(workers, scheduler) as client:
            found = run_on_dask(tasks, client, done)
    return tuple(row for rows in found for row in rows)


def sweep(
    models: Sequence[Path],
    grid: Sequence[str],
    *,
    params: Mapping[str, str] | None = None,
    data: Sequence[Path] = (),
    options: Options = DEFAULT_OPTIONS,
    cache: Path | None = DEFAULT_CACHE,
    proofs: Path = DEFAULT_PROOFS,
    serial: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    done: Done | None = None,
) -> SweepTable:
    """Verify (and, with ``data``, backtest) every model file of ``models`` at every
    point of ``grid`` (``--grid`` texts, ``"quote_size=5,10"``), as ``seqprove sweep``
    does; see :func:`run` for where. ``cache`` None verifies every point again.

    Raises
    ------
    UsageError
        For bad input that stops the sweep before it starts (see :func:`plan`).
    """
    axes = parse_grid(grid)
    given = dict(params or {})
    tasks = plan(models, axes, given, data, options, cache, proofs)
    rows = run(tasks, serial=serial, workers=workers, scheduler=scheduler, done=done)
    return SweepTable(axes, tuple(given.items()), rows)


@dataclass(frozen=True)
class SweepTiming:
    """What a sweep cost (:func:`time_sweep`)."""

    workers: int
    """0: serial, in this process."""
    wall_seconds: float
    """From the start (the cluster's start included) to the table."""
    cpu_seconds: float
    """CPU of this process and of its children that ended (a local cluster's workers,
    closed at the end)."""
    task_cpu_seconds: float
    """CPU the tasks themselves took, as the table's CPU columns count it."""
    table: SweepTable


def time_sweep(
    models: Sequence[Path],
    grid: Sequence[str],
    workers: int,
    *,
    params: Mapping[str, str] | None = None,
    data: Sequence[Path] = (),
    options: Options = DEFAULT_OPTIONS,
    cache: Path | None = None,
    proofs: Path = DEFAULT_PROOFS,
) -> SweepTiming:
    """Run :func:`sweep` serially (``workers`` 0) or on a ``LocalCluster`` of ``workers``
    processes, and measure it: for the benchmark of the speed-up against the number of
    workers. Without a ``cache`` every point is verified again."""
    before = _cpu()
    started = time.monotonic()
    table = sweep(
        models,
        grid,
        params=params,
        data=data,
        options=options,
        cache=cache,
        proofs=proofs,
        serial=workers == 0,
        workers=workers or None,
    )
    wall = time.monotonic() - started
    spent: dict[tuple[str, Point], float] = {}
    for row in table.rows:  # a point's verify CPU repeats on each of its data rows
        key = (row.file, row.point)
        spent[key] = spent.get(key, row.verify_cpu_seconds) + (row.backtest_cpu_seconds or 0.0)
    return SweepTiming(workers, wall, _cpu() - before, sum(spent.values()), table)


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
