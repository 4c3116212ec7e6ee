"""`seqprove data import`: every format, the books it makes, joins, quality policies,
units, metadata, errors; then the executor's own reader on what it wrote."""

from __future__ import annotations

import csv
import json
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from checker.ingest.writer import decimal_text
from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.meta import read_meta
from checker.run.venue import Market, PaperVenue
from tests.conftest import ROOT, run_cli

SAMPLES = ROOT / "docs" / "examples" / "data"
LEAN = SAMPLES / "lean"
PERP_QUOTE = LEAN / "cryptofuture" / "binance" / "minute" / "btcusd" / "20221213_quote.zip"
PERP_TRADE = LEAN / "cryptofuture" / "binance" / "minute" / "btcusd" / "20221213_trade.zip"
SPOT_TRADE = LEAN / "crypto" / "binance" / "minute" / "btcbusd" / "20221213_trade.zip"
MARKET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
MM = ROOT / "models" / "perp_market_maker.yaml"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def imported(tmp_path: Path, *args: str, name: str = "out.csv") -> tuple[Path, str]:
    out = tmp_path / name
    run = run_cli("data", "import", *args, "--out", str(out))
    assert run.code == 0, run.out + run.err
    return out, run.out


def refused(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "refused.csv"
    run = run_cli("data", "import", *args, "--out", str(out))
    assert run.code == 3, run.out + run.err
    assert not out.exists() and not list(tmp_path.glob(".refused*")), "a partial file was left"
    assert "Traceback" not in run.err
    return run.err


SINGLE = {
    "binance-klines": [str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv")],
    "tardis-quotes": [str(SAMPLES / "tardis-quotes.csv")],
    "tardis-trades": [str(SAMPLES / "tardis-trades.csv"), "--interval", "1s", "--gaps", "carry"],
    "lean-quote": [str(PERP_QUOTE), "--gaps", "carry"],
    "lean-trade": [str(SPOT_TRADE)],
    "ccxt-ohlcv": [str(SAMPLES / "ccxt-ohlcv.json")],
    "ccxt-trades": [str(SAMPLES / "ccxt-trades.json"), "--interval", "5s", "--gaps", "carry"],
    "ftx-ohlcv": [str(SAMPLES / "ftx-BTC-PERP-1m.csv")],
    "mapped": [
        str(SAMPLES / "other-tool-quotes.csv"),
        *("--map", "time=ts", "--map", "bid=best_bid", "--map", "ask=best_ask"),
        *("--map", "bid_size=bid_qty", "--map", "ask_size=ask_qty"),
    ],
}


@pytest.mark.parametrize("fmt", sorted(SINGLE))
def test_each_sample_format_is_detected_and_read_by_the_executor(fmt: str, tmp_path: Path) -> None:
    out, said = imported(tmp_path, *SINGLE[fmt], "--model", str(MM))
    meta = read_meta(out)
    assert meta is not None and meta.sources[0]["format"] == fmt
    assert meta.books[0].instrument == "perp" and meta.books[0].contract_size == "0.001"
    assert list(rows(out)[0]) == [
        "time",
        *(f"perp.{c}" for c in ("bid", "ask", "bid_size", "ask_size", "low", "high", "volume")),
    ]
    feed = read_feed(out, load_model(MM))
    assert len(feed.rows) == meta.extra["rows_out"] > 0
    for row in feed.rows:
        m = row.markets["perp"]
        assert 0 < m.bid < m.ask
        assert m.low <= m.high or (m.volume == 0 and (m.low, m.high) == (m.ask, m.bid))
        assert all(q.denominator == 1 for q in (m.bid_size, m.ask_size, m.volume))  # qty: int
    assert f"wrote {out}" in said


def test_headerless_and_headed_klines_are_the_same_file(tmp_path: Path) -> None:
    plain, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), name="a.csv")
    headed, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13-header.csv"), name="b.csv")
    assert plain.read_text() == headed.read_text()
    first = rows(plain)[0]
    kline = (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().splitlines()[0].split(",")
    close, volume = Decimal(kline[4]), Decimal(kline[5])
    assert first["time"] == "2020-03-13T00:30:00.000Z"
    assert Decimal(first["bid"]) == close * (1 - Decimal("0.00005"))  # 1 bp spread, halved
    assert Decimal(first["ask"]) == close * (1 + Decimal("0.00005"))
    assert first["low"] == decimal_text(Decimal(kline[3])) and first["volume"] == kline[5]
    assert first["bid_size"] == first["ask_size"] == decimal_text(volume)


def test_microsecond_klines(tmp_path: Path) -> None:
    lines = (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().splitlines()
    micro = []
    for line in lines:
        cells = line.split(",")
        cells[0] = str(int(cells[0]) * 1000)
        cells[6] = str(int(cells[6]) * 1000 + 999)
        micro.append(",".join(cells))
    source = tmp_path / "BTCUSDT-1m-us.csv"
    source.write_text("\n".join(micro) + "\n")
    a, _ = imported(tmp_path, str(source), name="us.csv")
    b, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), name="ms.csv")
    assert a.read_text() == b.read_text()
    assert read_meta(a).books[0].interval_ms == 60_000  # type: ignore[union-attr]


