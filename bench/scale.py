"""How `verify` grows with the model, in CPU seconds, and what share the sanity checks take.

Each generated size (``bench/gen.py``) is verified with every check, in a fresh
interpreter of its own (so one size's caches and collector state do not bill another),
and the child reports the CPU seconds (``time.process_time``) of:

- ``load``: parsing and checking the file;
- ``verify``: one ``verify_model`` call with the default options (portfolio, sanity
  checks included);
- the sanity checks inside it (tautologies, shadowed and dead transitions, dead ends,
  stuck), timed around each call;
- the proofs of the limits: the rest of ``verify``.

The growth exponent is the least-squares slope of log(verify CPU s) against log(size)
over the sizes, with size measured in transitions (steps and variables grow with them);
an exponent of 1 is linear growth. The run prints a table (``--markdown`` for
``bench/README.md``) and exits 1 when a generated model is not fully proved or the sanity
checks take more than a third of verify on the 50-step, 20-variable, 150-transition
model (issue 14's target).

    .venv/bin/python bench/scale.py [--markdown] [--json FILE] [--sizes 10x8x30,...]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen import Size
from machine import TIMED_VERIFY, cpu_model, print_table, revision, run_child, utc_now

SIZES = (Size(13, 5, 38), Size(25, 10, 75), Size(50, 20, 150), Size(100, 40, 300))
"""Four sizes, each twice the one before (the largest is issue 14's 100/40/300)."""
TARGET = Size(50, 20, 150)
SANITY_SHARE = 1 / 3

CHILD = (
    TIMED_VERIFY
    + r"""
sys.path.insert(0, "bench")
import gen
steps, variables, transitions = (int(x) for x in sys.argv[1:4])
path = sys.argv[4]
with open(path, "w") as out:
    out.write(gen.generate(gen.Size(steps, variables, transitions)))
model, report, load, total = measured(path)
print(json.dumps({
    "load": load,
    "verify": total,
    "sanity": sum(spent.values()),
    "parts": spent,
    "limits": len(report.limits),
    "proved": sum(1 for r in report.limits if r.verdict.name == "PROVED"),
    "findings": sorted(f.rule for f in report.findings),
}))
"""
)


def measure(size: Size, scratch: Path) -> dict[str, Any]:
    path = scratch / f"gen-{size.steps}s-{size.variables}v-{size.transitions}t.yaml"
    return run_child(
        CHILD,
        str(size.steps),
        str(size.variables),
        str(size.transitions),
        str(path),
        what=f"verify {size}",
    )


def exponent(points: Sequence[tuple[float, float]]) -> float:
    """The least-squares slope of log(y) against log(x)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def parse_sizes(text: str) -> tuple[Size, ...]:
    sizes = []
    for part in text.split(","):
        steps, variables, transitions = (int(x) for x in part.split("x"))
        sizes.append(Size(steps, variables, transitions))
    return tuple(sizes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save the raw results here")
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=SIZES,
        help="STEPSxVARSxTRANSITIONS,... (default: 13x5x38,25x10x75,50x20x150,100x40x300)",
    )
    parser.add_argument("--scratch", type=Path, default=Path("/tmp"), help="where models go")
    args = parser.parse_args(argv)
    print(f"{utc_now()}; commit {revision()}; {cpu_model()}; CPU seconds of one run per size")
    rows: list[list[str]] = []
    results: list[dict[str, Any]] = []
    for size in args.sizes:
        found = measure(size, args.scratch)
        results.append({"size": [size.steps, size.variables, size.transitions], **found})
        parts = found["parts"]
        rows.append(
            [
                f"{size.steps}/{size.variables}/{size.transitions}",
                f"{found['proved']}/{found['limits']}",
                f"{found['load']:.2f}",
                f"{found['verify']:.2f}",
                f"{found['verify'] - found['sanity']:.2f}",
                f"{found['sanity']:.2f}",
                f"{found['sanity'] / found['verify']:.0%}",
                f"{parts.get('dead_transitions', 0.0):.2f}",
                f"{parts.get('dead_ends', 0.0):.2f}",
                ", ".join(sorted(set(found["findings"]))) or "none",
            ]
        )
    header = [
        "steps/vars/trans",
        "proved",
        "load s",
        "verify s",
        "limits s",
        "sanity s",
        "sanity share",
        "dead transitions s",
        "dead ends s",
        "findings",
    ]
    print_table(header, rows, args.markdown)
    points = [(float(r["size"][2]), r["verify"]) for r in results]
    slope = exponent(points) if len(points) >= 2 else float("nan")
    print(f"\ngrowth exponent of verify CPU s in transitions: {slope:.2f}")
    ok = all(r["proved"] == r["limits"] for r in results)
    wanted = [TARGET.steps, TARGET.variables, TARGET.transitions]
    target = next((r for r in results if r["size"] == wanted), None)
    if target is not None:
        share = target["sanity"] / target["verify"]
        met = share <= SANITY_SHARE
        ok = ok and met
        print(
            f"sanity checks at {TARGET.steps}/{TARGET.variables}/{TARGET.transitions}: "
            f"{share:.0%} of verify (target: at most a third): {'met' if met else 'missed'}"
        )
    if args.json:
        args.json.write_text(json.dumps({"exponent": slope, "rows": results}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
