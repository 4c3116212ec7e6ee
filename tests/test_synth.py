"""Synthetic market data: reproducibility, invariants, scenario shapes, exact file round trips."""

from __future__ import annotations

import csv
import statistics
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checker.run.synth import (
    COLUMNS,
    SCENARIOS,
    VENUE_COLUMNS,
    Table,
    synthesize,
    write_table,
)

N = 4000


@lru_cache
def table(scenario: str, ticks: int = N, seed: int = 1) -> Table:
    return synthesize(scenario, ticks, seed)


def col(t: Table, name: str) -> list[Any]:
    i = t.columns.index(name)
    return [row[i] for row in t.rows]


def mids(t: Table) -> list[Fraction]:
    return [(b + a) / 2 for b, a in zip(col(t, "bid"), col(t, "ask"), strict=True)]


def test_api_shape() -> None:
    assert tuple(COLUMNS)[: len(VENUE_COLUMNS)] == VENUE_COLUMNS
    assert {"edge", "basis_bps", "expired", "kill_switch", "margin_ratio"} <= COLUMNS.keys()
    assert {"signal_long", "signal_short", "now", "mid_move"} <= COLUMNS.keys()
    t = table("calm")
    assert t.columns == tuple(COLUMNS) and len(t.rows) == N
    types = {"text": str, "int": int, "real": Fraction, "bool": bool}
    for name, value in zip(t.columns, t.rows[0], strict=True):
        assert type(value) is types[COLUMNS[name].kind], name
    assert col(t, "time")[:2] == ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"]
    assert col(t, "time")[3600] == "2026-01-01T01:00:00Z"


def test_same_seed_same_table_other_seed_differs() -> None:
    for scenario in SCENARIOS:
        assert synthesize(scenario, 500, 42) == synthesize(scenario, 500, 42)
        assert synthesize(scenario, 500, 42).rows != synthesize(scenario, 500, 43).rows


