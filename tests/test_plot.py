"""The plot of a run (checker/run/plot.py): its x axis in time, ticks or the data's
numbers; gaps; fills and steps marked; the loss limit solved for the PnL; a pair of
panels per instrument. The figures are inspected through matplotlib's objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib import dates
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

from checker.lang.loader import load_model, load_text
from checker.model import Model
from checker.run.data import columns_for, read_feed
from checker.run.executor import Executor
from checker.run.journal import Journal
from checker.run.plot import POINTS, _thin, figure, loss_limits, x_axis
from checker.run.report import RunReport, plot
from checker.run.synth import synthesize, write_table
from tests.conftest import ROOT, run_cli

MODELS = ROOT / "models"
PERP = MODELS / "perp_market_maker.yaml"
CARRY = MODELS / "cash_and_carry_basis.yaml"
OPTIONS = MODELS / "delta_hedged_options_mm.yaml"
V1_PERP = ROOT / "tests" / "models" / "v1" / "perp_market_maker.yaml"
MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
FTX = MARKET / "ftx_perp_1m" / "btc-perp-20211231-20220201_1m.csv"
START = datetime(2026, 1, 1, tzinfo=UTC)


def synth(model: Model, path: Path, ticks: int, scenario: str = "vol-spike") -> pd.DataFrame:
    """``ticks`` rows of ``scenario`` with the columns ``model`` reads (time included),
    written to ``path`` and returned as text cells."""
    legs = tuple(i.name for i in model.instruments)
    write_table(synthesize(scenario, ticks, 3, columns_for(model), legs), path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def run(model: Model, data: Path, journal: Journal | None = None) -> tuple[Executor, RunReport]:
    executor = Executor(model, read_feed(data, model), journal, admitted_by="test")
    executor.start()
    executor.run()
    assert executor.outcome is not None
    report = RunReport(
        model, str(data), executor.outcome, executor.stats, {}, None, None, "test", 0.0
    )
    return executor, report


def panels(fig: Figure) -> dict[str, Axes]:
    """The figure's axes by their y label (the steps lane is ``step (entries)``)."""
    return {ax.get_ylabel(): ax for ax in fig.axes}


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def fill_markers(ax: Axes, side: str) -> np.ndarray[Any, Any]:
    """The (x, price) points of the ``side`` fills marked on a price panel."""
    found = [c for c in ax.collections if isinstance(c, PathCollection) and
             str(c.get_label()).startswith(f"{side} fills")]  # fmt: skip
    assert len(found) == 1
    return np.asarray(found[0].get_offsets())


# -- the x axis ----------------------------------------------------------------------------------


def test_a_time_column_gives_a_time_axis(tmp_path: Path) -> None:
    model = load_model(PERP)
    synth(model, tmp_path / "d.csv", 600)
    _, report = run(model, tmp_path / "d.csv")
    fig = figure(report)
    pnl = panels(fig)["PnL"]
    assert isinstance(pnl.xaxis.get_major_formatter(), dates.ConciseDateFormatter)
    assert pnl.get_xlabel() == "time (UTC)"
    low, high = (dates.num2date(v) for v in pnl.get_xlim())
    assert abs(low - START) < timedelta(seconds=5)  # the rows are a second apart
    assert abs(high - (START + timedelta(seconds=599))) < timedelta(seconds=5)
    # every panel shares the axis
    assert {ax.get_xlim() for ax in fig.axes} == {pnl.get_xlim()}


def test_without_a_time_column_the_axis_counts_ticks(tmp_path: Path) -> None:
    model = load_model(PERP)
    table = synth(model, tmp_path / "d.csv", 300)
    table.drop(columns="time").to_csv(tmp_path / "no-time.csv", index=False)
    _, report = run(model, tmp_path / "no-time.csv")
    pnl = panels(figure(report))["PnL"]
    assert not isinstance(pnl.xaxis.get_major_formatter(), dates.DateFormatter)
    assert not isinstance(pnl.xaxis.get_major_formatter(), dates.ConciseDateFormatter)
    assert pnl.get_xlabel() == "tick"
    low, high = pnl.get_xlim()
    assert low < 0 and 300 < high < 310


def test_numeric_times_are_drawn_as_written(tmp_path: Path) -> None:
    model = load_model(PERP)
    table = synth(model, tmp_path / "d.csv", 200)
    table["time"] = [str(1_700_000_000 + 5 * i) for i in range(len(table))]
    table.to_csv(tmp_path / "numbers.csv", index=False)
    _, report = run(model, tmp_path / "numbers.csv")
    pnl = panels(figure(report))["PnL"]
    assert "unit is not known" in pnl.get_xlabel()
    low, high = pnl.get_xlim()
    assert low < 1_700_000_000 and 1_700_000_995 < high < 1_700_001_010


