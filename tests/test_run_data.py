"""Real market data on the executor: columns the model does not read, missing and
headerless files, the bars fill model, its choice from the data's metadata, and a run
over a real one-minute file when ``../shared/data/market`` is there."""

from __future__ import annotations

import json
import sqlite3
from fractions import Fraction as F
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from checker.lang.loader import load_model
from checker.model import Model
from checker.run.data import DataError, columns_for, read_feed
from checker.run.executor import Executor, RunError
from checker.run.journal import Journal
from checker.run.meta import META_KEY, BookOrigin, DataMeta, meta_text, write_sidecar
from checker.run.synth import synthesize, write_table
from checker.run.venue import Fill, Market, PaperVenue, VenueError
from tests.conftest import ROOT, V1_MODELS, run_cli

PERP = V1_MODELS / "perp_market_maker.yaml"
PERP_V2 = ROOT / "models" / "perp_market_maker.yaml"
MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
FTX = MARKET / "ftx_perp_1m" / "btc-perp-20211231-20220201_1m.csv"

BARS = DataMeta(
    books=(
        BookOrigin(
            "",
            "candles",
            "bar",
            60_000,
            "bid/ask = close -/+ 0.5 USD; touch sizes are the bar's volume",
        ),
    )
)


def bar(
    low: int | F,
    high: int | F,
    volume: int | F,
    bid: int | F = 99,
    ask: int | F = 101,
    size: int | F = 1000,
) -> Market:
    """A candle's row: a made-up book (bid, ask, large touch sizes) around a real range."""
    return Market(F(bid), F(ask), F(size), F(size), F(low), F(high), F(volume))


def bars_venue(participation: F = F(1, 10), **kw: object) -> PaperVenue:
    return PaperVenue(fill_model="bars", participation=participation, **kw)  # type: ignore[arg-type]


def perp_csv(path: Path, ticks: int = 60, scenario: str = "calm", seed: int = 3) -> Path:
    write_table(synthesize(scenario, ticks, seed, columns_for(load_model(PERP))), path)
    return path


def with_extra(path: Path) -> Path:
    """The file with two columns the model does not read, one of them text."""
    frame = pd.read_csv(path, dtype=str)
    frame.insert(1, "open", frame["bid"])
    frame["note"] = "kept as it is"
    frame.to_csv(path, index=False)
    return path


# -- columns ------------------------------------------------------------------------------------


def test_columns_the_model_does_not_read_are_ignored_and_listed(tmp_path: Path) -> None:
    model = load_model(PERP)
    plain = perp_csv(tmp_path / "plain.csv")
    wide = with_extra(perp_csv(tmp_path / "wide.csv"))
    a, b = read_feed(plain, model), read_feed(wide, model)
    assert b.ignored == ("open", "note") and a.ignored == ()
    assert [(r.markets, r.inputs, r.time) for r in a.rows] == [
        (r.markets, r.inputs, r.time) for r in b.rows
    ]
    parquet = perp_csv(tmp_path / "plain.parquet")
    table = pq.read_table(parquet).append_column("spread", pa.array(["x"] * len(a.rows)))
    pq.write_table(table, tmp_path / "wide.parquet")
    c = read_feed(tmp_path / "wide.parquet", model)
    assert c.ignored == ("spread",) and [r.markets for r in c.rows] == [r.markets for r in a.rows]


def test_a_run_says_once_which_columns_it_ignores(tmp_path: Path) -> None:
    data = with_extra(perp_csv(tmp_path / "wide.csv"))
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot", "--json")  # fmt: skip
    assert run.code == 0, run.err
    assert run.err.count("ignored: open, note") == 1
    assert f"{data}: 2 column(s) not read by perp-market-maker, ignored: open, note" in run.err
    report = json.loads(run.out)
    assert report["market_data"]["ignored_columns"] == ["open", "note"]
    assert report["market_data"]["rows"] == 60 and report["ticks"] == 60
    assert report["market_data"]["time"]["first"].endswith("T00:00:00Z")
    text = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                   "--no-plot")  # fmt: skip
    assert "columns not read" in text.out and "open, note" in text.out


