"""Benchmark ``verify``: the full portfolio against a BMC-only baseline, side by side.

Every model in ``models/`` and a growth series of generated models (``bench/gen.py``)
are verified with the default portfolio (``Options()``) and with BMC alone to depth 30
(``Options(engine="bmc", bmc_depth=30)``, which never proves anything). Each timing is
the wall-clock time of one ``verify_model`` call (structural and sanity checks
included), the median of several repeats. The run prints a table of times, ratios and
growth, where the time goes in each generated model, and the two acceptance targets;
it exits 1 when a target is missed or a generated model is not fully proved.

Run it with ``make bench`` or ``.venv/bin/python bench/run.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import z3
from gen import Size, generate
from machine import cpu_model, revision, utc_now
from rich.console import Console
from rich.table import Table

from checker.errors import ModelError
from checker.lang.loader import load_model, load_text
from checker.model import Model
from checker.results import ModelReport, Verdict
from checker.verify import Options, collect_files, verify_model

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"

SIZES = (Size(5, 4, 15), Size(10, 8, 30), Size(20, 12, 60), Size(35, 16, 105), Size(50, 20, 150))
"""The growth series of generated models (steps, state variables, transitions)."""

PORTFOLIO = Options()
BASELINE = Options(engine="bmc", bmc_depth=30)

BIG_TRANSITIONS = 100
"""Generated models with at least this many transitions are timed ``--big-repeats``
times instead of ``--repeats`` (a single run of them takes minutes)."""

SHARED_ENGINE = "houdini"
"""Limits proved by this engine were all proved by one lemma search before the limits;
each carries that search's time, which is counted once."""

TARGET_BIG = Size(50, 20, 150)
TARGET_BIG_SECONDS = 60.0
TARGET_MODELS_SECONDS = 5.0


@dataclass
class LimitTiming:
    """One limit's verdict in the median run."""

    name: str
    verdict: str
    engine: str
    seconds: float
    reason: str


@dataclass
class Timing:
    """Repeated runs of ``verify_model`` with one set of options; the details (verdicts,
    per-limit seconds) are those of the median run."""

    runs: list[float]
    limits: list[LimitTiming]
    findings: list[str]

    @property
    def seconds(self) -> float:
        """The median run's time (the higher middle one for an even count)."""
        return statistics.median_high(self.runs)

    @property
    def limit_seconds(self) -> float:
        """What the median run spent on the limits (a shared lemma search once)."""
        return sum(seconds for _, seconds in self.breakdown().values())

    @property
    def sanity_seconds(self) -> float:
        """What the median run spent outside the limits: building the transition
        system, structural and sanity checks (and a lemma search that proved none)."""
        return max(0.0, self.seconds - self.limit_seconds)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for lim in self.limits if lim.verdict == verdict.value)

    def searched_to_bound(self) -> int:
        """Limits on which BMC finished its search: a counterexample, or none up to the
        bound (the others hit the per-limit time limit first)."""
        return sum(
            1
            for lim in self.limits
            if lim.verdict == Verdict.REFUTED.value or lim.reason.startswith("bounded")
        )

    def breakdown(self) -> dict[str, tuple[int, float]]:
        """Limit count and seconds per verdict and engine, e.g. ``proved by spacer``."""
        parts: dict[str, tuple[int, float]] = {}
        for lim in self.limits:
            engine = lim.engine.split(" ")[0]
            key = f"{lim.verdict} by {engine}"
            count, seconds = parts.get(key, (0, 0.0))
            shared = engine == SHARED_ENGINE
            parts[key] = (count + 1, max(seconds, lim.seconds) if shared else seconds + lim.seconds)
        return parts

    def to_json(self) -> dict[str, Any]:
        return {
            "median_seconds": round(self.seconds, 3),
            "runs": [round(r, 3) for r in self.runs],
            "limit_seconds": round(self.limit_seconds, 3),
            "sanity_seconds": round(self.sanity_seconds, 3),
            "limits": [asdict(lim) | {"seconds": round(lim.seconds, 3)} for lim in self.limits],
            "findings": self.findings,
        }


@dataclass
class Row:
    """One benchmarked model: from ``models/`` or generated."""

    name: str
    generated: bool
    steps: int = 0
    variables: int = 0
    transitions: int = 0
    limits: int = 0
    portfolio: Timing | None = None
    baseline: Timing | None = None
    error: str = ""
    size: Size | None = None

    @property
    def fully_proved(self) -> bool:
        return self.portfolio is not None and self.portfolio.count(Verdict.PROVED) == self.limits

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "generated": self.generated,
            "steps": self.steps,
            "variables": self.variables,
            "transitions": self.transitions,
            "limits": self.limits,
            "error": self.error or None,
            "portfolio": self.portfolio.to_json() if self.portfolio else None,
            "baseline_bmc30": self.baseline.to_json() if self.baseline else None,
        }


