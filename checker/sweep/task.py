"""One task of a sweep, as a worker runs it: a model at one grid point is loaded and
verified the way ``seqprove verify --param`` does it (the shared cache, a proof record
for a proof), then, past the proof gate of ``seqprove run``, backtested on each data
file as ``seqprove run --no-journal --no-plot`` would. The task gives one row per data
file (one row without data), and never raises: bad input and tool bugs are rows too.

Paths in a task are absolute, so that a worker started elsewhere (another machine with
the same files, ``--scheduler``) finds them; the table and messages show them as given.
Heavy modules (sympy, z3, the executor) are imported by the task, in the worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.errors import Diagnostic, ModelError, SeqproveError
from checker.options import Options
from checker.results import exit_code
from checker.sweep.grid import Point

if TYPE_CHECKING:
    from checker.model import Model
    from checker.results import ModelReport

VERDICTS = {0: "proved", 1: "refuted", 2: "unknown", 3: "bad input", 4: "internal error"}
"""The ``verdict`` of a row from the exit code ``seqprove verify`` gives its model."""
_CODES = {verdict: code for code, verdict in VERDICTS.items()}


@dataclass(frozen=True)
class Task:
    """A model file at one grid point, and the data files to backtest it on."""

    file: str
    """The model file as given (the table's ``file``)."""
    path: str
    """The model file's absolute path."""
    point: Point
    params: tuple[tuple[str, str], ...]
    """Every override passed to the loader: the ``--param`` values and the point's."""
    data: tuple[tuple[str, str], ...]
    """Each data file: (as given, absolute path)."""
    options: Options
    cache: str | None
    """The shared cache's absolute path; None: no cache (``--no-cache``)."""
    proofs: str
    """Where proof records are written and the gate reads them (absolute)."""


@dataclass(frozen=True)
class Row:
    """One row of the table: a model at a grid point, on one data file or none. The
    fields after ``error`` depend on the run (the cache, the worker, the machine's
    speed); all the others are the same on every run of the same sweep."""

    file: str
    strategy: str | None
    point: Point
    data: str | None
    verdict: str
    proved: int = 0
    refuted: int = 0
    unknown: int = 0
    structural_errors: int = 0
    refuted_limits: str = ""
    unknown_limits: str = ""
    backtest: str | None = None
    run_exit: int | None = None
    outcome: str | None = None
    outcome_tick: int | None = None
    outcome_message: str | None = None
    ticks: int | None = None
    actions: int | None = None
    orders: int | None = None
    fills: int | None = None
    rejected_actions: int | None = None
    denials: int | None = None
    assumption_breaches: int | None = None
    limit_breaches: int | None = None
    pnl: float | None = None
    max_abs_position: str | None = None
    final_step: str | None = None
    fill_model: str | None = None
    error: str | None = None
    cached: bool = False
    worker: str = "local"
    verify_seconds: float = 0.0
    verify_cpu_seconds: float = 0.0
    backtest_seconds: float | None = None
    backtest_cpu_seconds: float | None = None

    @property
    def exit_code(self) -> int:
        """The row's exit code: its verdict's (0 to 4, as ``verify``'s), made 3 by bad
        market data, 1 by a limit broken in the backtest and 4 by a backtest that hit a
        bug. A backtest the assumption monitor stopped changes nothing: the data left
        the envelope the proof assumes, which the table shows."""
        codes = [_CODES[self.verdict]]
        if self.backtest == "bad data":
            codes.append(3)
        elif self.backtest == "internal error":
            codes.append(4)
        elif self.outcome == "limit":
            codes.append(1)
        return exit_code(codes)


_ONE_AT_A_TIME = threading.Lock()
"""Held by the task running in this process: a Dask worker with several threads still
runs one task at a time (z3 is not used from two threads at once here)."""


def run_task(task: Task) -> tuple[Row, ...]:
    """Verify ``task``'s model at its point and backtest it on each data file; one row
    per data file, or one row without data. Never raises (but for an interrupt).

    Python's cyclic garbage collector runs the finalizers of the garbage it finds in
    whichever thread happens to trigger it; a z3 object's finalizer frees it in its z3
    context, which is not safe while another thread uses that context. In a Dask worker
    the collector would mostly run in the event-loop thread, while this task uses z3 in
    another: a crash, or a hang inside z3. So while a task runs, automatic collection is
    off in its process, and the task collects its own garbage, in its own thread, before
    it returns."""
    with _ONE_AT_A_TIME:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return _rows(task)
        finally:
            gc.collect()
            if collecting:
                gc.enable()


def _rows(task: Task) -> tuple[Row, ...]:
    started, cpu = time.monotonic(), time.thread_time()
    report: ModelReport | None = None
    model: Model | None = None
    try:
        report, model = _verify(task)
        base = _verified(task, report)
    except SeqproveError as exc:  # the installation's key, say: bad input, not a bug
        base = Row(task.file, None, task.point, None, "bad input", error=_brief(str(exc)))
    except Exception as exc:  # a bug in seqprove: this task's rows, not the sweep's end
        error = _brief(f"{type(exc).__name__}: {exc}")
        base = Row(task.file, None, task.point, None, "internal error", error=error)
    base = dataclasses.replace(
        base,
        worker=_worker(),
        verify_seconds=time.monotonic() - started,
        verify_cpu_seconds=time.thread_time() - cpu,
    )
    if not task.data:
        return (base,)
    why = "internal error" if report is None else _not_proved(report)
    if model is None or why is not None:
        return tuple(
            dataclasses.replace(base, data=shown, backtest=f"skipped: {why}")
            for shown, _ in task.data
        )
    return tuple(_backtest(task, model, base, shown, Path(path)) for shown, path in task.data)


def warm_up() -> None:
    """Import what a task needs (sympy, z3, the executor: seconds), so that a worker
    does it before its first task rather than inside that task's time."""
    import checker.cache
    import checker.lang.loader
    import checker.run.executor
    import checker.run.report
    import checker.verify  # noqa: F401


def _worker() -> str:
    """The Dask worker running this task (its address), or ``local``."""
    if "distributed" not in sys.modules:  # a serial sweep imports no Dask
        return "local"
    from distributed import get_worker

    try:
        return str(get_worker().address)
    except ValueError:  # not in a worker
        return "local"


def _brief(message: str, limit: int = 600) -> str:
    return message if len(message) <= limit else message[:limit] + " ..."


def _shown(diagnostics: Sequence[Diagnostic], file: str) -> str:
    """Diagnostics as ``FILE:LINE:COLUMN: message`` lines, naming ``file`` as given."""
    return "\n".join(str(dataclasses.replace(d, file=file)) for d in diagnostics)


def _verify(task: Task) -> tuple[ModelReport, Model | None]:
    """The report of ``task``'s model at its point (None for the model when it does not
    load: the report then holds the loader's errors)."""
    from checker.lang.loader import load_model
    from checker.results import ModelReport

    overrides = dict(task.params)
    try:
        model = load_model(task.path, overrides)
    except ModelError as exc:
        errors = tuple(_from_grid(d, task) for d in exc.diagnostics)
        return ModelReport(file=task.file, strategy=None, errors=errors), None
    report = verify_point(model, overrides, task.options, task.cache, Path(task.proofs))
    return report, model


def _from_grid(diagnostic: Diagnostic, task: Task) -> Diagnostic:
    """``diagnostic`` naming the model file as given, and the option that set a value as
    the user wrote it: the loader takes a grid value as a ``--param``."""
    message = diagnostic.message
    for name, _ in task.point:
        if message.startswith((f"--param {name}=", f"--param {name}:")):
            message = "--grid" + message[len("--param") :]
    return dataclasses.replace(diagnostic, file=task.file, message=message)


def verify_point(
    model: Model,
    overrides: Mapping[str, str],
    options: Options,
    cache: str | None,
    proofs: Path,
) -> ModelReport:
    """Verify ``model`` as ``seqprove verify`` does one file: answered from the cache in
    ``cache`` when it holds this model's report, else verified and stored there; a proof
    record written to ``proofs`` for a proof; the cache's quick index filled, so that
    ``seqprove verify --param`` with these values later answers without loading it."""
    from checker.cache import Cache, cache_key, cacheable
    from checker.fastcache import remember
    from checker.run.gate import write_record
    from checker.verify import verify_file_model

    store = Cache(Path(cache)) if cache is not None else None
    hit = store.get(model, options) if store is not None else None
    if hit is not None:
        report = dataclasses.replace(hit, cached=True, seconds=0.0)
    else:
        report = verify_file_model(model, options)
    record = write_record(model, report, proofs) if options.sanity else None
    if store is not None and cacheable(report, options):
        with contextlib.suppress(OSError):  # a cache that cannot be written
            if hit is None:
                store.put(model, options, report)
            name = record.name if record is not None else ""
            key = cache_key(model, options)
            remember(store.directory, model.source_sha256, overrides, options, key, name)
    return report


def _verified(task: Task, report: ModelReport) -> Row:
    """The verify columns of ``task``'s row from its report."""
    from checker.results import Severity, Verdict

    code = report.exit_code
    error = None
    if report.errors:
        error = _shown(report.errors, task.file)
    elif report.internal_error is not None:
        error = report.internal_error
    by = {v: [lim.name for lim in report.limits if lim.verdict is v] for v in Verdict}
    return Row(
        task.file,
        report.strategy,
        task.point,
        None,
        VERDICTS[code],
        proved=len(by[Verdict.PROVED]),
        refuted=len(by[Verdict.REFUTED]),
        unknown=len(by[Verdict.UNKNOWN]),
        structural_errors=sum(f.severity is Severity.ERROR for f in report.findings),
        refuted_limits=", ".join(by[Verdict.REFUTED]),
        unknown_limits=", ".join(by[Verdict.UNKNOWN]),
        error=error,
        cached=report.cached,
    )


def _not_proved(report: ModelReport) -> str | None:
    """Why the gate of ``seqprove run`` stays shut for ``report``, or None: proved."""
    from checker.results import Severity, Verdict
    from checker.run.gate import proved

    if proved(report):
        return None
    if report.errors:
        return "the model does not load"
    if report.internal_error is not None:
        return "internal error"
    refuted = [lim.name for lim in report.limits if lim.verdict is Verdict.REFUTED]
    if refuted:
        return f"refuted ({', '.join(refuted)})"
    if any(f.severity is Severity.ERROR for f in report.findings):
        return "structural error"
    if not report.limits:
        return "no limits to prove"
    return f"unknown ({', '.join(lim.name for lim in report.limits)})"


def _backtest(task: Task, model: Model, base: Row, shown: str, path: Path) -> Row:
    """``base`` with the backtest columns of ``model`` over the data file ``path``."""
    started, cpu = time.monotonic(), time.thread_time()
    row = dataclasses.replace(base, data=shown)
    try:
        row = _run(task, model, row, shown, path)
    except Exception as exc:  # a bug in seqprove: this row says so
        row = dataclasses.replace(
            row, backtest="internal error", error=_brief(f"{type(exc).__name__}: {exc}")
        )
    return dataclasses.replace(
        row,
        backtest_seconds=time.monotonic() - started,
        backtest_cpu_seconds=time.thread_time() - cpu,
    )


def _run(task: Task, model: Model, row: Row, shown: str, path: Path) -> Row:
    from checker.run.data import read_feed
    from checker.run.executor import Executor
    from checker.run.gate import check
    from checker.run.report import RunReport

    decision = check(model, Path(task.proofs))
    if not decision.admitted:
        return dataclasses.replace(row, backtest=f"skipped: {decision.reason}")
    try:
        feed = read_feed(path, model)
        executor = Executor(model, feed, None, admitted_by=decision.reason)
    except ModelError as exc:  # DataError is one: the file, or a venue it cannot feed
        return dataclasses.replace(row, backtest="bad data", error=_shown(exc.diagnostics, shown))
    except SeqproveError as exc:
        return dataclasses.replace(row, backtest="bad data", error=str(exc))
    executor.start()
    started = time.monotonic()
    outcome = executor.run()
    report = RunReport.of(executor, shown, decision.reason, time.monotonic() - started)
    data = report.to_json()
    return dataclasses.replace(
        row,
        backtest="ran",
        run_exit=outcome.exit_code,
        outcome=outcome.reason,
        outcome_tick=outcome.tick,
        outcome_message=outcome.message,
        ticks=data["ticks"],
        actions=data["actions"],
        orders=data["orders"],
        fills=data["fills"],
        rejected_actions=data["rejected_actions"],
        denials=sum(data["denials"].values()),
        assumption_breaches=len(data["assumption_breaches"]),
        limit_breaches=len(data["limit_breaches"]),
        pnl=float(Fraction(report.pnl)),
        max_abs_position=_positions(data),
        final_step=executor.config.step,
        fill_model=data.get("fill_model", {}).get("name"),
    )


def _positions(data: Mapping[str, Any]) -> str:
    """The largest absolute position of the run: of the one book (``40``), or of each
    instrument's (``perp=40, spot=3``), as the run report gives them."""
    if "instruments" in data:
        return ", ".join(f"{n}={i['max_abs_position']}" for n, i in data["instruments"].items())
    return str(data["max_abs_position"])