def test_a_missing_column_names_data_import_map(tmp_path: Path) -> None:
    data = perp_csv(tmp_path / "d.csv")
    frame = pd.read_csv(data, dtype=str).rename(columns={"ask_size": "best_ask_qty"})
    frame.to_csv(data, index=False)
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot")  # fmt: skip
    assert run.code == 3 and "Traceback" not in run.err
    assert run.err.splitlines()[-1] == (
        f"{data}:1:1: missing column 'ask_size' (venue column; `seqprove data import --map "
        "ask_size=COLUMN` writes it from a column of another name)"
    )


def test_a_missing_input_column_is_located_too(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv")
    frame = pd.read_csv(data, dtype=str).drop(columns=["ask"])
    frame.to_csv(data, index=False)
    with pytest.raises(DataError) as caught:
        read_feed(data, model)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message.startswith("missing column 'ask' (input 'ask' of perp-market-maker;")
    assert "--map ask=COLUMN" in problem.message


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_headerless_file_is_refused_and_pointed_at_data_import(
    tmp_path: Path, suffix: str
) -> None:
    data = perp_csv(tmp_path / "d.csv")
    lines = data.read_text().splitlines()
    data.write_text("\n".join(lines[1:]) + "\n")
    if suffix == ".parquet":
        frame = pd.read_csv(data, header=None)
        frame.columns = [str(c) for c in frame.columns]  # pandas' names: 0, 1, ...
        frame.to_parquet(tmp_path / "d.parquet")
        data = tmp_path / "d.parquet"
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot")  # fmt: skip
    assert run.code == 3 and "Traceback" not in run.err
    (message,) = [line for line in run.err.splitlines() if line.startswith(str(data))]
    assert message.startswith(f"{data}:1:1: the first line is a row of data, not column")
    assert "`seqprove data import`" in message and "synth" not in message


def test_a_binance_kline_file_is_headerless(tmp_path: Path) -> None:
    data = tmp_path / "BTCUSDT-1m.csv"
    data.write_text(
        "1584059220000,4800.00,4850.00,4700.00,4820.00,150.5,1584059279999,723412.1,2100,"
        "80.2,385000.5,0\n"
    )
    with pytest.raises(DataError) as caught:
        read_feed(data, load_model(PERP))
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (1, 1)
    assert "'1584059220000' is a value" in problem.message


def test_a_header_of_names_with_some_numbers_is_a_header(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv")
    frame = pd.read_csv(data, dtype=str)
    frame["2024"] = "1"  # a column named like a number, beside the ones the model reads
    frame.to_csv(data, index=False)
    assert read_feed(data, model).ignored == ("2024",)


# -- the bars fill model ------------------------------------------------------------------------


def test_bars_fill_when_the_range_reaches_the_price_not_on_the_made_up_book() -> None:
    for model, expected in (
        ("bars", []),
        ("book", [Fill("b/1", "b", 2, "buy", 10, F(100), "limit")]),
    ):
        v = PaperVenue(fill_model=model)
        v.on_market(1, bar(100, 102, 0))
        v.place(1, "b", "buy", 10, F(100))
        # the made-up ask is at the order's price with 1000 on it, but the bar never
        # traded down to 100: only the book model fills
        assert v.on_market(2, bar(F("100.5"), 103, 500, bid=99, ask=100)) == expected
    v = bars_venue()
    v.on_market(1, bar(100, 102, 0))
    v.place(1, "b", "buy", 10, F(100))
    v.place(1, "s", "sell", 10, F(105))
    # low reaches 100 exactly (the book model needs low < 100); high 104 misses 105
    assert v.on_market(2, bar(100, 104, 400)) == [Fill("b/1", "b", 2, "buy", 10, F(100), "limit")]
    assert v.on_market(3, bar(101, 105, 400)) == [Fill("s/1", "s", 3, "sell", 10, F(105), "limit")]
    assert v.position == 0 and v.cash == F(50)


def test_bars_fill_at_most_the_volume_times_participation_at_the_limit_price() -> None:
    v = bars_venue()
    v.on_market(1, bar(100, 102, 0))
    v.place(1, "b", "buy", 10, F(101))
    fills = v.on_market(2, bar(95, 102, 37))  # 3.7 of the 37 traded: 3 whole contracts
    assert fills == [Fill("b/1", "b", 2, "buy", 3, F(101), "limit")]
    assert v.on_market(3, bar(95, 102, 9)) == []  # 0.9: less than one contract
    assert v.on_market(4, bar(101, 102, 80)) == [Fill("b/2", "b", 4, "buy", 7, F(101), "limit")]
    assert v.orders["b"].status == "filled" and v.bought_limit == 10
    exact = bars_venue(F(1, 4))
    exact.on_market(1, bar(100, 102, 0))
    exact.place(1, "x", "sell", F(10), F(102))
    assert exact.on_market(2, bar(100, 102, F(7))) == [
        Fill("x/1", "x", 2, "sell", F(7, 4), F(102), "limit")
    ]


def test_orders_of_a_side_share_the_bar_in_price_time_priority() -> None:
    v = bars_venue()
    v.on_market(1, bar(100, 102, 0))
    v.place(1, "low", "buy", F(3), F(100))
    v.place(1, "early", "buy", F(2), F(101))
    v.place(1, "late", "buy", F(5), F(101))
    v.place(1, "sell", "sell", F(4), F(101))
    # 45 traded, 4.5 for each side: 101 before 100, earlier before later at 101
    fills = v.on_market(2, bar(99, 101, 45))
    assert [(f.cid, f.qty) for f in fills] == [
        ("early", 2),
        ("late", F(5, 2)),
        ("sell", 4),
    ]
    assert v.orders["low"].filled == 0  # the side's share is used up
    assert v.orders["late"].remaining == F(5, 2)


def test_an_int_order_rounds_its_share_down() -> None:
    v = bars_venue()
    v.on_market(1, bar(100, 102, 0))
    v.place(1, "a", "buy", 10, F(101))
    v.place(1, "b", "buy", 10, F(101))
    # 4.5: the first takes 4, the half left is no whole contract for the second
    assert [(f.cid, f.qty) for f in v.on_market(2, bar(99, 102, 45))] == [("a", 4)]
    assert isinstance(v.orders["a"].filled, int)


def test_market_orders_take_the_touch_with_slippage_under_bars() -> None:
    v = PaperVenue(fill_model="bars", slippage_bps=F(10))
    v.on_market(1, bar(99, 103, 0, bid=100, ask=101))
    (fill,) = v.place(1, "m", "buy", 5, None)
    assert fill.price == F(101) * F(10010, 10000) and fill.kind == "market"


def test_deferred_bars_pending_orders_and_market_orders() -> None:
    v = PaperVenue(fill_model="bars", deferred=True, instrument="perp")
    v.on_market(1, bar(100, 102, 0, bid=100, ask=101))
    v.place(1, "q", "buy", 10, F(100))
    v.place(1, "m", "sell", 4, None)
    v.place(1, "i", "sell", 10, F(102), "ioc")
    v.cancel(1, "c", "buy")  # the quote's cancel races the next bar
    fills = v.on_market(2, bar(99, 101, 50, bid=100, ask=101))
    # the market order at the next row's bid; the cancelled quote still fills from the
    # bar (5 of 50), the IOC at 102 is not reached and leaves
    assert [(f.cid, f.qty, f.price, f.pending) for f in fills] == [
        ("m", 4, F(100), True),
        ("q", 5, F(100), True),
    ]
    assert sorted(v.left) == ["i", "q"] and v.open_quantity("buy") == 0


def test_snapshot_keeps_the_fill_model_and_participation() -> None:
    v = bars_venue(F(3, 20))
    v.on_market(1, bar(100, 102, 0))
    v.place(1, "b", "buy", 10, F(100))
    data = json.loads(json.dumps(v.snapshot()))
    assert (data["fill_model"], data["participation"]) == ("bars", "3/20")
    again = PaperVenue.restore(data)
    assert (again.fill_model, again.participation) == ("bars", F(3, 20))
    assert again.on_market(2, bar(99, 102, 40)) == v.on_market(2, bar(99, 102, 40))
    assert "fill_model" not in PaperVenue().snapshot()  # the book model's record is as before


@pytest.mark.parametrize(("model", "rate"), [("ticks", F(1, 10)), ("bars", F(0)), ("bars", F(2))])
def test_a_bad_fill_model_or_participation_is_refused(model: str, rate: F) -> None:
    with pytest.raises(VenueError):
        PaperVenue(fill_model=model, participation=rate)


# -- choosing the fill model ---------------------------------------------------------------------


def test_auto_chooses_bars_from_a_csv_sidecar(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv")
    assert Executor(model, read_feed(data, model), None).fill_models == {"": "book"}
    write_sidecar(data, BARS)
    executor = Executor(model, read_feed(data, model), None)
    assert executor.fill_models == {"": "bars"} and executor.venue.fill_model == "bars"
    assert executor.fill_report()["chosen_by"] == "auto: the data's metadata says its rows are bars"
    forced = Executor(model, read_feed(data, model), None, fill_model="book")
    assert forced.venue.fill_model == "book"
    ticks = DataMeta(books=(BookOrigin("", "quotes", "tick"),))
    write_sidecar(data, ticks)
    assert Executor(model, read_feed(data, model), None).fill_models == {"": "book"}


def test_auto_chooses_bars_from_parquet_metadata_and_the_report_says_so(tmp_path: Path) -> None:
    data = perp_csv(tmp_path / "d.parquet", ticks=200, scenario="vol-spike")
    table = pq.read_table(data)
    pq.write_table(table.replace_schema_metadata({META_KEY: meta_text(BARS)}), data)
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot", "--json", "--participation", "0.25")  # fmt: skip
    assert run.code in (0, 2), run.err
    report = json.loads(run.out)
    assert report["fill_model"] == {
        "name": "bars",
        "books": {"market": "bars"},
        "participation": "0.25",
        "chosen_by": "auto: the data's metadata says its rows are bars",
        "queue_position": "ignored",
    }
    (book,) = report["market_data"]["books"]
    assert book["granularity"] == "bar" and book["interval_ms"] == 60_000
    text = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                   "--no-plot", "--participation", "0.25")  # fmt: skip
    flat = " ".join(text.out.replace("│", " ").split())
    assert "book made from 1-minute candles: bid/ask = close -/+ 0.5 USD" in flat
    assert "at most 0.25 of the bar's volume per side" in flat
    assert "queue position ignored" in flat


def test_a_run_on_bars_fills_only_what_the_bars_allow(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv", ticks=400, scenario="vol-spike")
    feed = read_feed(data, model)
    fills = {}
    for choice in ("book", "bars"):
        executor = Executor(model, feed, None, fill_model=choice)
        executor.start()
        executor.run()
        fills[choice] = [f for f in executor.venue.fills if f.kind == "limit"]
    assert fills["bars"] and fills["bars"] != fills["book"]
    per_side: dict[tuple[int, str], F] = {}
    for fill in fills["bars"]:
        row = feed.rows[fill.tick - 1].market
        assert row.low <= fill.price if fill.side == "buy" else row.high >= fill.price
        per_side[fill.tick, fill.side] = per_side.get((fill.tick, fill.side), F(0)) + fill.qty
    for (tick, _), total in per_side.items():
        assert total <= feed.rows[tick - 1].market.volume / 10


BAD_OPTIONS = [
    ["--participation", "0"],
    ["--participation", "1.5"],
    ["--participation", "a tenth"],
    ["--fill-model", "ticks"],
]


@pytest.mark.parametrize("option", BAD_OPTIONS)
def test_bad_fill_options_are_usage_errors(tmp_path: Path, option: list[str]) -> None:
    data = perp_csv(tmp_path / "d.csv")
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot", *option)  # fmt: skip
    assert run.code == 3 and "Traceback" not in run.err and option[0] in run.err


def test_metadata_in_other_contracts_is_refused(tmp_path: Path) -> None:
    data = perp_csv(tmp_path / "d.csv")
    meta = DataMeta(books=(BookOrigin("", "candles", "bar", 60_000, contract_size="0.001"),))
    write_sidecar(data, meta)
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot")  # fmt: skip
    assert run.code == 3 and "Traceback" not in run.err
    assert f"{data}:1:1: the data's metadata counts quantities in contracts of 0.001" in run.err
    assert "trades its venue in contracts of 0.01" in run.err


def test_damaged_metadata_is_located(tmp_path: Path) -> None:
    data = perp_csv(tmp_path / "d.csv")
    (tmp_path / "d.csv.meta.json").write_text("{not json")
    run = run_cli("run", str(PERP), "--data", str(data), "--allow-unproven", "--no-journal",
                  "--no-plot")  # fmt: skip
    assert run.code == 3 and "Traceback" not in run.err
    assert run.err.splitlines()[-1].startswith(f"{tmp_path / 'd.csv.meta.json'}:1:1: data metadata")


# -- resume ---------------------------------------------------------------------------------------


def cut_and_resume(model: Model, data: Path, journal: Journal, cut: int, **kw: object) -> Executor:
    first = Executor(model, read_feed(data, model), journal, fill_model="bars",
                     participation=F(1, 4))  # fmt: skip
    first.start()
    while first.next_tick <= cut:
        first._tick(first.next_tick, first.feed.rows[first.next_tick - 1])
        first.next_tick += 1
    resumed = Executor(model, read_feed(data, model), journal, **kw)  # type: ignore[arg-type]
    resumed.resume()
    return resumed


def test_a_resumed_run_continues_with_the_journals_fill_model(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv", ticks=600, scenario="vol-spike", seed=8)
    feed = read_feed(data, model)
    whole = Journal(tmp_path / "whole.sqlite")
    straight = Executor(model, feed, whole, fill_model="bars", participation=F(1, 4))
    straight.start()
    straight.run()
    pieces = Journal(tmp_path / "pieces.sqlite")
    resumed = cut_and_resume(model, data, pieces, 250)  # no fill model given: the journal's
    assert resumed.fill_models == {"": "bars"} and resumed.participation == F(1, 4)
    assert resumed.venue.fill_model == "bars" and resumed.venue.participation == F(1, 4)
    resumed.run()
    assert pieces.dump() == whole.dump()
    assert resumed.stats.series == straight.stats.series
    assert pieces.meta()["fill_models"] == {"": "bars"}


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"fill_model": "book"}, "ran with fill model(s) bars, not book"),
        ({"fill_model": "auto"}, "ran with fill model(s) bars, not book"),
        ({"participation": F(1, 10)}, "ran with participation 0.25, not 0.1"),
    ],
)
def test_a_resume_with_another_fill_model_is_refused(
    tmp_path: Path, given: dict[str, object], words: str
) -> None:
    model = load_model(PERP)
    data = perp_csv(tmp_path / "d.csv", ticks=100)
    with pytest.raises(RunError, match=words.replace("(", r"\(").replace(")", r"\)")):
        cut_and_resume(model, data, Journal(tmp_path / "j.sqlite"), 40, **given)