def test_quotes_without_trades_never_claim_a_trade_through(tmp_path: Path) -> None:
    out, _ = imported(tmp_path, *SINGLE["mapped"])
    for r in rows(out):
        assert (r["low"], r["high"], r["volume"]) == (r["ask"], r["bid"], "0")
    # the paper venue's rule: a buy resting below the ask and a sell above the bid stay open
    first, second = rows(out)[:2]
    venue = PaperVenue()
    book = {k: Fraction(v) for k, v in first.items() if k != "time"}
    venue.on_market(1, Market(**book))
    venue.place(1, "b", "buy", Fraction(1), price=book["ask"] - Fraction(1, 10))
    venue.place(1, "s", "sell", Fraction(1), price=book["bid"] + Fraction(1, 10))
    nxt = {k: Fraction(v) for k, v in second.items() if k != "time"}
    fills = venue.on_market(2, Market(**nxt))
    assert all(
        (f.side == "buy" and nxt["ask"] <= f.price) or (f.side == "sell" and nxt["bid"] >= f.price)
        for f in fills
    )


def test_tardis_trades_go_to_the_quote_row_that_follows_them(tmp_path: Path) -> None:
    quotes, trades = SAMPLES / "tardis-quotes.csv", SAMPLES / "tardis-trades.csv"
    out, _ = imported(tmp_path, str(quotes), str(trades))
    q = rows(quotes)
    t = rows(trades)
    got = rows(out)
    assert len(got) == len(q)
    for i, row in enumerate(got):
        after = int(q[i - 1]["timestamp"]) if i else None
        mine = [
            x
            for x in t
            if int(x["timestamp"]) <= int(q[i]["timestamp"])
            and (after is None or int(x["timestamp"]) > after)
            and int(x["timestamp"]) >= int(q[0]["timestamp"])
        ]
        if mine:
            assert Decimal(row["low"]) == min(Decimal(x["price"]) for x in mine)
            assert Decimal(row["high"]) == max(Decimal(x["price"]) for x in mine)
            assert Decimal(row["volume"]) == sum(Decimal(x["amount"]) for x in mine)
        else:
            assert (row["low"], row["high"], row["volume"]) == (row["ask"], row["bid"], "0")


def test_resampling_keeps_the_last_quote_and_sums_trades(tmp_path: Path) -> None:
    quotes, trades = SAMPLES / "tardis-quotes.csv", SAMPLES / "tardis-trades.csv"
    out, _ = imported(tmp_path, str(quotes), str(trades), "--interval", "1s", "--gaps", "carry")
    q, t = rows(quotes), rows(trades)
    for row in rows(out):
        second = int(Decimal(row["time"][17:23]))
        start = 1582329600000000 + second * 1_000_000
        inside = [x for x in q if start <= int(x["timestamp"]) < start + 1_000_000]
        if inside:
            assert Decimal(row["bid"]) == Decimal(inside[-1]["bid_price"])
            assert Decimal(row["ask"]) == Decimal(inside[-1]["ask_price"])
        traded = [x for x in t if start <= int(x["timestamp"]) < start + 1_000_000]
        assert Decimal(row["volume"]) == sum((Decimal(x["amount"]) for x in traded), Decimal(0))


