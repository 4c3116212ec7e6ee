"""How `verify` grows with a window's size, in CPU seconds (issue 15).

The model is ``models/rolling_order_throttle.yaml`` with ``max_orders`` set to N (its
window ``sent`` keeps N + 1 events: ``up_to: max_orders``), and, side by side, the
fixed-bucket throttle ``tests/models/time/bucket_throttle.yaml`` with ``max_orders`` N
(``up_to: 2 * max_orders``: 2N + 1 events), whose rolling rate ``verify`` refutes. Each
size is verified with every check in a fresh interpreter of its own, under a CPU limit
(``--limit``, default 600 s: a size that does not finish in it is reported as such); the
child reports the CPU seconds (``time.process_time``) of loading and of one
``verify_model`` call, the verdict of every obligation, and the share of the sanity
checks. Sizes whose N is odd are rounded up to even for the bucket (it sends two
orders a requote).

    .venv/bin/python bench/windows.py [--markdown] [--json FILE] [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import ROOT, TIMED_VERIFY, cpu_model, print_table, revision, utc_now

from checker.lang.timing import MAX_KEEP

SIZES = (10, 100, 1000)
ROLLING = ROOT / "models" / "rolling_order_throttle.yaml"
BUCKET = ROOT / "tests" / "models" / "time" / "bucket_throttle.yaml"

CHILD = (
    TIMED_VERIFY
    + r"""
model, report, load, total = measured(sys.argv[1], {"max_orders": sys.argv[2]})
print(json.dumps({
    "load": load,
    "verify": total,
    "sanity": sum(spent.values()),
    "state": len(model.state),
    "verdicts": {r.name: r.verdict.name for r in report.limits},
    "engines": {r.name: r.engine for r in report.limits},
}))
"""
)


def measure(path: Path, n: int, limit: int) -> dict[str, Any] | None:
    """``path`` with ``max_orders`` N, verified in a child under a CPU limit; None when
    the limit ends it."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))

    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(n)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        preexec_fn=cap,
    )
    if done.returncode != 0:
        if done.returncode < 0 or "CPU time limit" in done.stderr:
            return None
        raise SystemExit(f"verify {path.name} at N={n}: {done.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


def verdicts(found: dict[str, Any], names: Sequence[str]) -> str:
    return ", ".join(f"{n} {found['verdicts'][n].lower()} ({found['engines'][n]})" for n in names)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, metavar="FILE", help="save the raw results here")
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(x) for x in text.split(",")),
        default=SIZES,
        help="N,... (default: 10,100,1000)",
    )
    parser.add_argument("--limit", type=int, default=600, help="CPU seconds per run")
    args = parser.parse_args(argv)
    print(f"{utc_now()}; commit {revision()}; {cpu_model()}; CPU seconds, one run per size")
    rows: list[list[str]] = []
    results: list[dict[str, Any]] = []
    ok = True
    for n in args.sizes:
        for path, wanted, name in (
            (ROLLING, ("order_rate", "exact:sent"), "rolling"),
            (BUCKET, ("rate", "twice_the_rate", "exact:sent_1s"), "fixed bucket"),
        ):
            size = n + (n % 2) if path == BUCKET else n
            kept = size + 1 if path == ROLLING else 2 * size + 1
            if kept > MAX_KEEP:
                rows.append([name, str(size), str(kept), "-", "-", "-", "-",
                             f"not run: a window keeps at most {MAX_KEEP} events"])  # fmt: skip
                continue
            found = measure(path, size, args.limit)
            results.append({"model": name, "n": size, "result": found})
            if found is None:
                rows.append([name, str(size), str(kept), "-", f"> {args.limit}", "-", "-",
                             f"not finished in {args.limit} CPU s"])  # fmt: skip
                continue
            expected = {"order_rate": "PROVED", "exact:sent": "PROVED", "exact:sent_1s": "PROVED"}
            expected |= {"rate": "REFUTED", "twice_the_rate": "REFUTED"}
            ok = ok and all(found["verdicts"][w] in (expected[w], "UNKNOWN") for w in wanted)
            rows.append(
                [
                    name,
                    str(size),
                    str(kept),
                    f"{found['load']:.2f}",
                    f"{found['verify']:.2f}",
                    f"{found['sanity']:.2f}",
                    str(found["state"]),
                    verdicts(found, wanted),
                ]
            )
    header = ["model", "N", "events kept", "load s", "verify s", "sanity s", "state", "verdicts"]
    print_table(header, rows, args.markdown)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
