"""`seqprove data derive`: strategy inputs computed from the rows of real data, exactly."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.derive import DeriveError, Settings, derive
from checker.run.meta import BookOrigin, DataMeta, read_meta, write_sidecar
from tests.conftest import ROOT, run_cli

HEADER = ["time", "perp.bid", "perp.ask", "perp.bid_size", "perp.ask_size"]
HEADER += ["perp.low", "perp.high", "perp.volume"]
BOOKS = [  # bid, ask
    ("100.0", "101.0"),
    ("102.5", "103.5"),
    ("101.5", "102.5"),
    ("90.0", "91.0"),
]


def _write(path: Path, books: list[tuple[str, str]] = BOOKS, extra: str = "") -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER + ([extra] if extra else []))
        for i, (bid, ask) in enumerate(books):
            row = [f"2022-01-21T00:0{i}:00Z", bid, ask, "10", "10", bid, ask, "5"]
            writer.writerow(row + (["1"] if extra else []))
    return path


def _columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [r[name] for r in rows] for name in rows[0]}


def test_the_throttle_gets_its_clock_its_mid_move_and_a_kill_switch(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "order_rate_throttle.yaml")
    out = tmp_path / "out.csv"
    made = derive(model, _write(tmp_path / "in.csv"), out)
    assert made.columns == ("now", "mid_move", "kill_switch")
    got = _columns(out)
    assert got["now"] == ["0", "60000", "120000", "180000"]
    assert got["mid_move"] == ["0", "2.5", "-1", "-11.5"]  # mids 100.5, 103, 102, 90.5
    assert got["kill_switch"] == ["false"] * 4
    assert got["perp.bid"] == [b for b, _ in BOOKS]  # the rows are kept as they were
    feed = read_feed(out, model)  # the executor reads it
    assert [r.inputs["mid_move"] for r in feed.rows] == [0, Fraction(5, 2), -1, Fraction(-23, 2)]


def test_margin_ratio_and_momentum_follow_the_synth_formulas(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "margin_ratio_guard.yaml")
    out = tmp_path / "out.csv"
    derive(model, _write(tmp_path / "in.csv"), out, Settings(momentum_rows=1))
    got = _columns(out)
    # x = mid / 100.5; ratio = 20 x / (1 + 3.5 (x - 1)), to 0.01
    for text, (bid, ask) in zip(got["margin_ratio"], BOOKS, strict=True):
        x = (Fraction(bid) + Fraction(ask)) / 2 / Fraction("100.5")
        exact = 20 * x / (1 + Fraction(7, 2) * (x - 1))
        assert abs(Fraction(text) - exact) <= Fraction(1, 200)
    # one row back: +248.76 bp, -97.09 bp, -1127.45 bp
    assert got["signal_long"] == ["false", "true", "false", "false"]
    assert got["signal_short"] == ["false", "false", "true", "true"]


def test_basis_of_two_legs_in_basis_points(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "cash_and_carry_basis.yaml")
    source = tmp_path / "legs.csv"
    venue = ["bid", "ask", "bid_size", "ask_size", "low", "high", "volume"]
    header = ["time", *(f"spot.{c}" for c in venue), *(f"future.{c}" for c in venue)]
    rows = [  # the future 101.5 over a spot mid of 100.5, then level with it
        ["2022-12-13T00:00:00Z", 100, 101, 1, 1, 100, 101, 0, 101, 102, 1, 1, 101, 102, 0],
        ["2022-12-13T00:01:00Z", 100, 101, 1, 1, 100, 101, 0, 100, 101, 1, 1, 100, 101, 0],
    ]
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    out = tmp_path / "out.csv"
    expiry = datetime.fromisoformat("2022-12-13T00:01:00+00:00")
    derive(model, source, out, Settings(expiry=expiry))
    got = _columns(out)
    assert got["basis_bps"] == ["99.50", "0.00"]  # 101.5 / 100.5 - 1 = 99.502... bp
    assert got["expired"] == ["false", "true"]
    assert got["kill_switch"] == ["false", "false"]


def test_an_input_without_a_derivation_is_named(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "delta_hedged_options_mm.yaml")
    with pytest.raises(DeriveError, match=r"'option_bid'.*has no derivation"):
        derive(model, _write(tmp_path / "in.csv"), tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_columns_already_there_are_kept_and_metadata_carried(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "order_rate_throttle.yaml")
    source = _write(tmp_path / "in.csv", extra="now")
    write_sidecar(source, DataMeta(books=(BookOrigin("perp", "candles", "bar", 60_000),)))
    out = tmp_path / "out.csv"
    made = derive(model, source, out)
    assert made.columns == ("mid_move", "kill_switch")
    assert _columns(out)["now"] == ["1"] * 4
    meta = read_meta(out)
    assert meta is not None and meta.books[0].granularity == "bar"
    assert meta.extra["derived"][0].startswith("mid_move: change of the quoted mid")


def test_parquet_in_parquet_out(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "perp_grid_bot.yaml")
    source = _write(tmp_path / "in.csv")
    pq.write_table(pacsv.read_csv(source), tmp_path / "in.parquet")
    derive(model, tmp_path / "in.parquet", tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.column("kill_switch").to_pylist() == ["false"] * 4
    assert read_meta(tmp_path / "out.parquet") is not None
    read_feed(tmp_path / "out.parquet", model)


def test_the_command(tmp_path: Path) -> None:
    source = _write(tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    run = run_cli(
        "data",
        "derive",
        "models/order_rate_throttle.yaml",
        "--data",
        str(source),
        "--out",
        str(out),
    )
    assert run.code == 0, run.err
    assert "derived mid_move: change of the quoted mid" in run.out
    bad = run_cli(
        "data",
        "derive",
        "models/delta_hedged_options_mm.yaml",
        "--data",
        str(source),
        "--out",
        str(tmp_path / "x.csv"),
    )
    assert bad.code == 3 and "option_bid" in bad.err and "Traceback" not in bad.err
    assert json.loads((tmp_path / "out.csv.meta.json").read_text())["extra"]["derived"]


def test_bad_cells_are_located(tmp_path: Path) -> None:
    model = load_model(ROOT / "models" / "order_rate_throttle.yaml")
    source = _write(tmp_path / "in.csv")
    lines = source.read_text().splitlines()
    lines[2] = lines[2].replace("2022-01-21T00:01:00Z", "yesterday")
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DeriveError, match=r"in\.csv:3:1: time 'yesterday' is not ISO-8601"):
        derive(model, source, tmp_path / "out.csv")
    lines[2] = lines[2].replace("yesterday", "2022-01-21T00:01:00Z").replace("102.5", "1O2.5", 1)
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DeriveError, match=r"in\.csv:3:2: '1O2\.5' is not a number"):
        derive(model, source, tmp_path / "out.csv")
    run = run_cli(
        "data",
        "derive",
        "models/order_rate_throttle.yaml",
        "--data",
        str(source),
        "--out",
        str(tmp_path / "out.csv"),
    )
    assert run.code == 3 and run.err.startswith(f"{source}:3:2: ")
    assert not (tmp_path / "out.csv").exists()
