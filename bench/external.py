"""``seqprove verify`` against z3 Spacer on a direct encoding of the same file
(``bench/direct.py``), side by side, on the external benchmark suite
(``../shared/bench/external``: problems from CHC-COMP, Kind 2 and VMT translated into
model files) and, with ``--strategy``, on ``models/`` and the generated models of
``bench/run.py``.

Every problem is run by both tools, each in a fresh process, with the same budget:
``--timeout`` CPU seconds for the whole process (start-up included), enforced on both
alike by ``RLIMIT_CPU``; a tool that reaches it is killed and its verdict is
``unknown``. Each tool's own guard is set to the same figure: ``seqprove verify
--timeout S`` (wall clock per limit; its resource-unit budget per limit stays its
default unless ``--units``), ``direct.py --timeout S`` (CPU seconds for the file, each
query bounded by z3's wall-clock timeout). The CPU seconds of each child (user +
system) come from ``os.wait4``.

    .venv/bin/python bench/external.py [--timeout S] [--jobs N] [--only PATTERN]
                                       [--strategy] [--markdown] [--json FILE]
                                       [--units N] [--suite DIR]

It exits 1 when a verdict is wrong (against ``expected.json``, or the two tools
contradict each other), else 0.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import fnmatch
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from direct import combined
from gen import generate
from machine import cpu_model, print_table, revision, utc_now
from run import SIZES

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT.parent / "shared" / "bench" / "external"
MODELS = ROOT / "models"
BIN = Path(sys.executable).parent
DIRECT = ROOT / "bench" / "direct.py"

WALL_FACTOR = 4
"""A child still running after this many times its CPU budget (plus 30 s) of wall
clock is killed: a guard for a machine so loaded that the CPU limit comes too late."""

STARTUP = "import checker.cli, checker.lang.loader, checker.verify"
"""What ``seqprove verify`` imports before it reads a file; its CPU seconds in a fresh
interpreter, measured apart, are its start-up."""


LIMITED = (
    "import os, resource, sys; n = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_CPU, (n, n + 2)); os.execv(sys.argv[2], sys.argv[2:])"
)
"""Where ``prlimit`` is missing: limit this process's CPU seconds, then exec the command
(the limit and the CPU count carry over)."""


@dataclass
class Run:
    """One tool on one problem."""

    verdict: str = "unknown"  # proved, refuted, unknown, not loaded, or error (crashed)
    cpu: float = 0.0  # CPU seconds of the child, user + system
    wall: float = 0.0
    reason: str = ""
    inner: float | None = None  # seqprove: the report's seconds; direct: load+encode+solve
    verdicts: dict[str, str] = field(default_factory=dict)  # per limit (or obligation)


@dataclass
class Problem:
    name: str  # group/stem
    file: str
    expect: str  # proved, refuted, or "-" when not known
    oracle_seconds: float | None = None  # Spacer on the original smt2 (expected.json)
    seqprove: Run = field(default_factory=Run)
    direct: Run = field(default_factory=Run)

    def solved(self, run: Run) -> bool:
        return run.verdict in ("proved", "refuted") and self.expect in ("-", run.verdict)

    def wrong(self) -> list[str]:
        """What is wrong: a decided verdict against the expected one, or the two tools
        deciding opposite verdicts, or a limit they decide opposite ways."""
        found = []
        for tool, run in (("seqprove", self.seqprove), ("direct", self.direct)):
            decided = run.verdict in ("proved", "refuted")
            if decided and self.expect not in ("-", run.verdict):
                found.append(f"{tool} says {run.verdict}, expected {self.expect}")
        for name, a in self.seqprove.verdicts.items():
            b = self.direct.verdicts.get(name)
            if {a, b} == {"proved", "refuted"}:
                found.append(f"{name}: seqprove says {a}, direct says {b}")
        return found

    def ratio(self) -> float | None:
        """seqprove's CPU over direct's, when both solve the problem."""
        if self.solved(self.seqprove) and self.solved(self.direct) and self.direct.cpu > 0:
            return self.seqprove.cpu / self.direct.cpu
        return None


def external_problems(suite: Path, only: str | None) -> list[Problem]:
    """Every problem of the suite, by folder, with its expected verdict."""
    problems = []
    for expected in sorted(suite.glob("*/expected.json")):
        group = expected.parent
        for name, info in sorted(json.loads(expected.read_text())["problems"].items()):
            problems.append(
                Problem(
                    f"{group.name}/{name}",
                    str(group / info["model"]),
                    info.get("expect", "-"),
                    info.get("oracle_seconds"),
                )
            )
    return [p for p in problems if _selected(p.name, only)]


def strategy_problems(only: str | None, scratch: Path) -> list[Problem]:
    """``models/*.yaml`` (verdicts not given: the two tools must agree) and the
    generated models (every limit true), written to ``scratch``."""
    problems = [Problem(f"models/{f.stem}", str(f), "-") for f in sorted(MODELS.glob("*.yaml"))]
    for size in SIZES:
        path = scratch / f"{size.label}.yaml"
        path.write_text(generate(size))
        problems.append(Problem(f"generated/{size.label}", str(path), "proved"))
    return [p for p in problems if _selected(p.name, only)]


def _selected(name: str, only: str | None) -> bool:
    return only is None or only in name or fnmatch.fnmatch(name, only)


def limited_child(command: list[str], cpu_seconds: float, cwd: Path) -> tuple[int, str, Run]:
    """Run ``command`` under a CPU limit: its exit status (negative: the signal that
    ended it), its standard output, and a Run with its CPU and wall seconds."""
    limit = math.ceil(cpu_seconds)
    if shutil.which("prlimit"):
        prefix = ["prlimit", f"--cpu={limit}:{limit + 2}", "--"]
    else:  # the same by hand: set the limit, then become the command
        prefix = [sys.executable, "-I", "-S", "-c", LIMITED, str(limit)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        begun = time.monotonic()
        child = subprocess.Popen(
            [*prefix, *command], stdout=out, stderr=err, cwd=cwd, start_new_session=True
        )
        guard = threading.Timer(
            WALL_FACTOR * cpu_seconds + 30, lambda: _kill(child.pid, signal.SIGKILL)
        )
        guard.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            guard.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        run = Run(cpu=usage.ru_utime + usage.ru_stime, wall=time.monotonic() - begun)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        if child.returncode < 0 or child.returncode > 4:
            run.reason = err.read().decode(errors="replace").strip()[-300:]
    return child.returncode, text, run


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _killed(code: int, run: Run, budget: float) -> bool:
    if code >= 0:
        return False
    if code == -signal.SIGXCPU or (code == -signal.SIGKILL and run.cpu >= budget):
        run.reason = f"killed at the CPU budget ({budget:g} s)"
    else:
        run.reason = f"killed by signal {-code} (the wall-clock guard, or from outside)"
    run.verdict = "unknown"
    return True


def run_seqprove(problem: Problem, budget: float, scratch: Path, units: int | None) -> Run:
    command = [
        str(BIN / "seqprove"),
        "verify",
        problem.file,
        "--json",
        "--no-cache",
        "--jobs",
        "1",
        "--timeout",
        f"{budget:g}",
        "--proofs",
        str(scratch / "proofs"),
        *(["--budget", str(units)] if units else []),
    ]
    code, text, run = limited_child(command, budget, scratch)
    if _killed(code, run, budget):
        return run
    try:
        report = json.loads(text)["models"][0]
    except (ValueError, KeyError, IndexError):
        run.verdict, run.reason = "error", f"exit {code}, no report: {run.reason}"
        return run
    if report.get("internal_error"):
        run.verdict, run.reason = "error", str(report["internal_error"])[:300]
        return run
    if report.get("errors") and not report["limits"]:
        run.verdict = "not loaded"
        run.reason = "; ".join(e["message"] for e in report["errors"])[:300]
        return run
    run.verdicts = {lim["name"]: lim["verdict"] for lim in report["limits"]}
    run.verdict = combined(list(run.verdicts.values()))
    run.inner = report.get("seconds")
    run.reason = "; ".join(
        f"{lim['name']}: {lim['reason']}" for lim in report["limits"] if lim["verdict"] == "unknown"
    )[:300]
    return run


def run_direct(problem: Problem, budget: float, scratch: Path) -> Run:
    command = [sys.executable, str(DIRECT), problem.file, "--json", "--timeout", f"{budget:g}"]
    code, text, run = limited_child(command, budget, scratch)
    if _killed(code, run, budget):
        return run
    try:
        result = json.loads(text.splitlines()[-1])
    except (ValueError, IndexError):
        run.verdict, run.reason = "error", f"exit {code}, no result: {run.reason}"
        return run
    if result["error"]:
        run.verdict, run.reason = "not loaded", result["error"][:300]
        return run
    run.verdicts = {q["name"]: q["verdict"] for q in result["queries"]}
    run.verdict = result["verdict"]
    run.inner = result["load_seconds"] + result["encode_seconds"] + result["solve_seconds"]
    run.reason = "; ".join(
        f"{q['name']}: {q['reason']}" for q in result["queries"] if q["verdict"] == "unknown"
    )[:300]
    return run


def measure(problem: Problem, budget: float, scratch: Path, units: int | None) -> Problem:
    problem.seqprove = run_seqprove(problem, budget, scratch, units)
    problem.direct = run_direct(problem, budget, scratch)
    return problem


def _shown(run: Run) -> str:
    return run.verdict


def table(problems: list[Problem], markdown: bool) -> None:
    header = [
        "problem",
        "expected",
        "seqprove",
        "seqprove CPU s",
        "verify s in report (wall)",
        "direct",
        "direct CPU s",
        "of it load+solve s",
        "seqprove/direct",
        "oracle s",
    ]
    rows = []
    for p in problems:
        ratio = p.ratio()
        rows.append(
            [
                p.name,
                p.expect,
                _shown(p.seqprove),
                f"{p.seqprove.cpu:.2f}",
                "-" if p.seqprove.inner is None else f"{p.seqprove.inner:.2f}",
                _shown(p.direct),
                f"{p.direct.cpu:.2f}",
                "-" if p.direct.inner is None else f"{p.direct.inner:.2f}",
                "-" if ratio is None else f"{ratio:.1f}x",
                "-" if p.oracle_seconds is None else f"{p.oracle_seconds:.2f}",
            ]
        )
    print_table(header, rows, markdown)


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def summary(title: str, problems: list[Problem], startup: float) -> dict[str, Any]:
    """The figures of one set of problems, printed and returned."""
    loaded = [p for p in problems if "not loaded" not in (p.seqprove.verdict, p.direct.verdict)]
    errors = {
        f"{p.name} ({tool})": run.reason
        for p in problems
        for tool, run in (("seqprove", p.seqprove), ("direct", p.direct))
        if run.verdict == "error"
    }
    by_seqprove = [p.name for p in loaded if p.solved(p.seqprove)]
    by_direct = [p.name for p in loaded if p.solved(p.direct)]
    both = [p for p in loaded if p.ratio() is not None]
    ratios = [r for p in both if (r := p.ratio()) is not None]
    inner = [
        (p.seqprove.cpu - startup) / p.direct.inner
        for p in both
        if p.direct.inner and p.seqprove.cpu > startup
    ]
    wrong = {p.name: w for p in problems if (w := p.wrong())}
    figures: dict[str, Any] = {
        "problems": len(problems),
        "not_loaded": [p.name for p in problems if p not in loaded],
        "errors": errors,
        "solved_seqprove": len(by_seqprove),
        "solved_direct": len(by_direct),
        "solved_both": len(both),
        "only_seqprove": sorted(set(by_seqprove) - set(by_direct)),
        "only_direct": sorted(set(by_direct) - set(by_seqprove)),
        "wrong": wrong,
        "median_ratio": statistics.median(ratios) if ratios else None,
        "geomean_ratio": geomean(ratios) if ratios else None,
        "median_inner_ratio": statistics.median(inner) if inner else None,
        "slowest": sorted(
            ((p.name, p.seqprove.cpu, p.direct.cpu, p.ratio()) for p in both),
            key=lambda row: -(row[3] or 0),
        )[:10],
    }
    print(f"\n{title}: {len(problems)} problems", end="")
    if figures["not_loaded"]:
        print(
            f", of which {len(figures['not_loaded'])} do not load: "
            + ", ".join(figures["not_loaded"]),
            end="",
        )
    print(".")
    print(
        f"- solved (correct verdict within the budget): seqprove {len(by_seqprove)}, "
        f"direct {len(by_direct)}, both {len(both)}"
    )
    print(f"- solved by seqprove only: {', '.join(figures['only_seqprove']) or 'none'}")
    print(f"- solved by direct only: {', '.join(figures['only_direct']) or 'none'}")
    for name, why in errors.items():
        print(f"- error: {name}: {why}")
    print(f"- wrong verdicts: {len(wrong)}")
    for name, what in wrong.items():
        print(f"  - {name}: {'; '.join(what)}")
    if ratios:
        print(
            f"- seqprove/direct CPU over the {len(ratios)} solved by both (whole process, "
            f"start-up included): median {figures['median_ratio']:.2f}x, geometric mean "
            f"{figures['geomean_ratio']:.2f}x"
        )
    if inner:
        print(
            f"- without start-up: seqprove's CPU minus its start-up ({startup:.2f} s) over "
            f"direct's load + encode + solve: median {figures['median_inner_ratio']:.2f}x, "
            f"geometric mean {geomean(inner):.2f}x"
        )
    if figures["slowest"]:
        print("- where seqprove is slowest against direct (seqprove CPU s / direct CPU s):")
        for name, s, d, r in figures["slowest"]:
            print(f"  - {name}: {s:.2f} / {d:.2f} = {r:.1f}x")
    return figures


def startup_seconds(scratch: Path) -> float:
    """seqprove verify's start-up: the CPU seconds of a fresh interpreter importing what
    it imports before it reads a file (the least of 3)."""
    return min(limited_child([sys.executable, "-c", STARTUP], 60, scratch)[2].cpu for _ in range(3))


def machine(budget: float, jobs: int) -> dict[str, Any]:
    import z3

    return {
        "date": utc_now(),
        "commit": revision(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "z3": z3.get_version_string(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "budget_cpu_seconds": budget,
        "jobs": jobs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="CPU seconds per problem for each tool, start-up included (default 60)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="problems run at once (default 1; each runs its two tools one after the "
        "other). More than the idle cores makes wall-clock guards bind earlier",
    )
    parser.add_argument("--only", help="only problems whose group/name contains or matches this")
    parser.add_argument(
        "--strategy", action="store_true", help="also models/ and the generated models"
    )
    parser.add_argument(
        "--units",
        type=int,
        help="seqprove verify --budget (resource units per limit; default: its own)",
    )
    parser.add_argument(
        "--suite", type=Path, default=SUITE, help=f"the external suite (default {SUITE})"
    )
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save the raw results here")
    args = parser.parse_args(argv)

    info = machine(args.timeout, args.jobs)
    print(
        f"{info['date']}, commit {info['commit']}, {info['cores']} cores ({info['cpu']}), "
        f"Python {info['python']}, z3 {info['z3']}; load {info['load_before']} before the run; "
        f"budget {args.timeout:g} CPU s per problem and tool; --jobs {args.jobs}"
    )
    sets: dict[str, list[Problem]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-external-") as tmp:
        scratch = Path(tmp)
        startup = startup_seconds(scratch)
        info["seqprove_startup_cpu_seconds"] = startup
        if args.suite.is_dir():
            sets["External suite"] = external_problems(args.suite, args.only)
        else:
            print(f"\nThe external suite is not at {args.suite}: skipped.")
        if args.strategy:
            sets["Strategy models"] = strategy_problems(args.only, scratch)
        for problems in sets.values():
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                futures = [
                    pool.submit(measure, p, args.timeout, scratch, args.units) for p in problems
                ]
                for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                    p = future.result()
                    print(
                        f"[{done}/{len(problems)}] {p.name}: seqprove {_shown(p.seqprove)} "
                        f"{p.seqprove.cpu:.2f} s, direct {_shown(p.direct)} {p.direct.cpu:.2f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    figures = {}
    for title, problems in sets.items():
        print(f"\n### {title}\n")
        table(problems, args.markdown)
        figures[title] = summary(title, problems, startup)
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nLoad {info['load_after']} after the run.")
    if args.json:
        raw = {
            "machine": info,
            "sets": {t: [asdict(p) for p in ps] for t, ps in sets.items()},
            "figures": figures,
        }
        args.json.write_text(json.dumps(raw, indent=1))
    return 1 if any(f["wrong"] for f in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