def test_column_subset_matches_full_table() -> None:
    full = table("crash")
    sub = synthesize("crash", N, 1, ["now", "kill_switch", "bid", "margin_ratio"])
    assert sub.columns == ("bid", "kill_switch", "margin_ratio", "now")
    for name in sub.columns:
        assert col(sub, name) == col(full, name)
    assert synthesize("calm", 3, 0, []).rows == [(), (), ()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("boom", 10, 0), "unknown scenario 'boom'"),
        (("calm", 0, 0), "ticks must be a positive integer"),
        (("calm", 10, 0, ["bid", "nope"]), "unknown column"),
        (("calm", 10, 0, "bid"), "sequence of column names"),
    ],
)
def test_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthesize(*args)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_invariants(scenario: str) -> None:
    t = table(scenario)
    bid, ask, low, high = (col(t, c) for c in ("bid", "ask", "low", "high"))
    mid = mids(t)
    for i, (b, a, lo, hi) in enumerate(zip(bid, ask, low, high, strict=True)):
        assert isinstance(b, Fraction) and isinstance(a, Fraction)
        assert a > b > 0
        for price in (b, a, lo, hi):
            assert (price * 2).denominator == 1  # on the 0.5 USD grid
        before = mid[max(i - 1, 0)]
        assert lo <= min(before, mid[i]) and hi >= max(before, mid[i])
    for name in ("bid_size", "ask_size", "volume"):
        assert min(col(t, name)) >= 0
    for name in ("edge", "basis_bps", "margin_ratio", "mid_move"):
        assert all((v * 100).denominator == 1 for v in col(t, name))
    assert col(t, "mid_move") == [Fraction(0)] + [m - p for p, m in pairwise(mid)]
    assert min(col(t, "margin_ratio")) >= 0
    longs, shorts = col(t, "signal_long"), col(t, "signal_short")
    assert not any(x and y for x, y in zip(longs, shorts, strict=True))
    assert any(longs) or any(shorts)
    now = col(t, "now")
    assert all(0 <= n - 1000 * i < 1000 for i, n in enumerate(now))
    assert all(a < b for a, b in pairwise(now))
    expired = col(t, "expired")
    assert expired == [False] * (N - N // 100) + [True] * (N // 100)
    kill = col(t, "kill_switch")
    assert kill == sorted(kill)  # once pressed, stays pressed
    assert any(kill) == (scenario == "crash")


def test_calm_stays_inside_the_model_ranges() -> None:
    t = table("calm")
    assert all(-1000 <= v <= 1000 for v in col(t, "edge"))
    assert all(-2000 <= v <= 2000 for v in col(t, "basis_bps"))
    assert all(0 <= v < 50 for v in col(t, "margin_ratio"))
    assert all(-5000 <= v <= 5000 for v in col(t, "mid_move"))
    assert 0.02 < sum(v >= 5 for v in col(t, "edge")) / N < 0.5


@pytest.mark.parametrize("seed", range(4))
def test_crash_shape(seed: int) -> None:
    t = table("crash", N, seed)
    peak, drawdown = Fraction(0), Fraction(0)
    for m in mids(t):
        peak = max(peak, m)
        drawdown = max(drawdown, 1 - m / peak)
    assert drawdown >= Fraction(15, 100)
    assert any(col(t, "kill_switch")) and not col(t, "kill_switch")[0]
    assert max(col(t, "margin_ratio")) >= 80
    assert max(abs(v) for v in col(t, "edge")) > 1000
    spreads = [a - b for a, b in zip(col(t, "ask"), col(t, "bid"), strict=True)]
    assert max(spreads) >= 2


def spread_median(t: Table, lo: float, hi: float) -> Any:
    spreads = [a - b for a, b in zip(col(t, "ask"), col(t, "bid"), strict=True)]
    return statistics.median(spreads[int(lo * N) : int(hi * N)])


@pytest.mark.parametrize("seed", range(3))
def test_drought_shape(seed: int) -> None:
    drought, calm = table("liquidity-drought", N, seed), table("calm", N, seed)
    assert spread_median(drought, 0.4, 0.55) >= 10 * spread_median(calm, 0.4, 0.55)
    middle = slice(int(0.4 * N), int(0.55 * N))
    for name in ("bid_size", "volume"):
        assert (
            statistics.median(col(drought, name)[middle])
            <= statistics.median(col(calm, name)[middle]) / 100
        )
    assert col(drought, "bid")[:100] == col(calm, "bid")[:100]  # same seed, same calm start


@pytest.mark.parametrize("seed", range(3))
def test_vol_spike_shape(seed: int) -> None:
    moves = [abs(v) for v in col(table("vol-spike", N, seed), "mid_move")]
    start = statistics.median(moves[1 : int(0.2 * N)])
    middle = statistics.median(moves[int(0.5 * N) : int(0.55 * N)])
    assert middle >= 3 * start


def test_trend_moves_the_price() -> None:
    for seed in range(4):
        m = mids(table("trend", N, seed))
        assert abs(m[-1] / m[0] - 1) >= Fraction(2, 100)


def read_csv(path: Path) -> Table:
    with path.open(newline="") as f:
        header, *body = list(csv.reader(f))
    parse: dict[str, Any] = {
        "text": str,
        "int": int,
        "real": Fraction,
        "bool": {"true": True, "false": False}.get,
    }
    rows = [tuple(parse[COLUMNS[c].kind](v) for c, v in zip(header, r, strict=True)) for r in body]
    return Table(tuple(header), rows)


@pytest.mark.parametrize("scenario", ["crash", "liquidity-drought"])
def test_csv_round_trip(tmp_path: Path, scenario: str) -> None:
    t = table(scenario)
    write_table(t, tmp_path / "data.csv")
    text = (tmp_path / "data.csv").read_text()
    assert "e-" not in text and "e+" not in text and "/" not in text
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert read_csv(tmp_path / "data.csv") == t


def test_parquet_round_trip(tmp_path: Path) -> None:
    t = table("crash")
    write_table(t, tmp_path / "data.parquet")
    back = pq.read_table(tmp_path / "data.parquet")
    assert tuple(back.column_names) == t.columns
    for field in back.schema:
        column = COLUMNS[field.name]
        expected = {"text": pa.string(), "int": pa.int64(), "bool": pa.bool_()}.get(column.kind)
        assert field.type == (expected or pa.decimal128(18, column.scale))
    columns = [
        [Fraction(v) if isinstance(v, Decimal) else v for v in back.column(name).to_pylist()]
        for name in t.columns
    ]
    assert list(zip(*columns, strict=True)) == t.rows
    negative = Table(("mid_move",), [(Fraction(-1, 4),), (Fraction(-1234567, 4),)])
    write_table(negative, tmp_path / "neg.parquet")
    values = pq.read_table(tmp_path / "neg.parquet").column(0).to_pylist()
    assert values == [Decimal("-0.25"), Decimal("-308641.75")]


def test_write_table_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        write_table(table("calm"), tmp_path / "data.json")
    with pytest.raises(ValueError, match="more than 1 decimals"):
        write_table(Table(("bid",), [(Fraction(1, 4),)]), tmp_path / "bad.csv")


def test_hundred_thousand_ticks() -> None:
    t = synthesize("vol-spike", 100_000, 7)
    assert len(t.rows) == 100_000 and t.rows[-1][0] == "2026-01-02T03:46:39Z"
    assert t.rows[-1][t.columns.index("expired")] is True


def test_sizes_in_the_model_contracts(tmp_path: Path) -> None:
    """`data synth --model` counts touch sizes and volume in each instrument's contracts
    (floor(n * 10 / mid / contract_size)), and the file's metadata says so, so that a
    model with other contracts is refused."""
    from checker.run.meta import read_meta
    from tests.conftest import ROOT, run_cli

    plain = synthesize("calm", 50, 3, ["time", "bid", "ask", "bid_size", "ask_size", "volume"])
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"mm{suffix}"
        made = run_cli(
            "data", "synth", "--scenario", "calm", "--ticks", "50", "--seed", "3",
            "--out", str(out), "--model", str(ROOT / "models" / "perp_market_maker.yaml"),
        )  # fmt: skip
        assert made.code == 0, made.err
        meta = read_meta(out)
        assert meta is not None
        (book,) = meta.books
        assert (book.instrument, book.contract_size) == ("perp", "0.001")
        assert book.source_unit == "contracts of 10 USD"
        if suffix == ".csv":
            with out.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
        else:
            rows = pq.read_table(out).to_pylist()
        for row, (_, bid, ask, bid_size, ask_size, volume) in zip(rows, plain.rows, strict=True):
            mid = (Fraction(bid) + Fraction(ask)) / 2
            for got, tens in ((row["perp.bid_size"], bid_size), (row["perp.ask_size"], ask_size)):
                assert int(got) == int(Fraction(tens * 10) / mid / Fraction("0.001"))
            assert int(row["perp.volume"]) == int(Fraction(volume * 10) / mid / Fraction("0.001"))
    runs = run_cli(
        "run", str(ROOT / "models" / "perp_market_maker.yaml"), "--data", str(tmp_path / "mm.csv"),
        "--allow-unproven", "--no-journal", "--no-plot",
    )  # fmt: skip
    assert runs.code in (0, 1, 2), runs.err  # the model's own contracts: it runs
    # a file that says its contracts are 0.01 BTC is refused for a model of 0.001 BTC
    unplain = tmp_path / "mm.csv"
    text = unplain.with_name("mm.csv.meta.json").read_text().replace('"0.001"', '"0.01"')
    unplain.with_name("mm.csv.meta.json").write_text(text)
    refused = run_cli(
        "run", str(ROOT / "models" / "perp_market_maker.yaml"), "--data", str(unplain),
        "--allow-unproven", "--no-journal", "--no-plot",
    )  # fmt: skip
    assert refused.code == 3 and "0.01" in refused.err, refused.err
    # written again without a model: no metadata is left behind from the first file
    again = run_cli("data", "synth", "--scenario", "calm", "--ticks", "5", "--out", str(unplain))
    assert again.code == 0 and read_meta(unplain) is None
