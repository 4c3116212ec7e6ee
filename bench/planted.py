"""Planted bugs: the solver against random testing, side by side.

Each model in ``bench/planted/`` is a trading strategy with one planted bug: one limit
that breaks, after a number of ticks that a param sets. For every family and depth this
measures

- the solver: ``verify_model`` with the default portfolio (wall clock, best of up to
  ``--repeats`` runs), its verdict and the length of its counterexample, which must be
  the planted depth;
- random testing: for each of ``--seeds`` seeds, a Hypothesis test
  ``@given(runs(model, max_ticks=T, boundary=False))`` asserting ``run.broken() is None``,
  with ``max_examples=E``: whether it fails, and after how many examples;
- the same with ``boundary=True``: runs may start with one of the solver's boundary
  examples (``checker.testing.boundary``), found once per model before the seeds run.

Hypothesis runs without its shrink phase: a failure ends the test at once, and what is
counted is the examples up to the first failing one. The Hypothesis work runs in
``--jobs`` processes, after the solver timings (which run alone).

    .venv/bin/python bench/planted.py [--quick] [--markdown] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import hypothesis
import z3
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from machine import cpu_model, revision, utc_now
from rich.console import Console
from rich.table import Table

from checker.lang.loader import load_model
from checker.options import Options
from checker.results import Verdict
from checker.testing import Run, boundaries, runs
from checker.verify import verify_model

PLANTED = Path(__file__).resolve().parent / "planted"


@dataclass(frozen=True)
class Family:
    """One planted bug, at several depths: ``param`` set to each of ``values``."""

    name: str
    file: str
    param: str
    values: tuple[int, ...]
    offset: int  # the shortest counterexample has ``value + offset`` ticks
    quick: tuple[int, ...]  # the values of a --quick run

    @property
    def path(self) -> Path:
        return PLANTED / self.file


FAMILIES = (
    Family(
        "room off by one clip",
        "room_off_by_one.yaml",
        "max_position",
        values=(2, 8, 24, 48),
        offset=2,
        quick=(8,),
    ),
    Family(
        "stale-feed refresh",
        "stale_feed_refresh.yaml",
        "stale_ticks",
        values=(3, 15, 47),
        offset=1,
        quick=(3,),
    ),
    Family(
        "loss-streak halt",
        "loss_streak_halt.yaml",
        "max_losses",
        values=(4, 8, 12, 24, 32, 48),
        offset=0,
        quick=(4, 12),
    ),
    Family(
        "auction re-entry",
        "auction_reentry.yaml",
        "auction_ticks",
        values=(2, 4, 6, 8, 16, 32),
        offset=1,
        quick=(4,),
    ),
)


@dataclass(frozen=True)
class Row:
    family: Family
    value: int

    @property
    def depth(self) -> int:
        return self.value + self.family.offset

    @property
    def label(self) -> str:
        return f"{self.family.param}={self.value}"


@dataclass(frozen=True)
class Solved:
    """The solver's answer on one row: every run's wall-clock time, and the verdict."""

    verdict: str
    ticks: int | None
    engine: str
    reason: str
    limit_seconds: float
    runs: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.runs)


@dataclass(frozen=True)
class Hunt:
    """One Hypothesis test on one seed."""

    seed: int
    found: bool
    examples: int | None  # examples up to and including the first failing one
    calls: int  # examples run in all (the failing one is run again at the end)
    seconds: float
    tick: int | None  # where the first failing run broke the limit
    prefix: str  # the boundary example that run started with, if any


@dataclass(frozen=True)
class Hunts:
    """Every seed of one row, with or without boundary prefixes."""

    boundary: bool
    search_seconds: float | None  # the boundary search (once per model)
    prefixes: int  # distinct boundary prefixes the runs may start with
    missed: int  # boundary targets the search did not reach
    hunts: tuple[Hunt, ...]

    @property
    def found(self) -> int:
        return sum(h.found for h in self.hunts)

    @property
    def median_examples(self) -> float | None:
        counts = [h.examples for h in self.hunts if h.examples is not None]
        return statistics.median(counts) if counts else None

    @property
    def median_seconds(self) -> float:
        return statistics.median(h.seconds for h in self.hunts)


@dataclass(frozen=True)
class Config:
    seeds: int
    examples: int
    ticks: int
    boundary_seconds: float
    timeout: float
    repeats: int
    repeat_budget: float


def solve(row: Row, config: Config) -> Solved:
    """Verify ``row``'s model, up to ``config.repeats`` times (fewer once the runs so far
    took ``config.repeat_budget`` seconds); the best run counts."""
    model = load_model(row.family.path, {row.family.param: str(row.value)})
    options = Options(timeout=config.timeout)
    times: list[float] = []
    while len(times) < config.repeats and sum(times) < config.repeat_budget:
        started = time.perf_counter()
        report = verify_model(model, options)
        times.append(time.perf_counter() - started)
    if len(report.limits) != 1:
        raise SystemExit(f"{row.family.file}: expected one limit, got {len(report.limits)}")
    limit = report.limits[0]
    cex = limit.counterexample
    return Solved(
        limit.verdict.value,
        cex.length if cex is not None and limit.verdict is Verdict.REFUTED else None,
        limit.engine,
        limit.reason,
        limit.seconds,
        tuple(times),
    )


def hunt_one(strategy: st.SearchStrategy[Run], seed_value: int, max_examples: int) -> Hunt:
    """Run one Hypothesis test that asserts no limit breaks, on one seed."""
    calls = 0
    first: int | None = None
    where: tuple[int, str] | None = None

    def no_limit_breaks(run: Run) -> None:
        nonlocal calls, first, where
        calls += 1
        broken = run.broken()
        if broken is not None and first is None:
            first, where = calls, (broken[0], run.prefix)
        assert broken is None, f"{', '.join(broken[1])} broken at tick {broken[0]}"

    test = seed(seed_value)(
        settings(
            max_examples=max_examples,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.reuse, Phase.generate),  # no shrinking
            verbosity=Verbosity.quiet,
            print_blob=False,
        )(given(strategy)(no_limit_breaks))
    )
    started = time.perf_counter()
    failed = False
    try:
        test()
    except AssertionError:
        failed = True
    seconds = time.perf_counter() - started
    if failed != (first is not None):
        raise RuntimeError(f"seed {seed_value}: the test failed={failed}, first failure={first}")
    return Hunt(
        seed_value,
        failed,
        first,
        calls,
        seconds,
        where[0] if where else None,
        where[1] if where else "",
    )


def hunt_row(file: str, param: str, value: int, boundary: bool, config: Config) -> Hunts:
    """Every seed of one row (run in a worker process)."""
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # "overly large repr"
    model = load_model(PLANTED / file, {param: str(value)})
    search: float | None = None
    prefixes = missed = 0
    if boundary:
        started = time.perf_counter()
        found = boundaries(model, seconds=config.boundary_seconds)  # runs() reuses it
        search = time.perf_counter() - started
        prefixes, missed = len(found.prefixes()), len(found.missed)
    strategy = runs(
        model,
        max_ticks=config.ticks,
        boundary=boundary,
        boundary_seconds=config.boundary_seconds,
    )
    hunts = tuple(hunt_one(strategy, s, config.examples) for s in range(1, config.seeds + 1))
    return Hunts(boundary, search, prefixes, missed, hunts)


def machine() -> dict[str, str]:
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
        "hypothesis": hypothesis.__version__,
        "platform": platform.platform(),
        "date": utc_now(),
        "commit": revision(),
        "load_before": _load(),
    }


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews the times."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _seconds(s: float | None) -> str:
    return "-" if s is None else f"{s:.2f}"


def _median(m: float | None) -> str:
    return "-" if m is None else f"{m:g}"


def cells(row: Row, solved: Solved, random: Hunts, prefixed: Hunts) -> list[str]:
    seeds = len(random.hunts)
    verdict = (
        f"{solved.best:.2f}"
        if solved.verdict == Verdict.REFUTED.value
        else f"{solved.verdict.upper()} ({solved.best:.0f} s)"
    )
    return [
        row.family.name,
        row.label,
        "-" if solved.ticks is None else str(solved.ticks),
        verdict,
        f"{random.found}/{seeds}",
        _median(random.median_examples),
        f"{random.median_seconds:.1f}",
        _seconds(prefixed.search_seconds),
        f"{prefixed.found}/{seeds}",
        _median(prefixed.median_examples),
        f"{prefixed.median_seconds:.1f}",
    ]


HEADERS = (
    ("family", False),
    ("depth param", False),
    ("counterexample ticks", True),
    ("solver s", True),
    ("random: found", True),
    ("random: median examples", True),
    ("random: s/seed", True),
    ("boundary search s", True),
    ("with prefixes: found", True),
    ("with prefixes: median examples", True),
    ("with prefixes: s/seed", True),
)


def console_table(lines: list[list[str]], config: Config) -> Table:
    table = Table(
        title=(
            f"Planted bugs: solver against Hypothesis ({config.examples} examples of up to "
            f"{config.ticks} ticks, {config.seeds} seeds)"
        )
    )
    for name, right in HEADERS:
        table.add_column(name, justify="right" if right else "left")
    for line in lines:
        table.add_row(*line)
    return table


def markdown(lines: list[list[str]]) -> str:
    head = "| " + " | ".join(name for name, _ in HEADERS) + " |"
    rule = "|" + "|".join("---:" if right else "---" for _, right in HEADERS) + "|"
    return "\n".join([head, rule, *("| " + " | ".join(line) + " |" for line in lines)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, help="Hypothesis seeds (default 5)")
    parser.add_argument("--examples", type=int, help="examples per seed (default 200)")
    parser.add_argument("--ticks", type=int, default=60, help="longest random run (60)")
    parser.add_argument(
        "--boundary-seconds", type=float, default=10.0, help="boundary search budget (10)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="solver s per limit (120)")
    parser.add_argument("--repeats", type=int, default=3, help="solver runs, best kept (3)")
    parser.add_argument(
        "--repeat-budget",
        type=float,
        default=20.0,
        help="no further solver run once the runs of a row took this long (20 s)",
    )
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--quick", action="store_true", help="5 rows; 2 seeds, 50 examples, 1 solver run"
    )
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save raw results here")
    args = parser.parse_args(argv)
    seeds = args.seeds or (2 if args.quick else 5)
    examples = args.examples or (50 if args.quick else 200)
    if min(seeds, examples, args.ticks, args.repeats, args.jobs) < 1:
        parser.error("--seeds, --examples, --ticks, --repeats and --jobs must be at least 1")
    config = Config(
        seeds=seeds,
        examples=examples,
        ticks=args.ticks,
        boundary_seconds=args.boundary_seconds,
        timeout=args.timeout,
        repeats=1 if args.quick else args.repeats,
        repeat_budget=args.repeat_budget,
    )
    rows = [Row(f, v) for f in FAMILIES for v in (f.quick if args.quick else f.values)]

    console = Console() if sys.stdout.isatty() else Console(width=220)
    err = Console(stderr=True, soft_wrap=True)
    info = machine()
    console.print(
        f"machine: {info['nproc']} cores, {info['cpu']}; Python {info['python']}, "
        f"z3 {info['z3']}, Hypothesis {info['hypothesis']}; {info['date']}; "
        f"commit {info['commit']}; load average {info['load_before']}"
    )
    begun = time.perf_counter()
    solved: dict[Row, Solved] = {}
    for row in rows:
        solved[row] = solve(row, config)
        s = solved[row]
        err.print(
            f"[dim]solver {row.family.file} {row.label}: {s.verdict} {s.ticks} ticks, "
            f"best {s.best:.2f} s of {len(s.runs)}[/]"
        )
    solver_wall = time.perf_counter() - begun

    begun = time.perf_counter()
    hunts: dict[tuple[Row, bool], Hunts] = {}
    jobs = [(row, boundary) for row in rows for boundary in (False, True)]
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[Future[Hunts], tuple[Row, bool]] = {
            pool.submit(hunt_row, row.family.file, row.family.param, row.value, b, config): (
                row,
                b,
            )
            for row, b in jobs
        }
        for future, (row, b) in futures.items():
            hunts[row, b] = h = future.result()
            err.print(
                f"[dim]hypothesis {row.family.file} {row.label} "
                f"{'with prefixes' if b else 'random'}: found {h.found}/{config.seeds}, "
                f"median examples {_median(h.median_examples)}, "
                f"{sum(x.seconds for x in h.hunts):.1f} s[/]"
            )
    hypothesis_wall = time.perf_counter() - begun

    lines = [cells(row, solved[row], hunts[row, False], hunts[row, True]) for row in rows]
    console.print(console_table(lines, config))
    if args.markdown:
        console.print(markdown(lines), soft_wrap=True)
    console.print(
        f"solver: {solver_wall:.0f} s (best of up to {config.repeats} runs, timeout "
        f"{config.timeout:g} s per limit); Hypothesis: {hypothesis_wall:.0f} s in "
        f"{args.jobs} processes ({config.seeds} seeds x {config.examples} examples of up to "
        f"{config.ticks} ticks, boundary search budget {config.boundary_seconds:g} s)"
    )
    info["load_after"] = _load()
    console.print(f"load average after the run: {info['load_after']}")
    wrong = [
        row
        for row in rows
        if solved[row].verdict != Verdict.REFUTED.value or solved[row].ticks != row.depth
    ]
    for row in wrong:
        s = solved[row]
        console.print(
            f"[red]{row.family.file} {row.label}: expected REFUTED in {row.depth} ticks, got "
            f"{s.verdict.upper()} {s.ticks or ''} {s.reason}[/]"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "config": asdict(config),
                    "jobs": args.jobs,
                    "solver_wall_s": solver_wall,
                    "hypothesis_wall_s": hypothesis_wall,
                    "rows": [
                        _row_json(r, solved[r], hunts[r, False], hunts[r, True]) for r in rows
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if wrong else 0


def _row_json(row: Row, solved: Solved, random: Hunts, prefixed: Hunts) -> dict[str, Any]:
    return {
        "family": row.family.name,
        "file": row.family.file,
        "param": row.family.param,
        "value": row.value,
        "expected_ticks": row.depth,
        "solver": asdict(solved),
        "random": asdict(random),
        "with_prefixes": asdict(prefixed),
    }


if __name__ == "__main__":
    sys.exit(main())
