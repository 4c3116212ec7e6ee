"""What trustworthy verdicts cost: deterministic budgets and the independent second
check, side by side with the same verify without them.

Each configuration verifies the same files in a fresh process and reports the CPU
seconds of that process (user + system: wall-clock time swings with the machine's load,
CPU time much less) and the verdicts, which must agree across configurations:

- ``default``: what ``seqprove verify`` does (resource-unit budgets, the second check
  of every PROVED);
- ``no-audit``: the same without the independent re-check of proofs;
- ``wall-clock``: without the resource accounting (solvers bounded by a timeout only,
  no statistics read after each check), as budgets were before, and without the
  re-check.

    .venv/bin/python bench/trust.py [--repeats N] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from machine import cpu_model, revision, run_child, utc_now

ROOT = Path(__file__).resolve().parent.parent

MODES = ("default", "no-audit", "wall-clock")

CHILD = r"""
import json, resource, sys
from pathlib import Path
mode, files = sys.argv[1], sys.argv[2:]
import z3
from checker.engines import base
from checker.lang.loader import load_model
from checker.options import DEFAULT_OPTIONS
from checker.verify import verify_model
if mode in ("no-audit", "wall-clock"):
    import checker.verify as verify
    verify.confirm = lambda model, name, outcome, *rest: outcome
if mode == "wall-clock":
    base.Meter.sync = lambda self: None
    base.Meter.read = lambda self, stats: None
    base.Budget.arm = lambda self, solver: solver.set("timeout", self.ms())
    def check(self, solver, *assumptions):
        if self.expired:
            return z3.unknown
        solver.set("timeout", self.ms())
        return solver.check(*assumptions)
    base.Budget.check = check
models = [load_model(Path(f)) for f in files]
before = resource.getrusage(resource.RUSAGE_SELF)
verdicts = []
for m in models:
    report = verify_model(m, DEFAULT_OPTIONS)
    verdicts += [[m.strategy, l.name, l.verdict.value] for l in report.limits]
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"cpu": cpu, "verdicts": verdicts}))
"""


def run(mode: str, files: list[Path]) -> dict[str, Any]:
    return run_child(CHILD, mode, *map(str, files), what=f"{mode} failed")


def suites(scratch: Path) -> dict[str, list[Path]]:
    generated = scratch / "generated_50_20_150.yaml"
    generated.write_text(
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "gen.py"), "50", "20", "150"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    return {"models/": sorted((ROOT / "models").glob("*.yaml")), "50/20/150": [generated]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (best kept)")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, files in suites(Path(scratch)).items():
            found: dict[str, dict[str, Any]] = {}
            for mode in MODES:
                runs = [run(mode, files) for _ in range(args.repeats)]
                best = min(runs, key=lambda r: float(r["cpu"]))
                found[mode] = best
                print(f"{name:10} {mode:11} {best['cpu']:8.2f} s CPU", file=sys.stderr)
            agree = all(found[m]["verdicts"] == found["default"]["verdicts"] for m in MODES)
            if not agree:
                raise SystemExit(f"{name}: the verdicts differ between configurations")
            base_cpu = float(found["wall-clock"]["cpu"])
            rows.append(
                (
                    name,
                    len(found["default"]["verdicts"]),
                    *(float(found[m]["cpu"]) for m in MODES),
                    float(found["no-audit"]["cpu"]) / base_cpu,
                    float(found["default"]["cpu"]) / float(found["no-audit"]["cpu"]),
                    float(found["default"]["cpu"]) / base_cpu,
                )
            )
    print(f"commit {revision()}, {cpu_model()}, Python {platform.python_version()}, {utc_now()}")
    header = (
        "files",
        "limits",
        "default CPU s",
        "no-audit CPU s",
        "wall-clock CPU s",
        "budgets (no-audit / wall-clock)",
        "second check (default / no-audit)",
        "both (default / wall-clock)",
    )
    lines = [" | ".join(header)]
    for row in rows:
        name, limits, *numbers = row
        cpus, ratios = numbers[:3], numbers[3:]
        lines.append(
            " | ".join(
                [
                    str(name),
                    str(limits),
                    *(f"{c:.2f}" for c in cpus),
                    *(f"{r:.2f}x" for r in ratios),
                ]
            )
        )
    if args.markdown:
        print("| " + lines[0] + " |")
        print("|" + "---|" * len(header))
        for line in lines[1:]:
            print("| " + line + " |")
    else:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