def test_candles_resampled_to_five_minutes(tmp_path: Path) -> None:
    out, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), "--interval", "5m")
    bars = [line.split(",") for line in (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().split()]
    got = rows(out)
    assert len(got) == 6
    for i, row in enumerate(got):
        five = bars[5 * i : 5 * i + 5]
        assert Decimal(row["high"]) == max(Decimal(b[2]) for b in five)
        assert Decimal(row["low"]) == min(Decimal(b[3]) for b in five)
        assert Decimal(row["volume"]) == sum(Decimal(b[5]) for b in five)
        mid = (Decimal(row["bid"]) + Decimal(row["ask"])) / 2
        assert mid == Decimal(five[-1][4])
    assert refused(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), "--interval", "30s")


def floor(value: Fraction, places: int = 0) -> Fraction:
    scaled = value * 10**places
    return Fraction(scaled.numerator // scaled.denominator, 10**places)


def test_units_base_quote_and_inverse_exactly(tmp_path: Path) -> None:
    # base: a kline's BTC volume in contracts of 0.01 BTC, whole (qty: int) or not
    out, _ = imported(
        tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), "--contract-size", "0.01"
    )
    kline = (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().split()[0].split(",")
    assert Fraction(rows(out)[0]["volume"]) == Fraction(kline[5]) / Fraction("0.01")
    # quote: FTX volume in USD, divided by the bar's close, then by the contract size
    out, _ = imported(tmp_path, str(SAMPLES / "ftx-BTC-PERP-1m.csv"), "--contract-size", "0.01")
    bar = (SAMPLES / "ftx-BTC-PERP-1m.csv").read_text().splitlines()[1].split(",")
    exact = Fraction(bar[5]) / Fraction(bar[4]) / Fraction("0.01")
    assert Fraction(rows(out)[0]["volume"]) == floor(exact, 12)
    assert read_meta(out).books[0].source_unit.startswith("the quote currency")  # type: ignore[union-attr]
    # inverse: LEAN COIN-M sizes are contracts of 100 USD: 100 / price BTC each
    out, _ = imported(
        tmp_path, f"perp={PERP_QUOTE}", "--gaps", "carry", "--model", str(MM), name="inv.csv"
    )
    with zipfile.ZipFile(PERP_QUOTE) as archive:
        first = archive.read(archive.namelist()[0]).decode().splitlines()[0].split(",")
    bid, bid_size, ask, ask_size = (Fraction(first[i]) for i in (4, 5, 9, 10))
    got = rows(out)[0]
    assert Fraction(got["perp.bid_size"]) == floor(bid_size * 100 / bid / Fraction("0.001"))
    assert Fraction(got["perp.ask_size"]) == floor(ask_size * 100 / ask / Fraction("0.001"))
    origin = read_meta(out).books[0]  # type: ignore[union-attr]
    assert "inverse contracts of 100" in origin.source_unit and "whole contracts" in origin.how


def test_unit_override(tmp_path: Path) -> None:
    plain, _ = imported(tmp_path, str(SAMPLES / "ccxt-ohlcv.json"), name="a.csv")
    usd, _ = imported(tmp_path, str(SAMPLES / "ccxt-ohlcv.json"), "--unit", "quote", name="b.csv")
    a, b = rows(plain)[0], rows(usd)[0]
    close = (Fraction(a["bid"]) + Fraction(a["ask"])) / 2
    assert Fraction(b["volume"]) == floor(Fraction(a["volume"]) / close, 12)
    assert "base, quote, contracts or inverse" in refused(
        tmp_path, str(SAMPLES / "ccxt-ohlcv.json"), "--unit", "lots"
    )


def test_join_of_a_perpetual_and_a_spot_leg(tmp_path: Path) -> None:
    out, said = imported(
        tmp_path,
        f"perp={PERP_QUOTE}",
        f"perp={PERP_TRADE}",
        f"spot={SPOT_TRADE}",
        "--contract-size",
        "perp=0.001",
        "--contract-size",
        "spot=0.001",
        "--gaps",
        "carry",
    )
    got = rows(out)
    assert len(got) == 30 and list(got[0])[:2] == ["time", "perp.bid"]
    assert {f"spot.{c}" for c in ("bid", "ask", "volume")} <= set(got[0])
    meta = read_meta(out)
    assert meta is not None and {b.instrument: b.kind for b in meta.books} == {
        "perp": "quotes",
        "spot": "candles",
    }
    assert meta.problems and "missing intervals of perp" in meta.problems[0]
    assert "3 missing intervals of perp (in 2 gaps)" in said
    # the perp's trades give its low/high/volume: inverse contracts made base, then 0.001
    with zipfile.ZipFile(PERP_TRADE) as archive:
        bar = archive.read(archive.namelist()[0]).decode().splitlines()[0].split(",")
    exact = Fraction(bar[5]) * 100 / Fraction(bar[4]) / Fraction("0.001")
    assert Fraction(got[0]["perp.volume"]) == floor(exact, 12)
    basis = [Fraction(r["perp.bid"]) - Fraction(r["spot.bid"]) for r in got]
    assert len(set(basis)) > 1


def write_klines(path: Path, minutes: list[int], header: bool = False) -> Path:
    lines = (
        [
            "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
            "taker_buy_volume,taker_buy_quote_volume,ignore"
        ]
        if header
        else []
    )
    for m in minutes:
        t = 1584059400000 + 60000 * m
        lines.append(f"{t},100,101,99,{100 + m},2.5,{t + 59999},250,10,1,100,0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_gaps_with_each_policy(tmp_path: Path) -> None:
    source = write_klines(tmp_path / "k.csv", [0, 1, 2, 5, 6, 9])
    err = refused(tmp_path, str(source))
    assert (
        f"{source}:4:1: missing intervals at 2020-03-13T00:33:00.000Z (4 in all, in 2 gaps)" in err
    )
    dropped, said = imported(tmp_path, str(source), "--gaps", "drop", name="d.csv")
    assert [r["time"][14:16] for r in rows(dropped)] == ["30", "31", "32", "35", "36", "39"]
    assert "4 missing intervals (in 2 gaps)" in said and "left those rows out" in said
    carried, _ = imported(tmp_path, str(source), "--gaps", "carry", name="c.csv")
    got = rows(carried)
    assert len(got) == 10
    gap = got[3]
    assert (gap["bid"], gap["ask"]) == (got[2]["bid"], got[2]["ask"])
    assert (gap["low"], gap["high"], gap["volume"]) == (gap["ask"], gap["bid"], "0")
    meta = read_meta(carried)
    assert meta is not None and meta.policy == "carry" and len(meta.problems) == 1


def test_duplicated_and_backward_times_with_each_policy(tmp_path: Path) -> None:
    source = write_klines(tmp_path / "k.csv", [0, 1, 1, 2, 1, 3], header=True)
    err = refused(tmp_path, str(source))
    assert f"{source}:6:1: times going back at 2020-03-13T00:31:00.000Z" in err
    assert f"{source}:4:1: duplicated times at 2020-03-13T00:31:00.000Z" in err
    for policy in ("drop", "carry"):
        out, said = imported(tmp_path, str(source), "--gaps", policy, name=f"{policy}.csv")
        assert [r["time"][14:16] for r in rows(out)] == ["30", "31", "32", "33"]
        assert "1 time going back" in said and "1 duplicated time:" in said


def quotes_file(path: Path, books: list[tuple[str, str]]) -> Path:
    lines = ["ts,b,a,bs,as"]
    for i, (bid, ask) in enumerate(books):
        lines.append(f"2022-01-21T14:00:{i:02d}Z,{bid},{ask},1,2")
    path.write_text("\n".join(lines) + "\n")
    return path


MAP = ("--map", "time=ts", "--map", "bid=b", "--map", "ask=a", "--map", "bid_size=bs")


def test_crossed_books_with_each_policy(tmp_path: Path) -> None:
    source = quotes_file(
        tmp_path / "q.csv", [("10", "11"), ("12", "11"), ("11", "11"), ("10", "12")]
    )
    args = (str(source), *MAP, "--map", "ask_size=as")
    err = refused(tmp_path, *args)
    assert f"{source}:3:1: crossed books at 2022-01-21T14:00:01.000Z (2 in all)" in err
    out, said = imported(tmp_path, *args, "--gaps", "drop", name="d.csv")
    assert [(r["bid"], r["ask"]) for r in rows(out)] == [("10", "11"), ("10", "12")]
    assert "2 crossed books" in said
    out, _ = imported(tmp_path, *args, "--gaps", "carry", name="c.csv")
    assert [(r["bid"], r["ask"]) for r in rows(out)] == [("10", "11")] * 3 + [("10", "12")]


def test_parquet_output_is_exact_and_holds_its_metadata(tmp_path: Path) -> None:
    args = (str(SAMPLES / "ftx-BTC-PERP-1m.csv"), "--model", str(MM))
    text, _ = imported(tmp_path, *args, name="a.csv")
    table, _ = imported(tmp_path, *args, name="a.parquet")
    model = load_model(MM)
    assert [r.markets for r in read_feed(text, model).rows] == [
        r.markets for r in read_feed(table, model).rows
    ]
    assert read_meta(table) == read_meta(text)


def test_metadata_says_how_the_book_was_made(tmp_path: Path) -> None:
    out, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), "--spread-bps", "2.5")
    meta = read_meta(out)
    assert meta is not None
    book = meta.books[0]
    assert (book.kind, book.granularity, book.interval_ms) == ("candles", "bar", 60_000)
    assert "half a spread of 2.5 bp" in book.how and "touch sizes are the bar's volume" in book.how
    source = meta.sources[0]
    assert source["rows"] == "30" and len(source["sha256"]) == 64
    assert meta.interval == "1m" and meta.policy == "stop" and meta.extra["spread_bps"] == "2.5"
    tick, _ = imported(tmp_path, str(SAMPLES / "tardis-quotes.csv"), name="t.csv")
    origin = read_meta(tick).books[0]  # type: ignore[union-attr]
    assert (origin.kind, origin.granularity, origin.interval_ms) == ("quotes", "tick", None)


