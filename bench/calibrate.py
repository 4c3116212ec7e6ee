"""Fit the calibrated crash scenarios of ``seqprove data synth`` to the real crash days.

Reads the Binance spot BTCUSDT 1-minute klines of 2020-03-13 and 2021-05-19 and the
Coinbase BTCUSD minute quote bars of 2017-09-04 from ``../shared/data/market`` (see its
SOURCES.md; the project commits none of it), and prints, for each day:

- the fitted constants that ``checker/run/synth.py`` keeps in ``CALIBRATED`` (run this
  script again to check them: it says which differ);
- the day's own statistics and those of the calibrated scenario over as many minutes,
  side by side (``checker.run.compare``), for a few seeds.

The fits (numpy only):

- 1-minute log returns, less the drift of each phase (the open to the low, the low to the
  close: the ``fall`` and ``rebound`` drifts), follow a GARCH(1,1) with Student-t
  innovations, ``h' = omega + alpha x**2 + beta h``, fitted by maximum likelihood over a grid
  of ``alpha`` and ``beta`` (steps of 0.01) and integer degrees of freedom ``nu`` 3-12,
  with ``omega`` by variance targeting (``omega = (1 - alpha - beta) var``);
- the minute volume over its median against ``|x| / sd`` by least squares (``a + b |x| /
  sd``), and the shape ``k`` of a gamma noise of mean 1 from the variance of what is left;
- the mean spread in bp against the minute's ``|move|`` ``m`` in bp, ``calm + wide * m /
  (m + half) + per_move * m``, by least squares on Coinbase's 2017-09-04 quote bars (the
  only crash day of the folder with a real book; Binance klines have none). Of the forms
  tried (a line, a square root, the saturating term alone, both) this one leaves the least
  residual; a line alone, carried from that day's moves (103 bp at most) to the 700 bp
  minutes of 2020, would give spreads of 100 bp, twice the widest seen (49 bp).

The real side of the comparison is the Binance klines through ``seqprove data import``
(the book made from each minute's close -/+ half a spread of 1 bp, the volume in BTC, and
the metadata saying so). Besides seed 0, the seed whose worst minute is the median of all
seeds is shown: a single run's worst minute is a draw from a heavy tail.

Run: ``make bench-calibrate`` (or ``python bench/calibrate.py [--seeds N] [--markdown]``).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.run.compare import Stats, measure, rows  # noqa: E402
from checker.run.synth import CALIBRATED, synthesize, write_table  # noqa: E402

MARKET = ROOT.parent / "shared" / "data" / "market"
KLINES = MARKET / "binance_klines_1m"
DAYS = {
    "crash-2020-03": "BTCUSDT-1m-2020-03-13_0027-0249.csv",
    "crash-2021-05": "BTCUSDT-1m-2021-05-19_1003-1412.csv",
}
COINBASE_QUOTES = MARKET / "lean_minute/Data/crypto/coinbase/minute/btcusd/20170904_quote.zip"
KLINE_COLUMNS = [
    *("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume"),
    *("trades", "taker_base", "taker_quote", "ignore"),
]


def read_klines(path: Path) -> pd.DataFrame:
    """A Binance kline file (12 columns, no header) as a frame."""
    return pd.read_csv(path, header=None, names=KLINE_COLUMNS)


def klines_to_standard(path: Path, out: Path) -> Path:
    """The real data file: Binance klines through ``seqprove data import`` (its default
    book: each minute's close -/+ half a spread of 1 bp, the bar's volume, in BTC)."""
    from checker.ingest import Request, run_import

    run_import(Request(sources=(("", path),), out=out))
    return out


def _t_constant(nu: int) -> float:
    """log of the unit-variance Student-t density's constant."""
    return math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(math.pi * (nu - 2))


def fit_garch_t(x: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float]:
    """GARCH(1,1)-t by maximum likelihood over a grid, variance targeted."""
    var = float(np.mean(x * x))
    alphas, betas = np.meshgrid(np.arange(0, 0.51, 0.01), np.arange(0, 1.0, 0.01))
    keep = alphas + betas < 0.995
    a, b = alphas[keep], betas[keep]
    omega = (1 - a - b) * var
    best: dict[str, float] = {}
    best_ll = -np.inf
    for nu in range(3, 13):
        h = np.full(a.shape, var)
        ll = np.zeros(a.shape)
        for value in x:
            ll += -0.5 * np.log(h) - (nu + 1) / 2 * np.log1p(value * value / (h * (nu - 2)))
            h = omega + a * value * value + b * h
        ll += len(x) * _t_constant(nu)
        i = int(np.argmax(ll))
        if ll[i] > best_ll:
            best_ll = float(ll[i])
            best = {"alpha": float(a[i]), "beta": float(b[i]), "nu": nu}
    return {**best, "var": var, "loglik": best_ll}