def test_times_without_a_zone_say_so() -> None:
    axis = x_axis([None, "2024-08-05T04:27:00", "2024-08-05T04:28:00"], [0, 1, 2])
    assert axis.kind == "time"
    assert axis.label == "time (as written: no zone)"
    assert list(dates.num2date(axis.x)) == [
        datetime(2024, 8, 5, 4, 27, tzinfo=UTC),  # tick 0 is drawn at the first row's time
        datetime(2024, 8, 5, 4, 27, tzinfo=UTC),
        datetime(2024, 8, 5, 4, 28, tzinfo=UTC),
    ]


def test_times_with_an_offset_are_drawn_in_utc() -> None:
    axis = x_axis([None, "2020-03-13T08:00:00+08:00"], [0, 1])
    assert axis.label == "time (UTC)"
    assert dates.num2date(axis.x[1]) == datetime(2020, 3, 13, 0, 0, tzinfo=UTC)


def test_a_gap_in_time_is_a_gap(tmp_path: Path) -> None:
    """300 seconds without rows: shaded, the lines broken at its start, not squeezed."""
    model = load_model(PERP)
    table = synth(model, tmp_path / "d.csv", 900)
    table = pd.concat([table.iloc[:400], table.iloc[700:]])
    table.to_csv(tmp_path / "gap.csv", index=False)
    _, report = run(model, tmp_path / "gap.csv")
    before, after = START + timedelta(seconds=399), START + timedelta(seconds=700)
    axis = x_axis(report.stats.times, [t for t, _ in report.stats.pnl])
    assert axis.gaps() == [(dates.date2num(before), dates.date2num(after))]
    fig = figure(report)
    pnl = panels(fig)["PnL"]
    assert "no rows (1 gap)" in legend_texts(pnl)
    mid = next(line for line in panels(fig)["perp price"].get_lines() if line.get_label() == "mid")
    xs, ys = np.asarray(mid.get_xdata(), dtype=float), np.asarray(mid.get_ydata(), dtype=float)
    assert np.isnan(ys[0])  # tick 0, before the first row, has no market
    (broken,) = np.flatnonzero(np.isnan(ys[1:])) + 1
    assert dates.num2date(xs[broken]) == before
    assert dates.num2date(xs[broken + 1]) == after
    # the x axis spans the whole 900 seconds: the gap takes its place
    low, high = (dates.num2date(v) for v in pnl.get_xlim())
    assert high - low > timedelta(seconds=890)


# -- fills, steps, the loss limit, the instruments -----------------------------------------------


def test_every_fill_is_marked_at_its_price_on_its_instrument(tmp_path: Path) -> None:
    model = load_model(CARRY)
    synth(model, tmp_path / "legs.csv", 900, scenario="calm")
    executor, report = run(model, tmp_path / "legs.csv")
    fig = figure(report)
    assert executor.stats.fills > 0
    for name in ("spot", "future"):
        ax = panels(fig)[f"{name} price"]
        venue = dict(executor.books)[name]
        for side in ("buy", "sell"):
            marked = fill_markers(ax, side)
            expected = [f for f in venue.fills if f.side == side]
            assert len(marked) == len(expected)
            assert sorted(marked[:, 1]) == sorted(float(f.price) for f in expected)
            assert f"{side} fills ({len(expected):,})" in legend_texts(ax)
    # the carry buys spot and sells the future, nothing else
    assert len(fill_markers(panels(fig)["spot price"], "buy")) == executor.stats.fills_of["spot"]
    assert (
        len(fill_markers(panels(fig)["future price"], "sell"))
        == (executor.stats.fills_of["future"])
    )


def test_steps_have_a_lane_each_counting_their_entries(tmp_path: Path) -> None:
    """The carry's rounds go scan, entering, rebalancing, scan; the expiry row stops it:
    a lane per step, filled where the model was in it, and the final step marked."""
    model = load_model(CARRY)
    table = synth(model, tmp_path / "legs.csv", 400, scenario="calm")
    table.loc[300, "expired"] = "true"
    table.to_csv(tmp_path / "expiry.csv", index=False)
    executor, report = run(model, tmp_path / "expiry.csv")
    assert executor.outcome is not None and executor.outcome.reason == "final"
    steps = report.stats.steps
    entries = {s: sum(1 for i, t in enumerate(steps) if t == s and (i == 0 or steps[i - 1] != s))
               for s in model.steps}  # fmt: skip
    assert entries["stopped"] == 1 and entries["entering"] > 1
    fig = figure(report)
    lanes = panels(fig)["step (entries)"]
    assert [t.get_text() for t in lanes.get_yticklabels()] == [
        f"{s} ({entries[s]:,})" for s in model.steps
    ]
    bars = [c for c in lanes.collections if isinstance(c, PolyCollection)]
    assert len(bars) == sum(1 for s in model.steps if entries[s])
    # a dotted line on every panel where the model entered its final step
    stopped = steps.index("stopped")
    when = report.stats.times[stopped]
    assert when is not None and executor.outcome.tick == stopped
    assert START + timedelta(seconds=300) <= datetime.fromisoformat(when)
    where = dates.date2num(datetime.fromisoformat(when))
    for ax in fig.axes:
        final = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        assert [float(np.asarray(line.get_xdata())[0]) for line in final] == [where]
    assert "entered stopped" in legend_texts(panels(fig)["PnL"])


