"""The crash scenarios calibrated on real crash days, and ``seqprove data compare``."""

from __future__ import annotations

import importlib.util
import json
import statistics
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from checker.lang.loader import load_model
from checker.run.compare import CompareError, measure, read_prices
from checker.run.data import columns_for, read_feed
from checker.run.meta import BookOrigin, DataMeta, write_sidecar
from checker.run.synth import (
    CALIBRATED,
    CALIBRATED_SCENARIOS,
    SCENARIOS,
    Table,
    synthesize,
    write_table,
)
from tests.conftest import ROOT, run_cli

MARKET = ROOT.parent / "shared" / "data" / "market"
SEEDS = range(20)
real_data = pytest.mark.skipif(
    not (MARKET / "binance_klines_1m").is_dir(), reason=f"no real market data at {MARKET}"
)


@lru_cache
def table(scenario: str, ticks: int, seed: int) -> Table:
    return synthesize(scenario, ticks, seed, ["time", "bid", "ask", "volume"])


def written(tmp_path: Path, scenario: str, ticks: int, seed: int, suffix: str = "csv") -> Path:
    path = tmp_path / f"{scenario}-{ticks}-{seed}.{suffix}"
    write_table(table(scenario, ticks, seed), path)
    return path


def minutes(t: Table) -> pd.DataFrame:
    """Minute closes of the quoted mid, |moves| in bp, volumes and mean spreads in bp."""
    frame = pd.DataFrame(t.rows, columns=list(t.columns))
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    bid, ask = frame["bid"].astype(float), frame["ask"].astype(float)
    frame["mid"] = (bid + ask) / 2
    frame["spread"] = (ask - bid) / frame["mid"] * 1e4
    m = (
        frame.set_index("time")
        .resample("60s")
        .agg({"mid": "last", "volume": "sum", "spread": "mean"})
    )
    m["move"] = np.abs(np.log(m["mid"]).diff()) * 1e4
    return m.dropna()


# -- the calibrated scenarios ------------------------------------------------------------------


def test_the_stress_scenarios_are_kept_and_the_calibrated_ones_added() -> None:
    assert SCENARIOS == ("calm", "trend", "crash", "vol-spike", "liquidity-drought")
    assert CALIBRATED_SCENARIOS == tuple(CALIBRATED) == ("crash-2020-03", "crash-2021-05")
    with pytest.raises(ValueError, match="crash-2021-05"):
        synthesize("crash-1929", 10, 0)


@pytest.mark.parametrize("scenario", CALIBRATED_SCENARIOS)
def test_calibrated_rows_are_a_second_apart_on_the_tick_and_reproducible(scenario: str) -> None:
    t = table(scenario, 1800, 3)
    assert t == synthesize(scenario, 1800, 3, ["time", "bid", "ask", "volume"])
    assert t.rows != table(scenario, 1800, 4).rows
    times = pd.to_datetime([r[0] for r in t.rows], utc=True)
    assert times[0] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert set(times[1:] - times[:-1]) == {pd.Timedelta(seconds=1)}
    for _, bid, ask, volume in t.rows:
        assert isinstance(bid, Fraction) and 0 < bid < ask and (bid * 2).denominator == 1
        assert isinstance(volume, int) and volume >= 0
    # the whole table has every column, the kill switch never pressed (a market, not a desk)
    full = synthesize(scenario, 1800, 3)
    assert [r[full.columns.index("bid")] for r in full.rows] == [r[1] for r in t.rows]
    assert not any(r[full.columns.index("kill_switch")] for r in full.rows)


@pytest.mark.parametrize("scenario", CALIBRATED_SCENARIOS)
def test_realised_volatility_is_the_days(scenario: str) -> None:
    """The minute innovations are scaled to the day's variance: the quoted mid's realised
    volatility is the fitted one, less the drift and the rounding to the tick."""
    c = CALIBRATED[scenario]
    day = c["sd"] * np.sqrt(525_600) * 100
    for seed in range(3):
        m = minutes(table(scenario, int(60 * c["minutes"]), seed))
        realised = np.std(np.diff(np.log(m["mid"].to_numpy())), ddof=1) * np.sqrt(525_600) * 100
        assert abs(realised / day - 1) < 0.1, (seed, realised, day)