def test_bad_input_is_located_and_leaves_nothing(tmp_path: Path) -> None:
    unknown = tmp_path / "prices.csv"
    unknown.write_text("when,price\n1,2\n")
    assert f"{unknown}:1:1: unknown format" in refused(tmp_path, str(unknown))
    assert "--map bid=best_bid: the file has no column 'best_bid'" in refused(
        tmp_path,
        str(unknown),
        "--map",
        "time=when",
        "--map",
        "bid=best_bid",
        "--map",
        "ask=price",
        "--map",
        "bid_size=price",
        "--map",
        "ask_size=price",
    )
    broken = ROOT / "tests" / "data" / "import" / "20221213_trade.zip"
    assert f"{broken}:1:1: cannot read the zip file" in refused(tmp_path, str(broken))
    lines = (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().splitlines()
    lines[6] = "15840597x0000" + lines[6][13:]
    bad = tmp_path / "BTCUSDT-bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    assert f"{bad}:7:1: column 'open_time': '15840597x0000' is not a time" in refused(
        tmp_path, str(bad)
    )
    lines = (SAMPLES / "tardis-quotes.csv").read_text().splitlines()
    lines[3] = lines[3].replace("binance-futures,BTCUSDT,", "binance-futures,BTCUSDT,2020-02-22 ")
    bad = tmp_path / "quotes.csv"
    bad.write_text("\n".join(lines) + "\n")
    assert f"{bad}:4:3: column 'timestamp'" in refused(tmp_path, str(bad))
    json_bad = tmp_path / "ohlcv.json"
    json_bad.write_text(
        '[[1584059400000, 1, 2, 0.5, 1.5, 3],\n [1584059460000, 1, 2, "x", 1.5, 3]]\n'
    )
    assert f"{json_bad}:2:1: column 'low': 'x' is not a number" in refused(tmp_path, str(json_bad))
    assert "perp=0.01" in refused(
        tmp_path, str(SAMPLES / "ccxt-ohlcv.json"), "--contract-size", "="
    )


