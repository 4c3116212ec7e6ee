"""Every reference model over every real market window in ``../shared/data/market``.

For each window, the published files are imported with one ``seqprove data import``
command per model (``--model``: the model's instruments, contract sizes and the inputs no
exchange publishes, derived from the rows), then the model, proved by ``seqprove verify``,
is run with ``seqprove run``: a report (JSON) and a plot per run are written under
``--out`` (default ``runs/real``), and a table of the outcomes is printed (Markdown with
``--markdown``; it is the table of ``docs/data.md``).

    .venv/bin/python bench/real_runs.py [--out DIR] [--markdown] [--reuse]

The single-instrument models (a BTC perpetual) run over the Binance crash windows (spot
klines standing in for the perpetual's book, made from candles), the FTX month of
BTC-PERP candles, the Tardis ticks (real quotes and trades of Binance USDT-M futures) and
the two Coinbase days of LEAN quote and trade bars; the cash-and-carry basis over the only
two-leg window, LEAN's Binance spot and COIN-M perpetual of 2022-12-13 (the perpetual
standing in for the dated future: it never expires). The delta-hedged options market
maker is not run: no file here has an option's book.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from machine import cpu_model, print_table, revision, utc_now

ROOT = Path(__file__).resolve().parent.parent
MARKET = ROOT.parent / "shared" / "data" / "market"
SEQPROVE = Path(sys.executable).parent / "seqprove"
KLINES = MARKET / "binance_klines_1m"
LEAN = MARKET / "lean_minute" / "Data"
COINBASE = LEAN / "crypto" / "coinbase" / "minute" / "btcusd"


@dataclass(frozen=True)
class Window:
    name: str
    sources: tuple[tuple[str, Path], ...]  # (instrument, path)
    options: tuple[str, ...] = ()
    two_legs: bool = False


def _perp(*paths: Path) -> tuple[tuple[str, Path], ...]:
    return tuple(("perp", p) for p in paths)


WINDOWS = (
    Window("Binance 2020-03-13", _perp(KLINES / "BTCUSDT-1m-2020-03-13_0027-0249.csv")),
    Window("Binance 2021-05-19", _perp(KLINES / "BTCUSDT-1m-2021-05-19_1003-1412.csv")),
    Window("Binance 2022-11-08", _perp(KLINES / "BTCUSDT-1m-2022-11-08_1500-1823.csv")),
    Window("Binance 2024-08-05", _perp(KLINES / "BTCUSDT-1m-2024-08-05_0427-0641.csv")),
    Window(
        "FTX BTC-PERP 2022-01",
        _perp(MARKET / "ftx_perp_1m" / "btc-perp-20211231-20220201_1m.csv"),
    ),
    Window(
        "Tardis ticks 2020-02-22",
        _perp(
            MARKET / "tardis_binance_futures" / "quotes.csv",
            MARKET / "tardis_binance_futures" / "trades.csv",
        ),
        ("--gaps", "drop"),
    ),
    Window(
        "Coinbase 2017-09-04",
        _perp(COINBASE / "20170904_quote.zip", COINBASE / "20170904_trade.zip"),
        ("--gaps", "carry"),
    ),
    Window(
        "Coinbase 2017-12-17",
        _perp(COINBASE / "20171217_quote.zip", COINBASE / "20171217_trade.zip"),
        ("--gaps", "carry"),
    ),
    Window(
        "Binance spot + COIN-M 2022-12-13",
        (
            ("spot", LEAN / "crypto" / "binance" / "minute" / "btcbusd" / "20221213_trade.zip"),
            (
                "future",
                LEAN / "cryptofuture" / "binance" / "minute" / "btcusd" / "20221213_quote.zip",
            ),
            (
                "future",
                LEAN / "cryptofuture" / "binance" / "minute" / "btcusd" / "20221213_trade.zip",
            ),
        ),
        ("--gaps", "carry"),
        two_legs=True,
    ),
)

BREACH = re.compile(
    r"input '([\w.]+)' = (\S+) is (below|above) its range (\[[^\]]*\])"
    r"(?: \(bound by param (\w+)\))?"
)
"""The monitor's stop message: the input, its value, the side, the range and its param."""