def machine() -> dict[str, str]:
    """Where the benchmark runs: cores, CPU, memory, Python and z3 versions, date, and
    the seqprove commit."""
    cpu, memory = cpu_model(), "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
        "platform": platform.platform(),
        "date": utc_now(),
        "commit": revision(),
    }


def measure(model: Model, options: Options, repeats: int, note: Callable[[str], None]) -> Timing:
    """Verify ``model`` ``repeats`` times; keep every wall-clock time and the details
    of the median run."""
    runs: list[tuple[float, ModelReport]] = []
    for i in range(repeats):
        begun = time.perf_counter()
        report = verify_model(model, options)
        seconds = time.perf_counter() - begun
        runs.append((seconds, report))
        note(f"run {i + 1}/{repeats}: {seconds:.2f} s")
    median_report = sorted(runs, key=lambda r: r[0])[len(runs) // 2][1]
    limits = [
        LimitTiming(lim.name, lim.verdict.value, lim.engine, lim.seconds, lim.reason)
        for lim in median_report.limits
    ]
    findings = [f"{f.rule}: {f.message}" for f in median_report.findings]
    return Timing([s for s, _ in runs], limits, findings)


def bench_model(row: Row, model: Model, repeats: int, err: Console) -> Row:
    """Fill ``row`` with the model's size and both timings."""
    row.steps, row.variables = len(model.steps), len(model.state)
    row.transitions, row.limits = len(model.transitions), len(model.limits)
    for label, options in (("portfolio", PORTFOLIO), ("BMC-30", BASELINE)):
        timing = measure(
            model,
            options,
            repeats,
            lambda msg, label=label: err.print(f"  {row.name} {label} {msg}"),
        )
        if label == "portfolio":
            row.portfolio = timing
        else:
            row.baseline = timing
    return row


def bench_files(repeats: int, err: Console) -> list[Row]:
    """Every model file in ``models/``; one that does not load becomes an error row."""
    rows = []
    for path in collect_files([MODELS]):
        row = Row(path.stem, generated=False)
        try:
            model = load_model(path)
        except ModelError as exc:
            row.error = f"does not load: {exc.diagnostics[0]}"
            rows.append(row)
            continue
        rows.append(bench_model(row, model, repeats, err))
    return rows


def bench_generated(
    sizes: Sequence[Size], repeats: int, big_repeats: int, err: Console
) -> list[Row]:
    """The growth series; each model is generated, loaded and timed."""
    rows = []
    for size in sizes:
        model = load_text(generate(size), f"{size.label}.yaml")
        times = big_repeats if size.transitions >= BIG_TRANSITIONS else repeats
        rows.append(bench_model(Row(size.label, generated=True, size=size), model, times, err))
    return rows


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"


def _growth(rows: list[Row], i: int, pick: Callable[[Row], Timing | None]) -> str:
    """Time of row ``i`` over the previous generated row, for the chosen timing."""
    if i == 0 or not rows[i].generated or not rows[i - 1].generated:
        return "-"
    now, before = pick(rows[i]), pick(rows[i - 1])
    if now is None or before is None:
        return "-"
    return f"x{_ratio(now.seconds, before.seconds)}"


def results_table(rows: list[Row]) -> Table:
    """The side-by-side table: one row per model."""
    table = Table(title="verify: portfolio vs BMC-only to depth 30 (median seconds)")
    table.add_column("model", no_wrap=True)
    for name in (
        "steps/vars/trans/limits",
        "portfolio s",
        "of it sanity s",
        "proved",
        "BMC-30 s",
        "BMC got to 30",
        "portfolio/BMC",
        "size growth",
        "portfolio growth",
        "BMC growth",
    ):
        table.add_column(name, justify="right")
    for i, row in enumerate(rows):
        if row.portfolio is None or row.baseline is None:
            table.add_row(f"{row.name}: {row.error}", style="red")
            continue
        p, b = row.portfolio, row.baseline
        proved = f"{p.count(Verdict.PROVED)}/{row.limits}"
        if not row.fully_proved:
            proved = f"[red]{proved}[/red]"
        size_growth = "-"
        if i > 0 and row.generated and rows[i - 1].generated:
            size_growth = f"x{_ratio(row.transitions, rows[i - 1].transitions)}"
        table.add_row(
            row.name,
            f"{row.steps}/{row.variables}/{row.transitions}/{row.limits}",
            f"{p.seconds:.2f}",
            f"{p.sanity_seconds:.2f}",
            proved,
            f"{b.seconds:.2f}",
            f"{b.searched_to_bound()}/{row.limits}",
            _ratio(p.seconds, b.seconds),
            size_growth,
            _growth(rows, i, lambda r: r.portfolio),
            _growth(rows, i, lambda r: r.baseline),
            end_section=i + 1 < len(rows) and row.generated != rows[i + 1].generated,
        )
    return table


def breakdown_table(rows: list[Row]) -> Table:
    """Where the portfolio's time goes: per verdict and engine, and the sanity checks."""
    table = Table(title="where the portfolio's time goes (median run)")
    table.add_column("model", no_wrap=True)
    table.add_column("limits: verdict by engine: count, seconds")
    table.add_column("sanity s", justify="right")
    table.add_column("slowest limit")
    for row in rows:
        if row.portfolio is None:
            continue
        p = row.portfolio
        parts = "; ".join(
            f"{key}: {count}, {seconds:.2f}"
            for key, (count, seconds) in sorted(p.breakdown().items())
        )
        slowest = max(p.limits, key=lambda lim: lim.seconds, default=None)
        shown = f"{slowest.name} {slowest.seconds:.2f} s ({slowest.engine})" if slowest else ""
        table.add_row(row.name, parts, f"{p.sanity_seconds:.2f}", shown)
    return table


def acceptance(rows: list[Row]) -> dict[str, Any]:
    """The two targets: the big generated model fully proved in under 60 s, and all of
    ``models/`` verified in under 5 s in total."""
    big = next((r for r in rows if r.size == TARGET_BIG), None)
    files = [r for r in rows if not r.generated]
    files_ok = bool(files) and all(r.portfolio is not None for r in files)
    files_seconds = sum(r.portfolio.seconds for r in files if r.portfolio is not None)
    result: dict[str, Any] = {
        "models_total_seconds": round(files_seconds, 3),
        "models_target_seconds": TARGET_MODELS_SECONDS,
        "models_met": files_ok and files_seconds < TARGET_MODELS_SECONDS,
    }
    if big is not None and big.portfolio is not None:
        result |= {
            "big_model": big.name,
            "big_seconds": round(big.portfolio.seconds, 3),
            "big_proved": f"{big.portfolio.count(Verdict.PROVED)}/{big.limits}",
            "big_target_seconds": TARGET_BIG_SECONDS,
            "big_met": big.fully_proved and big.portfolio.seconds < TARGET_BIG_SECONDS,
        }
    return result


def report_acceptance(console: Console, result: dict[str, Any]) -> None:
    """Print each target with its measured figure."""

    def mark(ok: bool) -> str:
        return "[green]MET[/green]" if ok else "[red]MISSED[/red]"

    console.print(
        f"models/ total (portfolio): {result['models_total_seconds']:.2f} s, "
        f"target < {TARGET_MODELS_SECONDS:g} s: {mark(result['models_met'])}"
    )
    if "big_model" in result:
        console.print(
            f"{result['big_model']}: {result['big_seconds']:.2f} s, "
            f"{result['big_proved']} limits proved, target all proved in < "
            f"{TARGET_BIG_SECONDS:g} s: {mark(result['big_met'])}"
        )
    else:
        console.print(f"{TARGET_BIG.label}: not run (--quick)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 1 when a target is missed or a generated model is not fully
    proved, else 0."""
    parser = argparse.ArgumentParser(description="Benchmark verify: portfolio vs BMC-30.")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per timing, the median is reported (default 3)"
    )
    parser.add_argument(
        "--big-repeats",
        type=int,
        default=1,
        help=f"runs per timing for generated models with at least "
        f"{BIG_TRANSITIONS} transitions (default 1)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: models/ and the smallest generated size, one run each",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="save raw results here")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.big_repeats < 1:
        parser.error("repeats must be at least 1")
    repeats = 1 if args.quick else args.repeats
    sizes = SIZES[:1] if args.quick else SIZES

    console = Console() if sys.stdout.isatty() else Console(width=200)
    err = Console(stderr=True)
    info = machine()
    console.print(
        f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory']}; "
        f"Python {info['python']}, z3 {info['z3']}; {info['date']}; commit {info['commit']}"
    )
    rows = bench_files(repeats, err) + bench_generated(sizes, repeats, args.big_repeats, err)
    console.print(results_table(rows))
    console.print(breakdown_table(rows))
    result = acceptance(rows)
    report_acceptance(console, result)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "repeats": repeats,
                    "big_repeats": args.big_repeats,
                    "portfolio_options": asdict(PORTFOLIO),
                    "baseline_options": asdict(BASELINE),
                    "rows": [r.to_json() for r in rows],
                    "acceptance": result,
                },
                indent=2,
            )
            + "\n"
        )
    generated_ok = all(r.fully_proved for r in rows if r.generated)
    met = result["models_met"] and result.get("big_met", True)
    return 0 if generated_ok and met else 1


if __name__ == "__main__":
    sys.exit(main())
