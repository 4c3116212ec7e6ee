"""Benchmark ``seqprove data import`` against a plain ``pandas.read_csv`` of the same file.

For each real file of ``../shared/data/market`` named below (skipped, with a message,
when that folder is absent), in one run and side by side:

1. **pandas.read_csv**: ``pandas.read_csv(path)`` (``header=None`` for the headerless
   klines), floats and all: the floor of what reading the file costs;
2. **data import**: :func:`checker.ingest.run_import`, the whole work of the command
   (format detection, exact decimals, the quality checks and the policy, the book, the
   units, the decimal text, the CSV and its metadata sidecar written to a temporary
   directory), without the interpreter's start-up.

Each figure is the median of ``--repeats`` runs (default 5) of wall-clock time, with the
CPU seconds of the process (``time.process_time``) of the same run; rows/s is the rows
of the source files read per CPU second (the machine is shared: CPU time is what other
work on it disturbs least). Run it with ``.venv/bin/python bench/import_speed.py
[--repeats N] [--markdown]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from machine import ROOT, cpu_model, revision, utc_now
from rich.console import Console
from rich.table import Table

from checker.ingest import Request, run_import
from checker.lang.loader import load_model

MARKET = ROOT.parent / "shared" / "data" / "market"
MM = ROOT / "models" / "perp_market_maker.yaml"


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[str, ...]
    header: bool
    policy: str = "stop"
    interval: str | None = None


CASES = (
    Case(
        "Binance klines 2021-05-19",
        ("binance_klines_1m/BTCUSDT-1m-2021-05-19_1003-1412.csv",),
        False,
    ),
    Case("Tardis quotes", ("tardis_binance_futures/quotes.csv",), True, "drop"),
    Case(
        "Tardis quotes + trades",
        ("tardis_binance_futures/quotes.csv", "tardis_binance_futures/trades.csv"),
        True,
        "drop",
    ),
    Case("Tardis quotes at 1s", ("tardis_binance_futures/quotes.csv",), True, "carry", "1s"),
    Case("FTX BTC-PERP 1m (a month)", ("ftx_perp_1m/btc-perp-20211231-20220201_1m.csv",), True),
)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def timed(work: Callable[[], object], repeats: int) -> Timing:
    walls, cpus = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return Timing(statistics.median(walls), statistics.median(cpus))


def measure(case: Case, repeats: int, out_dir: Path) -> tuple[int, Timing, Timing]:
    import pandas as pd

    paths = [MARKET / f for f in case.files]
    rows = 0
    for p in paths:
        rows += len(pd.read_csv(p, header=0 if case.header else None))

    def plain() -> None:
        for p in paths:
            pd.read_csv(p, header=0 if case.header else None)

    model = load_model(MM)
    request = Request(
        sources=[("", p) for p in paths],
        out=out_dir / "out.csv",
        policy=case.policy,
        interval=case.interval,
        model=model,
        spread_bps=Decimal(1),
    )
    return rows, timed(plain, repeats), timed(lambda: run_import(request), repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args()
    console = Console(highlight=False)
    if not MARKET.is_dir():
        console.print(f"no real market data at {MARKET}: nothing to measure")
        return 0
    console.print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores; "
        f"{platform.python_implementation()} {platform.python_version()}; load "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; {utc_now()}; commit {revision()}; median of {args.repeats} runs"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            rows, plain, imported = measure(case, args.repeats, Path(tmp))
            results.append((case, rows, plain, imported))
    table = Table(title="data import against pandas.read_csv, same files, same run")
    table.expand = True
    headings = (
        "file (policy)",
        "rows",
        "read_csv rows/s",
        "read_csv wall s",
        "read_csv CPU s",
        "data import rows/s",
        "data import wall s",
        "data import CPU s",
        "import / read_csv CPU",
    )
    for h in headings:
        table.add_column(h, justify="left" if h == "file" else "right")
    lines = [
        "| " + " | ".join(headings) + " |",
        "|---|" + "---:|" * (len(headings) - 1),
    ]
    for case, rows, plain, imported in results:
        label = case.name + (f" ({case.policy}" + (f", {case.interval})" if case.interval else ")"))
        cells = (
            label,
            f"{rows:,}",
            f"{rows / plain.cpu:,.0f}",
            f"{plain.wall:.3f}",
            f"{plain.cpu:.3f}",
            f"{rows / imported.cpu:,.0f}",
            f"{imported.wall:.3f}",
            f"{imported.cpu:.3f}",
            f"{imported.cpu / plain.cpu:.0f}x",
        )
        table.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    console.print(table)
    if args.markdown:
        console.print("\n".join(lines), soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