SINGLE = ("perp_market_maker", "perp_grid_bot", "order_rate_throttle", "margin_ratio_guard")
TWO_LEGS = ("cash_and_carry_basis",)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEQPROVE), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def one(window: Window, model: str, out: Path, reuse: bool = False) -> dict[str, Any]:
    """Import ``window`` for ``model``, run it, and what the run report says (with
    ``reuse``, the report an earlier run left in ``out``, when there is one)."""
    stem = f"{_slug(window.name)}--{model}"
    if reuse and (out / f"{stem}.json").is_file():
        kept: dict[str, Any] = json.loads((out / f"{stem}.json").read_text())
        return kept
    data = out / f"{stem}.csv"
    sources = [f"{i}={p}" for i, p in window.sources]
    imported = _run(
        "data",
        "import",
        *sources,
        "--model",
        f"models/{model}.yaml",
        *window.options,
        "--out",
        str(data),
    )
    if imported.returncode != 0:
        raise SystemExit(f"{window.name} / {model}: import failed\n{imported.stderr}")
    ran = _run(
        "run",
        f"models/{model}.yaml",
        "--data",
        str(data),
        "--no-journal",
        "--plot",
        str(out / f"{stem}.png"),
        "--json",
    )
    if ran.returncode not in (0, 1, 2):
        raise SystemExit(f"{window.name} / {model}: run failed ({ran.returncode})\n{ran.stderr}")
    report: dict[str, Any] = json.loads(ran.stdout)
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _outcome(report: dict[str, Any]) -> str:
    """How the run ended, short: the end of the data, a final step, or the monitor's stop
    (the input and the range it left; the report has the whole message)."""
    outcome = report["outcome"]
    reason, message = outcome["reason"], outcome["message"]
    if reason == "data-end":
        return "end of data"
    if reason == "final":
        return f"final step {outcome['step']}"
    if reason == "assumption":
        found = BREACH.search(message)
        if found:
            name, value, side, bounds, param = found.groups()
            by = f", param {param}" if param else ""
            return (
                f"monitor stop at tick {outcome['tick']}: {name} = {value} {side} "
                f"{bounds}{by} (exit {report['exit_code']})"
            )
        return f"monitor stop at tick {outcome['tick']} (exit {report['exit_code']})"
    return f"{reason}, tick {outcome['tick']}: {message} (exit {report['exit_code']})"


def _max_position(report: dict[str, Any]) -> str:
    books = report.get("instruments") or {}
    return ", ".join(f"{name} {book['max_abs_position']}" for name, book in books.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "real")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument(
        "--reuse", action="store_true", help="tabulate the reports already in --out"
    )
    args = parser.parse_args()
    if not MARKET.is_dir():
        print(f"no real data at {MARKET}: nothing to run", file=sys.stderr)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for model in (*SINGLE, *TWO_LEGS):
        proved = _run("verify", f"models/{model}.yaml")
        if proved.returncode != 0:
            raise SystemExit(f"{model}: not proved\n{proved.stdout}{proved.stderr}")
    header = ("window", "model", "ticks", "fill model", "how it ended", "orders", "fills")
    header += ("PnL (USD)", "max |position| (contracts)")
    rows: list[tuple[str, ...]] = []
    for window in WINDOWS:
        for model in TWO_LEGS if window.two_legs else SINGLE:
            report = one(window, model, args.out, args.reuse)
            fill = report.get("fill_model") or {}
            fill_text = fill.get("name", "") if isinstance(fill, dict) else str(fill)
            rows.append(
                (
                    window.name,
                    model,
                    str(report["ticks"]),
                    fill_text,
                    _outcome(report),
                    str(report["orders"]),
                    str(report["fills"]),
                    str(report["pnl"]),
                    _max_position(report),
                )
            )
            print(f"{window.name:34} {model:22} {rows[-1][4]}", file=sys.stderr)
    print(f"commit {revision()}, {cpu_model()}, Python {platform.python_version()}, {utc_now()}")
    print_table(header, rows, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