def test_model_instruments_are_checked(tmp_path: Path) -> None:
    basis = ROOT / "docs" / "examples" / "spot_future_basis.yaml"
    err = refused(tmp_path, str(SAMPLES / "ccxt-ohlcv.json"), "--model", str(basis))
    assert "name each source's" in err
    err = refused(tmp_path, f"perp={SAMPLES / 'ccxt-ohlcv.json'}", "--model", str(basis))
    assert "has no instrument 'perp'" in err
    legs = (f"spot={SAMPLES / 'ccxt-ohlcv.json'}", f"future={SAMPLES / 'ccxt-ohlcv.json'}")
    out, said = imported(tmp_path, *legs, "--model", str(basis))
    # the inputs no exchange publishes are derived from the rows (seqprove data derive)
    assert "derived basis_bps: the second leg's mid over the first's" in said
    assert {r["basis_bps"] for r in rows(out)} == {"0.00"}  # the same candles on both legs
    options = ROOT / "models" / "delta_hedged_options_mm.yaml"
    candles = SAMPLES / "ccxt-ohlcv.json"
    err = refused(tmp_path, f"option={candles}", f"perp={candles}", "--model", str(options))
    assert "edge" in err and "cannot make" in err  # an option pricer's output


# -- the real data in ../shared/data/market, each format with one command ------------------