@pytest.mark.parametrize("scenario", CALIBRATED_SCENARIOS)
def test_heavy_tails_clustering_volume_and_spread_go_with_the_moves(scenario: str) -> None:
    c = CALIBRATED[scenario]
    moves, volumes, spreads, clusters, kurtoses = [], [], [], [], []
    for seed in range(4):
        m = minutes(table(scenario, int(60 * c["minutes"]), seed))
        moves.append(np.corrcoef(m["move"], m["volume"])[0, 1])
        big = m["move"] >= m["move"].quantile(0.9)
        small = m["move"] <= m["move"].quantile(0.1)
        spreads.append(m["spread"][big].median() / m["spread"][small].median())
        volumes.append(m["volume"][big].median() / m["volume"][~big].median())
        clusters.append(m["move"].autocorr(1))
        signed = np.diff(np.log(m["mid"].to_numpy()))
        kurtoses.append(pd.Series(signed).kurt())
    assert statistics.median(moves) > 0.2  # volume rises with |move| (0.33-0.75 real)
    assert statistics.median(volumes) > 1.1  # the top decile of moves trades more
    assert statistics.median(spreads) > 1.1  # the spread widens with the move
    calm = minutes(table("calm", int(60 * c["minutes"]), 0))["spread"].median()
    assert m["spread"].median() > 20 * calm  # a crash's spread is many times a calm one's
    assert statistics.median(clusters) > 0.15  # big minutes cluster (0.48-0.51 real)
    assert statistics.median(kurtoses) > 0.5  # heavier tails than a normal's


# -- data compare ---------------------------------------------------------------------------


def test_compare_prints_both_files_side_by_side(tmp_path: Path) -> None:
    crash = written(tmp_path, "crash-2021-05", 1200, 1)
    calm = written(tmp_path, "calm", 1200, 1, "parquet")
    done = run_cli("data", "compare", str(crash), str(calm))
    assert done.code == 0, done.err
    for label in ("max abs 1m move (bp)", "p99 abs 1m move", "realised volatility", "volume ratio"):
        assert label in done.out
    assert "spread p99 (bp)" in done.out and "worst interval" in done.out
    assert "SYNTH over REAL: worst move" in done.out
    as_json = run_cli("data", "compare", str(crash), str(calm), "--json", "--interval", "5m")
    assert as_json.code == 0, as_json.err
    result = json.loads(as_json.out)
    real, synth = result["real"], result["synth"]
    assert result["interval"] == "5m" and real["intervals"] == synth["intervals"] == 4
    assert real["max_move_bp"] > 5 * synth["max_move_bp"]
    assert real == measure(crash, "5m").to_json()
    assert real["spread_bp"]["max"] > real["spread_bp"]["median"] > 0
    assert result["synth_over_real"]["max_move"] == synth["max_move_bp"] / real["max_move_bp"]


def test_compare_measures_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text(
        "time,bid,ask,volume\n"
        "2024-01-01T00:00:10Z,99,101,1\n"
        "2024-01-01T00:00:50Z,99,101,1\n"  # minute 0: mid 100, volume 2
        "2024-01-01T00:01:30Z,109,111,6\n"  # minute 1: mid 110, volume 6
        "2024-01-01T00:03:00Z,98,100,4\n"  # minute 2 empty (a gap), minute 3: mid 99
    )
    s = measure(path)
    assert (s.rows, s.intervals, s.gaps) == (4, 3, 1)
    assert s.max_move_bp == pytest.approx(abs(np.log(99 / 110)) * 1e4)
    assert s.worst_time == "2024-01-01T00:03:00Z"
    assert s.volume_ratio == pytest.approx(6 / 4)
    assert s.spread_max_bp == pytest.approx(2 / 99 * 1e4)
    assert s.book == "quotes" and not s.book_made


def test_compare_says_when_a_book_was_made_from_candles(tmp_path: Path) -> None:
    made = written(tmp_path, "calm", 300, 2)
    origin = BookOrigin("", "candles", "bar", 60_000, "close -/+ 0.5 bp")
    write_sidecar(made, DataMeta((origin,)))
    done = run_cli("data", "compare", str(made), str(written(tmp_path, "trend", 300, 2)))
    assert done.code == 0, done.err
    out = " ".join(done.out.split())
    assert "(made)" in out and "made from candles (close -/+ 0.5 bp): its spread is not" in out
    assert measure(made).to_json()["spread_bp"]["made"] is True