def fit_day(path: Path) -> dict[str, float]:
    """Every constant of one crash day (see the module's docstring)."""
    k = read_klines(path)
    close = k["close"].astype(float).to_numpy()
    x = np.diff(np.log(close))
    low = int(np.argmin(close))
    fall = math.log(close[low] / close[0]) / max(low, 1)
    rebound = math.log(close[-1] / close[low]) / max(len(close) - 1 - low, 1)
    drift = np.where(np.arange(1, len(close)) <= low, fall, rebound)
    garch = fit_garch_t(x - drift)
    sd = math.sqrt(garch["var"])
    volume = k["volume"].astype(float).to_numpy()[1:]
    level = volume / np.median(volume)
    design = np.column_stack((np.ones(len(x)), np.abs(x) / sd))
    (va, vb), *_ = np.linalg.lstsq(design, level, rcond=None)
    rest = level / (va + vb * np.abs(x) / sd)
    return {
        "minutes": len(close),
        "low_at": low / (len(close) - 1),
        "fall": fall,
        "rebound": rebound,
        "alpha": garch["alpha"],
        "beta": garch["beta"],
        "nu": garch["nu"],
        "sd": sd,
        "volume_a": float(va),
        "volume_b": float(vb),
        "volume_k": float(1 / np.var(rest)),
    }


def fit_spread(path: Path = COINBASE_QUOTES) -> dict[str, float]:
    """Spread widening with the minute's move, on Coinbase's 2017-09-04 quote bars: the
    mean spread ``calm + wide * m / (m + half) + per_move * m`` (bp, ``m`` the minute's
    |move| in bp) by least squares, ``half`` on a grid of 1 bp steps."""
    q = pd.read_csv(path, header=None, usecols=[0, 4, 9], names=["ms", "bid", "ask"])
    mid = (q["bid"] + q["ask"]) / 2
    spread = ((q["ask"] - q["bid"]) / mid * 1e4).to_numpy()[1:]
    move = np.abs(np.diff(np.log(mid.to_numpy()))) * 1e4
    best: tuple[float, list[float], float] | None = None
    for half in np.arange(1.0, 201.0):
        design = np.column_stack((np.ones(len(move)), move / (move + half), move))
        coef, *_ = np.linalg.lstsq(design, spread, rcond=None)
        residual = float(np.sum((design @ coef - spread) ** 2))
        if best is None or residual < best[0]:
            best = (residual, [float(v) for v in coef], float(half))
    assert best is not None
    _, (calm, wide, per_move), half = best
    return {
        "spread_calm_bp": calm,
        "spread_wide_bp": wide,
        "spread_half_move_bp": half,
        "spread_per_move": per_move,
    }


def fitted() -> dict[str, dict[str, float]]:
    spread = fit_spread()
    return {name: {**fit_day(KLINES / file), **spread} for name, file in DAYS.items()}


def _round(value: float) -> float:
    return float(f"{value:.3g}")


def compare_day(name: str, seeds: range, work: Path) -> list[tuple[Stats, Stats]]:
    real = klines_to_standard(KLINES / DAYS[name], work / f"{name}-real.csv")
    ticks = 60 * int(CALIBRATED[name]["minutes"])
    out = []
    for seed in seeds:
        synth = work / f"{name}-{seed}.csv"
        write_table(synthesize(name, ticks, seed, ["time", "bid", "ask", "volume"]), synth)
        out.append((measure(real), measure(synth)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per scenario (default 20)")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = parser.parse_args()
    if not KLINES.is_dir():
        sys.exit(f"no real data at {MARKET}: see its SOURCES.md")
    for name, constants in fitted().items():
        print(f"## {name}: fitted constants (synth.py CALIBRATED)\n")
        for key, value in constants.items():
            kept = CALIBRATED[name].get(key)
            mark = "" if kept is not None and _round(kept) == _round(value) else "  <- differs"
            print(f"    {key:18} {_round(value):>12}   kept {kept}{mark}")
        print()
    with tempfile.TemporaryDirectory() as tmp:
        for name, file in DAYS.items():
            pairs = compare_day(name, range(args.seeds), Path(tmp))
            real = pairs[0][0]
            worst = [s.max_move_bp or 0.0 for _, s in pairs]
            # seed 0, and the seed whose worst minute is the median of all (the lower one)
            middle = sorted(range(len(pairs)), key=lambda i: worst[i])[(len(pairs) - 1) // 2]
            for seed, why in ((0, "seed 0"), (middle, f"seed {middle}, the median seed")):
                print(f"## {name} against {Path(file).stem} ({why})\n")
                table = rows(real, pairs[seed][1], "1m")
                if args.markdown:
                    print("| statistic | real | synthetic |\n|---|---:|---:|")
                    for label, left, right in table:
                        print(f"| {label} | {left} | {right} |")
                else:
                    for label, left, right in table:
                        print(f"    {label:34} {left:>24} {right:>24}")
                print()
            surge = [s.volume_ratio or 0.0 for _, s in pairs]
            near = sum(abs(w / (real.max_move_bp or 1) - 1) <= 0.25 for w in worst)
            within = sum(0.5 <= v / (real.volume_ratio or 1) <= 2 for v in surge)
            print(
                f"\n{len(pairs)} seeds: worst minute median {np.median(worst):.0f} bp "
                f"(min {min(worst):.0f}, max {max(worst):.0f}; real {real.max_move_bp:.0f}), "
                f"within 25 % for {near}; volume ratio median {np.median(surge):.1f}x "
                f"(min {min(surge):.1f}, max {max(surge):.1f}; real {real.volume_ratio:.1f}x), "
                f"within a factor 2 for {within}\n"
            )


if __name__ == "__main__":
    main()