KLINES = (
    "2020-03-13_0027-0249",
    "2021-05-19_1003-1412",
    "2022-11-08_1500-1823",
    "2024-08-05_0427-0641",
)
COINBASE = "lean_minute/Data/crypto/coinbase/minute/btcusd"
REAL = {
    **{f"binance-klines-{k[:10]}": [f"binance_klines_1m/BTCUSDT-1m-{k}.csv"] for k in KLINES},
    "tardis": [
        "tardis_binance_futures/quotes.csv",
        "tardis_binance_futures/trades.csv",
        "--gaps",
        "drop",
    ],
    **{
        f"lean-coinbase-{day}": [
            f"{COINBASE}/{day}_quote.zip",
            f"{COINBASE}/{day}_trade.zip",
            "--gaps",
            "carry",
        ]
        for day in ("20170904", "20171217")
    },
    "ftx-ohlcv": ["ftx_perp_1m/btc-perp-20211231-20220201_1m.csv"],
}


def real(args: list[str]) -> list[str]:
    return [str(MARKET / a) if not a.startswith("-") and "/" in a else a for a in args]


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_data_imports_and_runs(name: str, tmp_path: Path) -> None:
    if not MARKET.is_dir():
        pytest.skip(f"no real market data at {MARKET}")
    out, _ = imported(tmp_path, *real(REAL[name]), "--model", str(MM))
    feed = read_feed(out, load_model(MM))
    assert feed.rows
    if name == "ftx-ohlcv":  # 45,031 rows: the executor's reader is enough
        return
    run = run_cli(
        "run", str(MM), "--data", str(out), "--allow-unproven", "--no-journal", "--no-plot"
    )
    assert run.code in (0, 1, 2), run.out + run.err  # the end, a limit or an assumption
    assert "market data" not in run.err


def test_real_basis_of_a_perpetual_and_spot(tmp_path: Path) -> None:
    if not MARKET.is_dir():
        pytest.skip(f"no real market data at {MARKET}")
    lean = MARKET / "lean_minute" / "Data"
    out, said = imported(
        tmp_path,
        f"perp={lean / 'cryptofuture/binance/minute/btcusd/20221213_quote.zip'}",
        f"perp={lean / 'cryptofuture/binance/minute/btcusd/20221213_trade.zip'}",
        f"spot={lean / 'crypto/binance/minute/btcbusd/20221213_trade.zip'}",
        "--contract-size",
        "0.001",
        "--gaps",
        "carry",
    )
    assert "336 missing intervals of perp (in 184 gaps)" in said
    got = rows(out)
    assert len(got) == 1440
    basis = [
        (Decimal(r["perp.bid"]) + Decimal(r["perp.ask"]))
        / (Decimal(r["spot.bid"]) + Decimal(r["spot.ask"]))
        - 1
        for r in got
    ]
    assert all(abs(b) < Decimal("0.01") for b in basis) and len(set(basis)) > 100
    meta = read_meta(out)
    assert meta is not None and meta.problems
    assert json.loads(json.dumps(meta.to_json()))["books"][0]["kind"] == "quotes"


def test_real_parquet_round_trip(tmp_path: Path) -> None:
    if not MARKET.is_dir():
        pytest.skip(f"no real market data at {MARKET}")
    args = real(REAL["binance-klines-2020-03-13"])
    out, _ = imported(tmp_path, *args, "--model", str(MM), name="k.parquet")
    meta = read_meta(out)
    assert meta is not None and meta.books[0].kind == "candles"
    quantities = [r.markets["perp"].volume for r in read_feed(out, load_model(MM)).rows]
    assert quantities[0] == 783637  # 783.637 BTC in contracts of 0.001 BTC
    assert Decimal("783.637") / Decimal("0.001") == quantities[0]