def test_the_loss_limit_is_drawn_where_the_pnl_breaks_it(tmp_path: Path) -> None:
    model = load_model(PERP)
    (found,) = loss_limits(model)
    assert (found.name, found.variable, found.low, found.high) == (
        "loss_bounded", "pnl", Fraction(-5250), None
    )  # fmt: skip
    wider = load_model(PERP, {"max_loss": "8000"})
    assert [x.low for x in loss_limits(wider)] == [Fraction(-8250)]
    synth(model, tmp_path / "d.csv", 300)
    _, report = run(wider, tmp_path / "d.csv")
    pnl = panels(figure(report))["PnL"]
    (line,) = [x for x in pnl.get_lines() if str(x.get_label()).startswith("loss limit")]
    assert list(line.get_ydata()) == [-8250.0, -8250.0]
    assert line.get_label() == "loss limit -8250 (loss_bounded)"
    assert pnl.get_ylim()[0] < -8250  # in the picture, however small the PnL


def test_a_model_without_a_loss_limit_says_so(tmp_path: Path) -> None:
    """The options market maker halts on a prover (within_loss) but has no limit on its
    PnL: nothing is drawn, and the legend says there is no loss limit."""
    assert loss_limits(load_model(OPTIONS)) == []
    assert loss_limits(load_model(CARRY)) == []
    model = load_model(CARRY)
    synth(model, tmp_path / "legs.csv", 100, scenario="calm")
    _, report = run(model, tmp_path / "legs.csv")
    pnl = panels(figure(report))["PnL"]
    assert "no loss limit" in legend_texts(pnl)
    assert not [x for x in pnl.get_lines() if str(x.get_label()).startswith("loss limit")]


def _variant(old: str, new: str) -> Model:
    text = PERP.read_text()
    assert old in text
    return load_text(text.replace(old, new), "variant.yaml")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a variable that counts the PnL the other way (-PnL): pnl > -5250 is PnL < 5250
        ("do: {pnl: pnl + pnl_change}", "do: {pnl: pnl - pnl_change}", [(None, Fraction(5250))]),
        # a variable that starts at 1000: the PnL breaks it at -6250
        ("    init: 0\n    doc: session", "    init: 1000\n    doc: session",
         [(Fraction(-6250), None)]),
        # twice the PnL
        ("do: {pnl: pnl + pnl_change}", "do: {pnl: pnl + 2 * pnl_change}",
         [(Fraction(-2625), None)]),
        # a variable reset on the way does not follow the PnL
        ("do: {pnl: pnl + pnl_change}", "do: {pnl: pnl_change}", []),
        # two limits on the variable: both bounds
        ("  loss_bounded:     pnl > -(max_loss + max_tick_pnl)",
         "  loss_bounded:     pnl > -(max_loss + max_tick_pnl)\n  gain_capped: pnl <= 90000",
         [(Fraction(-5250), None), (None, Fraction(90000))]),
    ],
)  # fmt: skip
def test_the_loss_limit_is_solved_for_the_pnl(
    old: str, new: str, expected: list[tuple[Fraction | None, Fraction | None]]
) -> None:
    found = loss_limits(_variant(old, new))
    assert [(x.low, x.high) for x in found] == expected


def test_each_instrument_gets_its_panels_and_the_pnl_one(tmp_path: Path) -> None:
    model = load_model(CARRY)
    synth(model, tmp_path / "legs.csv", 200, scenario="calm")
    _, report = run(model, tmp_path / "legs.csv")
    fig = figure(report)
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "step (entries)",
        "spot price",
        "spot position",
        "future price",
        "future position",
        "PnL",
    ]
    assert "band [0, 10]" in legend_texts(panels(fig)["spot position"])
    assert "band [-10, 0]" in legend_texts(panels(fig)["future position"])


def test_a_model_without_instruments_is_drawn_on_its_venue(tmp_path: Path) -> None:
    model = load_model(V1_PERP)
    synth(model, tmp_path / "d.csv", 200)
    _, report = run(model, tmp_path / "d.csv")
    fig = figure(report)
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "step (entries)",
        "venue price",
        "venue position",
        "PnL",
    ]
    assert "band [-100, 100]" in legend_texts(panels(fig)["venue position"])
    assert [x.low for x in loss_limits(model)] == [Fraction(-5250)]


