"""A parametric proof against proving a grid point by point, in CPU seconds (issue 16).

The model is ``models/perp_market_maker.yaml``. Side by side in one run:

- **box**: ``verify --param-range quote_size=5..50 --param-range hedge_band=10..80``, one
  proof for every one of the 46 x 71 = 3,266 int points of the box;
- **grid**: the 10 x 10 grid of that box (``quote_size`` 5, 10, ..., 50; ``hedge_band``
  10 to 80 in ten near-even steps), each point verified on its own (``--param``), as a
  desk without parametric proofs would.

Both load the file and run ``verify_model`` with the default options (every check on)
in this process, timed with ``time.process_time``; each is repeated ``--repeat`` times
and the best kept (the machine is shared).

Then ``seqprove sweep`` over the 8 points ``max_position=20..27:1`` of
``models/mmp_market_maker.yaml`` (about 12 CPU seconds a point; no cache: every point
verified again), serially, then on a local Dask cluster of 1 and
of 2 worker processes (:func:`checker.sweep.time_sweep`). A speed-up is a ratio of wall
times, the cluster's start included; the CPU seconds (this process and its workers) are
shown beside them.

Then ``seqprove params`` on the perp market maker's (quote_size, hedge_band, hedge_size)
over two boxes, with the counterexamples' loops repeated and without
(:func:`measure_regions`).

    .venv/bin/python bench/params.py [--markdown] [--json FILE] [--repeat 1] [--no-sweep]
        [--no-regions]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import ROOT, cpu_model, print_table, revision, utc_now

from checker.lang.loader import load_model
from checker.results import Verdict
from checker.verify import verify_model

PERP = ROOT / "models" / "perp_market_maker.yaml"
BOX = {"quote_size": "5..50", "hedge_band": "10..80"}
QUOTE_SIZES = [5 * i for i in range(1, 11)]
HEDGE_BANDS = [10 + round(70 * i / 9) for i in range(10)]


def _verify(params: dict[str, str], ranges: dict[str, str] | None = None) -> tuple[float, bool]:
    """CPU seconds to load and verify the model once, and whether every limit is proved."""
    begun = time.process_time()
    report = verify_model(load_model(PERP, params, ranges))
    seconds = time.process_time() - begun
    return seconds, all(lim.verdict is Verdict.PROVED for lim in report.limits)


def measure(repeat: int) -> dict[str, Any]:
    box = min(_verify({}, BOX)[0] for _ in range(repeat))
    box_proved = _verify({}, BOX)[1]
    grid_seconds: list[float] = []
    grid_proved = 0
    for _ in range(repeat):
        total, proved = 0.0, 0
        for q in QUOTE_SIZES:
            for band in HEDGE_BANDS:
                seconds, ok = _verify({"quote_size": str(q), "hedge_band": str(band)})
                total += seconds
                proved += ok
        grid_seconds.append(total)
        grid_proved = proved
    grid = min(grid_seconds)
    points = 46 * 71
    return {
        "box": {"cpu_s": round(box, 2), "proved": box_proved, "points": points},
        "grid": {
            "cpu_s": round(grid, 2),
            "proved": grid_proved,
            "points": len(QUOTE_SIZES) * len(HEDGE_BANDS),
        },
        "ratio": round(grid / box, 1),
    }


REGIONS = [
    {"quote_size": "100..300", "hedge_band": "0..1000", "hedge_size": "150..250"},
    {"quote_size": "20..300", "hedge_band": "0..1000", "hedge_size": "100..300"},
]


def measure_regions() -> list[dict[str, Any]]:
    """``seqprove params`` on the perp market maker's (quote_size, hedge_band,
    hedge_size), with the counterexamples' loops repeated and without (``LOOPS = 0``:
    one piece per verify round, as before they were), each within the default 12
    rounds: CPU seconds, rounds, pieces, and whether the region is exact."""
    from checker import params

    found: list[dict[str, Any]] = []
    for box in REGIONS:
        for loops in (params.LOOPS, 0):
            saved, params.LOOPS = params.LOOPS, loops
            try:
                begun = time.process_time()
                region = params.synthesize(PERP, box)
                seconds = time.process_time() - begun
            finally:
                params.LOOPS = saved
            found.append(
                {
                    "box": ", ".join(f"{n}={r}" for n, r in box.items()),
                    "loops_repeated": loops > 0,
                    "cpu_s": round(seconds, 2),
                    "rounds": region.rounds,
                    "pieces": len(region.unsafe),
                    "exact": region.exact,
                    "longest_run": max(p.counterexample.length for p in region.unsafe),
                }
            )
    return found


MMP = ROOT / "models" / "mmp_market_maker.yaml"
SWEEP_GRID = ["max_position=20..27:1"]


def measure_sweep() -> list[dict[str, Any]]:
    """The sweep serially and on 1 and 2 workers: wall and CPU seconds, and whether the
    tables agree."""
    from checker.sweep import time_sweep

    found: list[dict[str, Any]] = []
    reference = None
    for workers in (0, 1, 2):
        with tempfile.TemporaryDirectory() as proofs:
            timing = time_sweep([MMP], SWEEP_GRID, workers, proofs=Path(proofs))
        verdicts = [row.verdict for row in timing.table.rows]
        if reference is None:
            reference = verdicts
        found.append(
            {
                "workers": workers,
                "points": len(verdicts),
                "wall_s": round(timing.wall_seconds, 2),
                "cpu_s": round(timing.cpu_seconds, 2),
                "task_cpu_s": round(timing.task_cpu_seconds, 2),
                "same_verdicts": verdicts == reference,
            }
        )
    serial = found[0]["wall_s"]
    for row in found:
        row["speed_up"] = round(serial / row["wall_s"], 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--no-regions", action="store_true")
    args = parser.parse_args()
    result = measure(args.repeat)
    if not args.no_regions:
        result["regions"] = measure_regions()
    if not args.no_sweep:
        result["sweep"] = measure_sweep()
    result.update({"machine": cpu_model(), "revision": revision(), "at": utc_now()})
    box, grid = result["box"], result["grid"]
    print_table(
        ["proof", "points covered", "all proved", "CPU s", "ratio"],
        [
            [
                "parametric: one proof of the box quote_size=5..50, hedge_band=10..80",
                f"{box['points']:,}",
                "yes" if box["proved"] else "no",
                f"{box['cpu_s']:.2f}",
                "1.0",
            ],
            [
                "grid: 10 x 10 points, one verify each",
                str(grid["points"]),
                f"{grid['proved']} of {grid['points']}",
                f"{grid['cpu_s']:.2f}",
                f"{result['ratio']:.1f}",
            ],
        ],
        args.markdown,
    )
    if "regions" in result:
        print()
        print_table(
            ["perp market maker region", "loops repeated", "exact", "rounds", "pieces",
             "longest run (ticks)", "CPU s"],
            [
                [
                    r["box"],
                    "yes" if r["loops_repeated"] else "no",
                    "yes" if r["exact"] else "no",
                    str(r["rounds"]),
                    str(r["pieces"]),
                    str(r["longest_run"]),
                    f"{r['cpu_s']:.2f}",
                ]
                for r in result["regions"]
            ],
            args.markdown,
        )  # fmt: skip
    if "sweep" in result:
        print()
        print_table(
            [
                "sweep of 8 points of mmp_market_maker",
                "wall s",
                "speed-up",
                "CPU s (all processes)",
                "CPU s in tasks",
            ],
            [
                [
                    "serial" if r["workers"] == 0 else f"{r['workers']} worker(s)",
                    f"{r['wall_s']:.2f}",
                    f"{r['speed_up']:.2f}",
                    f"{r['cpu_s']:.2f}",
                    f"{r['task_cpu_s']:.2f}",
                ]
                for r in result["sweep"]
            ],
            args.markdown,
        )
    print(f"\n{result['machine']}, {result['revision']}, {result['at']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