def test_compare_reads_one_instrument_of_a_file_with_legs(tmp_path: Path) -> None:
    legs = tmp_path / "legs.parquet"
    write_table(synthesize("crash-2020-03", 600, 5, None, ("spot", "perp")), legs)
    done = run_cli("data", "compare", str(legs), str(legs), "--instrument", "perp", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["real"]["rows"] == 600
    plain = run_cli("data", "compare", str(legs), str(legs))
    assert plain.code == 3
    assert f"{legs}:1: no column bid, ask, volume" in plain.err
    assert "its instruments: perp, spot; choose one with --instrument" in plain.err


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("bid,ask,volume\n1,2,3\n", ":1:", "no column time"),
        ("time,bid,ask,volume\n2024-01-01T00:00:00Z,1,2,3\nyesterday,1,2,3\n", ":3:1:", "time"),
        ("time,bid,ask,volume\n2024-01-01T00:00:00Z,1,x2,3\n", ":2:3:", "ask 'x2' is not"),
        ("time,bid,ask,volume\n0,1,2,3\n60,1,2,3\n,1,2,3\n", ":4:1:", "time '' is neither"),
        ("time,bid,ask,volume\n2024-01-01T00:01:00Z,1,2,3\n2024-01-01T00:00:00Z,1,2,3\n", ":3:1:",
         "the time goes back"),
        ("time,bid,ask,volume\n2024-01-01T00:00:00Z,2,1,3\n", ":2:", "crossed book"),
        ("time,bid,ask,volume\n2024-01-01T00:00:00Z,1,2,-3\n", ":2:4:", "volume is negative"),
        ("time,bid,ask,volume\n", ":", "no rows"),
    ],
)  # fmt: skip
def test_compare_rejects_bad_files_with_where_and_exit_3(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    good = written(tmp_path, "calm", 120, 0)
    done = run_cli("data", "compare", str(good), str(bad))
    assert done.code == 3
    assert f"{bad}{where}" in done.err and message in done.err, done.err
    assert "Traceback" not in done.err
    with pytest.raises(CompareError):
        read_prices(bad)


def test_a_bad_parquet_cell_is_reported_by_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    frame = pd.DataFrame(
        {
            "time": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"],
            "bid": ["1", "one"],
            "ask": [2.0, 2.0],
            "volume": [1, 1],
        }
    )
    frame.to_parquet(bad)
    with pytest.raises(CompareError, match=rf"^{bad}: row 2:2: bid 'one' is not a number"):
        read_prices(bad)


def test_seqprove_run_reads_a_calibrated_file(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "perp_market_maker.yaml")
    path = tmp_path / "crash.csv"
    legs = tuple(i.name for i in model.instruments)
    write_table(synthesize("crash-2021-05", 300, 0, columns_for(model), legs), path)
    feed = read_feed(path, model)
    assert len(feed.rows) == 300
    assert (feed.rows[0].time, feed.rows[-1].time) == (
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:04:59Z",
    )


def test_compare_rejects_a_bad_interval_and_a_missing_file(tmp_path: Path) -> None:
    good = written(tmp_path, "calm", 120, 0)
    bad = run_cli("data", "compare", str(good), str(good), "--interval", "1w")
    assert bad.code == 3 and "interval '1w'" in bad.err
    gone = run_cli("data", "compare", str(good), str(tmp_path / "nope.csv"))
    assert gone.code == 3 and "nope.csv: no such file" in gone.err


def test_numeric_times_are_seconds(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("time,bid,ask,volume\n0,99,101,1\n60,109,111,1\n")
    assert measure(path).worst_time == "1970-01-01T00:01:00Z"


# -- against the real crash days ---------------------------------------------------------------


@lru_cache
def calibrate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "bench" / "calibrate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@real_data
def test_the_kept_constants_are_the_fit() -> None:
    """synth.py keeps what bench/calibrate.py fits, to three significant digits."""
    for name, constants in calibrate().fitted().items():
        assert set(constants) == set(CALIBRATED[name])
        for key, value in constants.items():
            assert float(f"{value:.3g}") == CALIBRATED[name][key], (name, key)


@real_data
@pytest.mark.parametrize("scenario", CALIBRATED_SCENARIOS)
def test_calibrated_crash_against_the_real_day(scenario: str, tmp_path: Path) -> None:
    """Over 20 seeds: the median worst minute within 25 % of the real one, the median
    volume surge within a factor of 2, and the tail reaches the worst real minute."""
    module = calibrate()
    real = measure(
        module.klines_to_standard(MARKET / "binance_klines_1m" / module.DAYS[scenario],
                                  tmp_path / "real.csv")
    )  # fmt: skip
    assert real.book_made and real.max_move_bp is not None and real.volume_ratio is not None
    ticks = int(60 * CALIBRATED[scenario]["minutes"])
    synth = [measure(written(tmp_path, scenario, ticks, seed)) for seed in SEEDS]
    worst = [s.max_move_bp or 0.0 for s in synth]
    surge = [s.volume_ratio or 0.0 for s in synth]
    assert abs(statistics.median(worst) / real.max_move_bp - 1) <= 0.25, worst
    assert 0.5 <= statistics.median(surge) / real.volume_ratio <= 2, surge
    assert max(worst) >= real.max_move_bp, worst  # the tail reaches the worst real minute
    near = sum(abs(w / real.max_move_bp - 1) <= 0.25 for w in worst)
    assert near >= len(SEEDS) // 2, worst
    cli = run_cli("data", "compare", str(tmp_path / "real.csv"),
                  str(written(tmp_path, scenario, ticks, 0)), "--json")  # fmt: skip
    assert cli.code == 0 and json.loads(cli.out)["real"]["max_move_bp"] == real.max_move_bp