def test_a_parquet_source_through_a_map(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "book.parquet"
    table = pa.table(
        {
            "ts": pa.array([1642773600000, 1642773601000, 1642773602000], type=pa.int64()),
            "best_bid": [43000.5, 43001.0, 43000.1],
            "best_ask": [43001.0, 43001.5, 43000.6],
            "bq": [0.25, 1.0, 0.1],
            "aq": [2.0, 0.3, 0.7],
        }
    )
    pq.write_table(table, source)
    assert "needs --map" in refused(tmp_path, str(source))
    mapping = ("--map", "time=ts", "--map", "bid=best_bid", "--map", "ask=best_ask")
    out, _ = imported(
        tmp_path, str(source), *mapping, "--map", "bid_size=bq", "--map", "ask_size=aq"
    )
    got = rows(out)
    assert [r["time"] for r in got] == [
        "2022-01-21T14:00:00.000Z",
        "2022-01-21T14:00:01.000Z",
        "2022-01-21T14:00:02.000Z",
    ]
    assert [(r["bid"], r["ask"], r["bid_size"]) for r in got] == [
        ("43000.5", "43001", "0.25"),
        ("43001", "43001.5", "1"),
        ("43000.1", "43000.6", "0.1"),  # a float read as the shortest decimal, not 43000.099...
    ]
    assert "a source of quotes needs time, bid, ask, bid_size, ask_size" in refused(
        tmp_path, str(source), *mapping
    )


def test_format_override(tmp_path: Path) -> None:
    quotes = str(SAMPLES / "tardis-quotes.csv")
    assert "no column 'price': not a Tardis trades file" in refused(
        tmp_path, quotes, "--format", "tardis-trades"
    )
    assert "unknown format 'bloomberg'" in refused(tmp_path, quotes, "--format", "bloomberg")
    out, _ = imported(tmp_path, f"perp={quotes}", "--format", "perp=tardis-quotes")
    assert read_meta(out).sources[0]["format"] == "tardis-quotes"  # type: ignore[union-attr]


def test_help_names_every_format() -> None:
    from checker.ingest import FORMATS

    run = run_cli("data", "import", "--help")
    assert run.code == 0
    text = "".join(run.out.split())  # click wraps lines at hyphens
    for name in FORMATS:
        assert name in text


def test_options_name_instruments_of_the_import(tmp_path: Path) -> None:
    ohlcv = str(SAMPLES / "ccxt-ohlcv.json")
    err = refused(tmp_path, f"perp={ohlcv}", "--contract-size", "prep=0.01")
    assert (
        "--contract-size prep=...: 'prep' is not an instrument of this import (it has perp)" in err
    )
    err = refused(tmp_path, ohlcv, "--unit", "perp=quote")
    assert "'perp' is not an instrument of this import (it has none" in err


def test_files_of_one_kind_are_joined_and_their_gaps_located(tmp_path: Path) -> None:
    lines = (SAMPLES / "BTCUSDT-1m-2020-03-13.csv").read_text().splitlines()
    later = tmp_path / "BTCUSDT-1m-later.csv"
    later.write_text("\n".join(lines[17:]) + "\n")
    earlier = tmp_path / "BTCUSDT-1m-earlier.csv"
    earlier.write_text("\n".join(lines[:15]) + "\n")
    err = refused(tmp_path, str(later), str(earlier))
    assert f"{later}:1:1: missing intervals at 2020-03-13T00:45:00.000Z (2 in all, in 1 gap)" in err
    out, _ = imported(tmp_path, str(later), str(earlier), "--gaps", "drop")
    whole, _ = imported(tmp_path, str(SAMPLES / "BTCUSDT-1m-2020-03-13.csv"), name="whole.csv")
    assert rows(out) == [r for i, r in enumerate(rows(whole)) if i not in (15, 16)]
    meta = read_meta(out)
    assert meta is not None and [s["path"] for s in meta.sources] == [str(later), str(earlier)]


def test_a_source_that_is_not_a_file_is_named(tmp_path: Path) -> None:
    assert f"{tmp_path / 'gone.csv'}:1:1: no such file" in refused(
        tmp_path, str(tmp_path / "gone.csv")
    )
    folder = tmp_path / "days"
    folder.mkdir()
    assert f"{folder}:1:1: a directory, not a file" in refused(tmp_path, str(folder))
