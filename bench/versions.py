"""Language version 2 against version 1: the verify time of each reference model beside
its version-1 original (``tests/models/v1/``), which keeps its own position and open
orders in ``do`` where version 2 has the checker keep the book.

Each file is verified in a fresh process, ``--repeats`` times (the best kept), and the
CPU seconds of that verification (user + system, the import excluded) are reported with
what was decided: a version-2 model decides more (order checks, ``positive_qty``,
``final-step-orders``) and runs the ``stuck`` search, so the table splits its time.

    .venv/bin/python bench/versions.py [--repeats N] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path
from typing import Any

from machine import cpu_model, print_table, revision, run_child, utc_now

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from checker.lang.loader import load_model
from checker.options import DEFAULT_OPTIONS
import checker.verify as verify
spent = {"stuck": 0.0}
search = verify.stuck
def timed(*args):
    begun = resource.getrusage(resource.RUSAGE_SELF)
    try:
        return search(*args)
    finally:
        done = resource.getrusage(resource.RUSAGE_SELF)
        spent["stuck"] += (done.ru_utime - begun.ru_utime) + (done.ru_stime - begun.ru_stime)
verify.stuck = timed
model = load_model(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF)
report = verify.verify_model(model, DEFAULT_OPTIONS)
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({
    "cpu": cpu,
    "stuck": spent["stuck"],
    "decided": [[l.kind, l.verdict.value] for l in report.limits],
    "findings": [[f.rule, f.severity.value] for f in report.findings],
    "state": len(model.state),
    "inputs": len(model.inputs),
}))
"""


def run(path: Path) -> dict[str, Any]:
    return run_child(CHILD, str(path), what=str(path))


def best(path: Path, repeats: int) -> dict[str, Any]:
    return min((run(path) for _ in range(repeats)), key=lambda r: float(r["cpu"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (best kept)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    header = (
        "model",
        "v1 vars (state/inputs)",
        "v1 limits",
        "v1 CPU s",
        "v2 vars (state/inputs)",
        "v2 limits / orders / checks",
        "v2 CPU s",
        "of it stuck s",
        "v2/v1",
        "v2 without stuck / v1",
    )
    rows: list[list[str]] = []
    totals = [0.0, 0.0, 0.0]  # v1, v2 and its stuck search, on the models that have both
    every = 0.0  # v2, every model
    for v2 in sorted((ROOT / "models").glob("*.yaml")):
        v1 = ROOT / "tests" / "models" / "v1" / v2.name
        new = best(v2, args.repeats)
        kinds = [k for k, _ in new["decided"]]
        counts = "/".join(str(kinds.count(k)) for k in ("limit", "order", "check"))
        if not all(v == "proved" for _, v in new["decided"]):
            raise SystemExit(f"{v2.name}: not every obligation is proved")
        old = best(v1, args.repeats) if v1.exists() else None
        cpu, stuck = float(new["cpu"]), float(new["stuck"])
        every += cpu
        if old is not None:
            totals[0] += float(old["cpu"])
            totals[1] += cpu
            totals[2] += stuck
        rows.append(
            [
                v2.stem,
                f"{old['state']}/{old['inputs']}" if old else "-",
                str(len(old["decided"])) if old else "-",
                f"{old['cpu']:.2f}" if old else "-",
                f"{new['state']}/{new['inputs']}",
                counts,
                f"{cpu:.2f}",
                f"{stuck:.2f}",
                f"{cpu / float(old['cpu']):.2f}x" if old else "-",
                f"{(cpu - stuck) / float(old['cpu']):.2f}x" if old else "-",
            ]
        )
        before = f"{old['cpu']:6.2f}" if old else "     -"
        print(f"{v2.stem:28} v1 {before}  v2 {cpu:6.2f}", file=sys.stderr)
    print(f"commit {revision()}, {cpu_model()}, Python {platform.python_version()}, {utc_now()}")
    print(
        f"models with a v1 original: v1 {totals[0]:.2f} s CPU, v2 {totals[1]:.2f} s CPU "
        f"(of it stuck {totals[2]:.2f} s); every v2 model: {every:.2f} s CPU"
    )
    print_table(header, rows, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