def test_a_resumed_run_is_drawn_with_its_fills_times_and_steps(tmp_path: Path) -> None:
    """The ticks before a resume come back from the journal: the same picture."""
    model = load_model(PERP)
    synth(model, tmp_path / "d.csv", 300)
    path = tmp_path / "run.sqlite"
    first, _ = run(model, tmp_path / "d.csv", Journal(path))
    assert first.journal is not None
    first.journal.close()
    again = Executor(model, read_feed(tmp_path / "d.csv", model), Journal(path, existing=True),
                     admitted_by="test")  # fmt: skip
    again.resume()
    assert again.stats.fills > 0
    assert again.stats.fill_log == first.stats.fill_log
    assert again.stats.times == first.stats.times
    assert again.stats.steps == first.stats.steps
    assert again.stats.times[0] is None and again.stats.times[1] == "2026-01-01T00:00:00Z"


# -- drawing many ticks -------------------------------------------------------------------------


def test_thinning_keeps_every_extreme_and_every_break() -> None:
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(size=50_000))
    y[[10_000, 30_000]] = [500.0, -500.0]
    y[20_000] = np.nan
    x = np.arange(len(y), dtype=float)
    tx, ty = _thin(x, y)
    assert len(tx) <= POINTS + 3
    assert np.nanmax(ty) == 500.0 and np.nanmin(ty) == -500.0
    assert np.isnan(ty).sum() == 1 and tx[np.isnan(ty)][0] == 20_000
    assert np.all(np.diff(tx) > 0)
    small = np.arange(10.0)
    assert _thin(small, small)[0] is small


def test_the_cli_writes_the_png(tmp_path: Path) -> None:
    model = load_model(CARRY)
    synth(model, tmp_path / "legs.csv", 120, scenario="calm")
    figure_path = tmp_path / "out" / "legs.png"
    done = run_cli("run", str(CARRY), "--data", str(tmp_path / "legs.csv"), "--allow-unproven",
                   "--no-journal", "--plot", str(figure_path), "--json")  # fmt: skip
    assert done.code == 0, done.err
    assert json.loads(done.out)["plot"] == str(figure_path)
    from PIL import Image

    with Image.open(figure_path) as image:
        width, height = image.size
    assert width == 1200 and height > 900


# -- real data -----------------------------------------------------------------------------------


def ftx_file(path: Path, rows: int) -> Path:
    """The first ``rows`` minutes of FTX BTC-PERP (January 2022) as a standard data file
    for the perpetual market maker: its book made from each bar's close -/+ 0.5 USD, its
    sizes and volume in contracts of 0.001 BTC (the file counts USD); and the sidecar
    that says so."""
    bars = pd.read_csv(FTX, nrows=rows)
    contracts = (bars["volume"] / bars["close"] / 0.001).astype(int)
    pd.DataFrame(
        {
            "time": pd.to_datetime(bars["timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "perp.bid": bars["close"] - 0.5,
            "perp.ask": bars["close"] + 0.5,
            "perp.bid_size": contracts.clip(lower=1),
            "perp.ask_size": contracts.clip(lower=1),
            "perp.low": bars["low"],
            "perp.high": bars["high"],
            "perp.volume": contracts,
        }
    ).to_csv(path, index=False)
    book = {"instrument": "perp", "kind": "candles", "granularity": "bar", "interval_ms": 60000,
            "how": "bid and ask are each bar's close -/+ 0.5 USD", "contract_size": "0.001",
            "source_unit": "USD"}  # fmt: skip
    path.with_name(path.name + ".meta.json").write_text(json.dumps({"version": 1, "books": [book]}))
    return path


@pytest.mark.skipif(not FTX.is_file(), reason="no real market data in ../shared/data/market")
def test_real_minutes_are_drawn_in_time_with_their_book_said(tmp_path: Path) -> None:
    model = load_model(PERP, {"max_tick_pnl": "3000"})
    data = ftx_file(tmp_path / "ftx.csv", 3000)
    executor, report = run(model, data)
    fig = figure(report)
    price = panels(fig)["perp price"]
    assert "book from candles (bar)" in [t.get_text() for t in price.texts]
    low, high = (dates.num2date(v) for v in price.get_xlim())
    assert low < datetime(2021, 12, 31, 23, 1, tzinfo=UTC) < high
    assert high - low > timedelta(minutes=2999)
    marked = len(fill_markers(price, "buy")) + len(fill_markers(price, "sell"))
    assert marked == executor.stats.fills > 0
    plot(report, tmp_path / "ftx.png")
    assert (tmp_path / "ftx.png").stat().st_size > 0