def test_a_resume_on_the_command_line_keeps_the_fill_model(tmp_path: Path) -> None:
    data = perp_csv(tmp_path / "d.csv", ticks=100)
    journal = tmp_path / "j.sqlite"
    args = ["run", str(PERP), "--data", str(data), "--allow-unproven", "--journal",
            str(journal), "--no-plot", "--json"]  # fmt: skip
    first = run_cli(*args, "--fill-model", "bars")
    assert first.code == 0, first.err
    again = run_cli(*args, "--resume")
    assert again.code == 0, again.err
    assert json.loads(again.out)["fill_model"]["name"] == "bars"
    refused = run_cli(*args, "--resume", "--fill-model", "book")
    assert refused.code == 3 and "resume without --fill-model" in refused.err


# -- a real file ---------------------------------------------------------------------------------


def ftx_standard(path: Path, contract: F) -> Path:
    """The FTX BTC-PERP one-minute candles of January 2022 as a standard file of the
    perpetual market maker: a book made from each bar's close (-/+ 0.5 USD), touch sizes
    and volume the bar's USD volume in contracts, the candle's own columns left in, and a
    sidecar saying the rows are one-minute bars."""
    raw = pd.read_csv(FTX)
    volume = (raw["volume"] / raw["close"] / float(contract)).round(3)
    out = pd.DataFrame(
        {
            "time": pd.to_datetime(raw["timestamp"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "perp.bid": raw["close"] - 0.5,
            "perp.ask": raw["close"] + 0.5,
            "perp.bid_size": volume,
            "perp.ask_size": volume,
            "perp.low": raw["low"],
            "perp.high": raw["high"],
            "perp.volume": volume,
            "open": raw["open"],
            "close": raw["close"],
            "usd_volume": raw["volume"],
        }
    )
    out.to_csv(path, index=False)
    how = "bid/ask = close -/+ 0.5 USD; touch sizes and volume from the bar's USD volume"
    origin = BookOrigin("perp", "candles", "bar", 60_000, how, str(contract), "USD")
    write_sidecar(path, DataMeta(books=(origin,), interval="1m"))
    return path


@pytest.mark.skipif(not FTX.is_file(), reason="no ../shared/data/market (real data)")
def test_a_proved_run_over_real_one_minute_candles_uses_bars(tmp_path: Path) -> None:
    model = load_model(PERP_V2)
    (instrument,) = model.instruments
    needed = {c for c in columns_for(model) if c != "time"}
    data = ftx_standard(tmp_path / "ftx-2022-01.csv", instrument.contract_size)
    assert needed <= set(pd.read_csv(data, nrows=1).columns)  # every input the model reads
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(PERP_V2)).code == 0
    journal = tmp_path / "run.sqlite"
    run = run_cli("run", str(PERP_V2), "--data", str(data), "--proofs", str(proofs),
                  "--journal", str(journal), "--no-plot", "--json")  # fmt: skip
    assert run.code in (0, 2), run.err
    assert run.err.count("ignored: open, close, usd_volume") == 1
    report = json.loads(run.out)
    assert report["fill_model"]["name"] == "bars"
    assert report["fill_model"]["books"] == {"perp": "bars"}
    market = report["market_data"]
    assert market["rows"] == len(pd.read_csv(FTX)) and market["metadata"]
    assert market["time"] == {"first": "2021-12-31T23:01:00Z", "last": "2022-02-01T05:31:00Z"}
    (book,) = market["books"]
    assert (book["instrument"], book["kind"], book["granularity"]) == ("perp", "candles", "bar")
    assert report["ticks"] > 1000 and report["fills"] > 0
    # every limit fill is one the bars model allows: the bar reached its price, and the
    # fills of a side in a bar add up to at most a tenth of the bar's volume
    rows = pd.read_csv(data, dtype=str)
    with sqlite3.connect(journal) as db:
        fills = db.execute("SELECT tick, side, qty, price FROM fills WHERE kind = 'limit'")
        per_side: dict[tuple[int, str], F] = {}
        for tick, side, qty, price in fills:
            row = rows.iloc[tick - 1]
            if side == "buy":
                assert F(row["perp.low"]) <= F(price)
            else:
                assert F(row["perp.high"]) >= F(price)
            per_side[tick, side] = per_side.get((tick, side), F(0)) + F(qty)
    assert per_side
    for (tick, _), total in per_side.items():
        assert total <= F(rows.iloc[tick - 1]["perp.volume"]) / 10
