"""The executor on models with instruments (language version 2): a paper book per
instrument, the venue aligned with the tick (IOC and market orders, cancels racing fills),
the fills given to the model, reconciliation of every venue with the model's book, the
journal and its resume, the report with each instrument's band."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import z3

from checker.engines import Budget, spacer
from checker.engines.houdini import houdini
from checker.errors import ModelError
from checker.lang.loader import load_model, load_text
from checker.model import Model
from checker.options import DEFAULT_BUDGET
from checker.run import SCENARIOS
from checker.run.data import DataError, columns_for, read_feed
from checker.run.executor import Executor
from checker.run.journal import FORMAT_BOOKS, Journal
from checker.run.plot import figure
from checker.run.report import RunReport, band, plot
from checker.run.synth import synthesize, write_table
from checker.run.venue import Fill, Market, PaperVenue
from checker.smt.system import TransitionSystem
from tests.conftest import ROOT, last_tick, run_cli

RUN_MODELS = ROOT / "tests" / "models" / "run"
TWO_LEGS = RUN_MODELS / "two_legs.yaml"
SCRIPT = RUN_MODELS / "one_leg_script.yaml"
LEAVES = RUN_MODELS / "leaves_orders.yaml"
PERP_BOOKS = RUN_MODELS / "perp_mm_books.yaml"

HEADER = "time,bid,ask,bid_size,ask_size,low,high,volume"
QUIET = "100,101,10,10,100,101,0"  # nothing of the script's rests is marketable here
THROUGH = "103,104,10,10,103,104,0"  # the script's offer at 102 is hit; its IOC bid at 98 not
SCRIPT_ROWS = [QUIET, QUIET, THROUGH, THROUGH, THROUGH, THROUGH, THROUGH]


def write_rows(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *(f"{i},{r}" for i, r in enumerate(rows, 1))]) + "\n")
    return path


def legs_data(model: Model, path: Path, scenario: str = "calm", ticks: int = 600) -> Path:
    legs = tuple(i.name for i in model.instruments)
    write_table(synthesize(scenario, ticks, 2, columns_for(model), legs), path)
    return path


def run(model: Model, data: Path, journal: Journal | None = None, **venues: PaperVenue) -> Executor:
    executor = Executor(model, read_feed(data, model), journal or Journal(":memory:"),
                        venues=venues)  # fmt: skip
    executor.start()
    executor.run()
    return executor


def ticks_of(executor: Executor) -> list[dict[str, Any]]:
    assert executor.journal is not None
    return list(executor.journal.ticks())


def report_of(executor: Executor) -> dict[str, Any]:
    assert executor.outcome is not None
    open_orders = {
        name: {side: (v.open_quantity(side), v.pending_quantity(side)) for side in ("buy", "sell")}
        for name, v in executor.books
    }
    report = RunReport(executor.model, "data.csv", executor.outcome, executor.stats, {}, None,
                       None, "test", 0.0, open_orders)  # fmt: skip
    return report.to_json()


# -- two instruments, two books ----------------------------------------------------------------


def test_two_instruments_trade_on_two_books_inside_their_bands(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    executor = run(model, legs_data(model, tmp_path / "legs.csv"))
    assert executor.outcome is not None and executor.outcome.reason == "final", executor.outcome
    spot, future = executor.books.by_name["spot"], executor.books.by_name["future"]
    assert spot.position == 20 and future.position == -20
    assert {f.instrument for f in spot.fills} == {"spot"}
    assert {f.side for f in spot.fills} == {"buy"} and {f.side for f in future.fills} == {"sell"}
    # the model's book is the venues' at every tick (the run would have stopped otherwise)
    values = executor.config.values
    assert values["spot.position"] == 20 and values["future.position"] == -20
    report = report_of(executor)
    assert "max_abs_position" not in report and "position_limit" not in report
    assert report["instruments"]["spot"] == {
        "position": "20",
        "max_abs_position": "20",
        "band": "[-20, 20]",
        "open_orders": {
            "buy": {"open": "0", "leaving": "0"},
            "sell": {"open": "0", "leaving": "0"},
        },
        "orders": 4,
        "fills": 4,
    }
    assert report["instruments"]["future"]["position"] == "-20"
    assert report["instruments"]["future"]["band"] == "[-20, 20]"
    # one PnL: the sum of the venues' equity
    assert Fraction(report["pnl"]) == round(spot.equity() + future.equity(), 2)


def test_two_instruments_verified_then_run_from_the_command_line(tmp_path: Path) -> None:
    proofs = tmp_path / "proofs"
    verified = run_cli("verify", "--proofs", str(proofs), str(TWO_LEGS))
    assert verified.code == 0, verified.out
    data = tmp_path / "legs.csv"
    synth = run_cli("data", "synth", "--scenario", "calm", "--ticks", "400", "--seed", "2",
                    "--out", str(data), "--model", str(TWO_LEGS))  # fmt: skip
    assert synth.code == 0, synth.err
    assert "columns time, spot.bid, spot.ask" in synth.out and "future.volume" in synth.out
    figure, journal = tmp_path / "legs.png", tmp_path / "j.sqlite"
    done = run_cli("run", str(TWO_LEGS), "--data", str(data), "--proofs", str(proofs),
                   "--journal", str(journal), "--plot", str(figure), "--json")  # fmt: skip
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert report["admitted_by"].startswith("proof record")
    assert set(report["instruments"]) == {"spot", "future"}
    assert report["instruments"]["spot"]["band"] == "[-20, 20]"
    assert figure.stat().st_size > 10_000
    text = run_cli("run", str(TWO_LEGS), "--data", str(data), "--proofs", str(proofs),
                   "--journal", str(journal), "--resume")  # fmt: skip
    assert text.code == 0
    assert "instrument" in text.out and "[-20, 20]" in text.out and "future" in text.out


def test_synthetic_legs_are_correlated_and_the_basis_column_is_their_basis() -> None:
    table = synthesize("crash", 3000, 4, None, ("spot", "future"))
    assert "bid" not in table.columns and "spot.bid" in table.columns
    at = {c: i for i, c in enumerate(table.columns)}
    for row in table.rows[::250]:
        spot = (row[at["spot.bid"]] + row[at["spot.ask"]]) / 2
        future = (row[at["future.bid"]] + row[at["future.ask"]]) / 2
        basis = (future / spot - 1) * 10_000
        assert abs(basis - row[at["basis_bps"]]) < 5  # bps, from the rounding to the tick
    # the first leg is the book of the plain columns: a model with one venue sees the same
    plain = synthesize("crash", 3000, 4)
    assert [r[plain.columns.index("bid")] for r in plain.rows] == [
        r[at["spot.bid"]] for r in table.rows
    ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_market_maker_on_its_book_agrees_with_the_venue_in_every_scenario(
    scenario: str, tmp_path: Path
) -> None:
    """The version-2 market maker quotes, cancels every round (its cancels race the next
    row) and hedges with market orders: the venue's book is the model's at every tick."""
    model = load_model(PERP_BOOKS)
    data = tmp_path / "d.csv"
    write_table(synthesize(scenario, 1500, 11, columns_for(model)), data)
    executor = run(model, data)
    outcome = executor.outcome
    assert outcome is not None and outcome.reason in ("data-end", "final", "assumption"), outcome
    venue = executor.books.first
    assert executor.stats.fills > 50
    assert {f.kind for f in venue.fills} >= {"limit"}
    assert any(f.pending for f in venue.fills)  # some fills came after the cancel was sent
    assert executor.config.values["perp.position"] == venue.position
    assert max(abs(p) for _, _, p, _, _ in executor.stats.books["perp"]) <= 100
    # a version-1 venue input keeps its meaning: the PnL the model booked is the venue's
    assert executor.config.values["pnl"] == executor.reads["venue.pnl_change"]


# -- the tick on the venue: cancels race fills, IOC and market orders ----------------------------


def test_cancel_races_the_next_fill_and_the_model_books_it(tmp_path: Path) -> None:
    model = load_model(SCRIPT)
    executor = run(model, write_rows(tmp_path / "d.csv", SCRIPT_ROWS))
    assert executor.outcome is not None and executor.outcome.reason == "final"
    ticks = ticks_of(executor)
    # tick 2 cancels the offer placed at tick 1: it is pending, and still open
    assert ticks[2]["actions"][0]["cancelled"] == ["1.1"]
    assert ticks[2]["state"]["perp.open_sell"] == 5 and ticks[2]["state"]["perp.pending_sell"] == 5
    # tick 3's row goes through it: the cancel lost the race, the model is given the fill
    assert ticks[3]["inputs"]["perp.sold"] == 5 and ticks[3]["inputs"]["perp.sold_pending"] == 5
    assert ticks[3]["state"]["perp.position"] == -5 and ticks[3]["state"]["perp.open_sell"] == 0
    fills = executor.journal.dump()["fills"] if executor.journal else []
    assert fills[0] == ("1.1/1", "1.1", 3, "sell", "5", "102", "limit", "perp", 1)


def test_ioc_order_that_does_not_fill_leaves_the_book(tmp_path: Path) -> None:
    model = load_model(SCRIPT)
    executor = run(model, write_rows(tmp_path / "d.csv", SCRIPT_ROWS))
    ticks = ticks_of(executor)
    assert ticks[3]["actions"][0]["tif"] == "ioc" and ticks[3]["state"]["perp.open_buy"] == 3
    assert ticks[4]["inputs"]["perp.bought"] == 0
    orders = {row[0]: row for row in executor.journal.dump()["orders"]} if executor.journal else {}
    assert orders["3.1"][6] == "cancelled" and orders["3.1"][7] == 4  # left at tick 4's row
    assert executor.books.first.orders["3.1"].filled == 0


def test_market_order_fills_at_the_next_rows_touch(tmp_path: Path) -> None:
    text = SCRIPT.read_text() + "\nvenue: {slippage_bps: 10}\n"
    model = load_text(text, str(SCRIPT))
    executor = run(model, write_rows(tmp_path / "d.csv", SCRIPT_ROWS))
    ticks = ticks_of(executor)
    assert ticks[4]["actions"][0]["price"] is None and ticks[4]["actions"][0]["tif"] == "ioc"
    assert ticks[4]["state"]["perp.position"] == -5  # not on arrival: from the next row
    assert ticks[5]["inputs"]["perp.bought"] == 2 and ticks[5]["inputs"]["perp.bought_pending"] == 2
    (fill,) = [f for f in executor.books.first.fills if f.cid == "4.1"]
    assert fill == Fill("4.1/1", "4.1", 5, "buy", 2, Fraction(104) * Fraction(1001, 1000),
                        "market", "perp", True)  # fmt: skip
    assert executor.config.values["perp.position"] == executor.books.first.position == -3


def test_model_without_cancel_all_before_its_final_step_leaves_orders_the_report_shows(
    tmp_path: Path,
) -> None:
    model = load_model(LEAVES)
    header = "time," + ",".join(f"perp.{c}" for c in HEADER.split(",")[1:])
    executor = run(model, write_rows(tmp_path / "d.csv", [QUIET] * 3, header))
    assert executor.outcome is not None and executor.outcome.reason == "final"
    report = report_of(executor)
    assert report["instruments"]["perp"]["open_orders"]["sell"] == {"open": "5", "leaving": "0"}
    assert executor.books.first.open_quantity("sell") == 5


# -- reconciliation ------------------------------------------------------------------------------


class DroppedCancel(PaperVenue):
    """A venue that acknowledges a cancel and does nothing with it."""

    def cancel(self, tick: int, cid: str, side: str) -> list[str]:
        self._seen.add(cid)
        return []


class UnreportedFill(PaperVenue):
    """A venue whose position moves at tick 3 without a fill it reports."""

    def on_market(self, tick: int, market: Market) -> list[Fill]:
        fills = super().on_market(tick, market)
        if tick == 3:
            self.position += 1
        return fills


class UnknownOrderFill(PaperVenue):
    """A venue that reports, at tick 2, a fill of an order the strategy never sent."""

    def on_market(self, tick: int, market: Market) -> list[Fill]:
        fills = super().on_market(tick, market)
        if tick == 2:
            fills.append(Fill("x/1", "x", tick, "buy", 1, market.ask, "limit", "perp"))
            self.position += 1
        return fills


def venue() -> dict[str, Any]:
    return {"deferred": True, "instrument": "perp", "contract_size": Fraction(1, 100)}


def test_venue_that_drops_a_cancel_stops_the_run_at_that_tick(tmp_path: Path) -> None:
    model = load_model(SCRIPT)
    data = write_rows(tmp_path / "d.csv", SCRIPT_ROWS)
    executor = run(model, data, perp=DroppedCancel(**venue()))
    outcome = executor.outcome
    assert outcome is not None
    assert (outcome.reason, outcome.tick, outcome.exit_code, outcome.step) == (
        "reconciliation", 2, 2, "done"
    )  # fmt: skip
    assert outcome.message.startswith("tick 2: the venue's book differs from the model's ")
    assert "perp.open_sell" in outcome.message
    assert "is 0 on the venue and 5 in the model" in outcome.message
    last = ticks_of(executor)[-1]
    assert last["event"]["kind"] == "reconciliation"
    assert last["event"]["differences"] == [
        {"name": "perp.pending_sell", "venue": "0", "model": "5"}
    ]
    assert [a["name"] for a in last["actions"]] == ["cancel", "cancel_all"]
    assert executor.stats.breaches[0]["kind"] == "reconciliation"


def test_venue_whose_position_moves_without_a_fill_stops_the_run_after_the_fills(
    tmp_path: Path,
) -> None:
    model = load_model(SCRIPT)
    executor = run(
        model, write_rows(tmp_path / "d.csv", SCRIPT_ROWS), perp=UnreportedFill(**venue())
    )
    outcome = executor.outcome
    assert outcome is not None and (outcome.reason, outcome.tick) == ("reconciliation", 3)
    assert (
        "after the fills: perp.position is -4 on the venue and -5 in the model" in outcome.message
    )
    assert "(1 more on the venue)" in outcome.message


def test_fill_of_an_unknown_order_is_a_breach_of_the_assumptions(tmp_path: Path) -> None:
    model = load_model(SCRIPT)
    data = write_rows(tmp_path / "d.csv", SCRIPT_ROWS)
    executor = run(model, data, perp=UnknownOrderFill(**venue()))
    outcome = executor.outcome
    assert outcome is not None and (outcome.reason, outcome.tick, outcome.exit_code) == (
        "assumption", 2, 2
    )  # fmt: skip
    assert "perp.bought = 1 is more than the perp.open_buy = 0 that can fill" in outcome.message


def test_reconciliation_from_the_command_line_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same dropped cancel, through `seqprove run`: exit 2 and the message."""
    data = write_rows(tmp_path / "d.csv", SCRIPT_ROWS)
    monkeypatch.setattr("checker.run.books.PaperVenue", DroppedCancel)
    journal = tmp_path / "j.sqlite"
    done = run_cli("run", str(SCRIPT), "--data", str(data), "--allow-unproven", "--journal",
                   str(journal), "--no-plot", "--json", "--proofs", str(tmp_path))  # fmt: skip
    assert done.code == 2, done.err
    report = json.loads(done.out)
    assert report["outcome"]["reason"] == "reconciliation" and report["outcome"]["tick"] == 2
    assert "perp.open_sell" in report["outcome"]["message"]
    assert report["assumption_breaches"][0]["kind"] == "reconciliation"
    with sqlite3.connect(journal) as db:
        (event,) = db.execute("SELECT event FROM ticks WHERE tick = 2").fetchone()
    assert json.loads(event)["kind"] == "reconciliation"


# -- order checks ----------------------------------------------------------------------------------


def test_order_check_blocks_the_transition_fail_closed(tmp_path: Path) -> None:
    text = TWO_LEGS.read_text().replace("at_most_a_clip: qty <= clip", "at_most_a_clip: qty < clip")
    model = load_text(text, "legs.yaml")
    executor = run(model, legs_data(model, tmp_path / "legs.csv", ticks=50))
    ticks = ticks_of(executor)
    denied = [t for t in ticks if t["event"] and t["event"]["kind"] == "denied"]
    assert denied and all(t["actions"] == [] and t["transition"] is None for t in denied)
    (check,) = denied[0]["event"]["provers"]
    assert check["name"] == "at_most_a_clip" and check["text"] == "qty < clip"
    assert check["reason"].startswith("does not hold for place(instrument=spot, side=buy, qty=5")
    assert "order check at_most_a_clip does not hold" in denied[0]["event"]["message"]
    assert executor.stats.orders == 0 and not executor.books.first.orders
    assert executor.stats.denials["at_most_a_clip"] == len(denied)


# -- market columns ----------------------------------------------------------------------------


def test_one_instrument_reads_plain_or_prefixed_columns_but_not_both(tmp_path: Path) -> None:
    model = load_model(SCRIPT)
    plain = read_feed(write_rows(tmp_path / "plain.csv", SCRIPT_ROWS), model)
    header = "time," + ",".join(f"perp.{c}" for c in HEADER.split(",")[1:])
    prefixed = read_feed(write_rows(tmp_path / "prefixed.csv", SCRIPT_ROWS, header), model)
    assert [r.markets for r in plain.rows] == [r.markets for r in prefixed.rows]
    assert [r.inputs for r in plain.rows] == [r.inputs for r in prefixed.rows]
    assert plain.rows[2].inputs == {"bid": 103, "ask": 104}
    both = write_rows(tmp_path / "both.csv", [QUIET + ",100"], HEADER + ",perp.bid")
    with pytest.raises(DataError) as caught:
        read_feed(both, model)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (1, 9)
    assert "columns 'bid' and 'perp.bid' are one column of instrument 'perp'" in problem.message


def test_two_instruments_read_prefixed_columns_only(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    data = legs_data(model, tmp_path / "legs.csv", ticks=5)
    feed = read_feed(data, model)
    assert set(feed.rows[0].markets) == {"spot", "future"}
    assert feed.rows[0].inputs["spot_ask"] == feed.rows[0].markets["spot"].ask
    assert feed.rows[0].inputs["future_bid"] == feed.rows[0].markets["future"].bid
    lines = data.read_text().splitlines()
    lines[0] = lines[0].replace("spot.bid,", "bid,")
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        read_feed(data, model)
    messages = [str(d) for d in caught.value.diagnostics]
    assert f"{data}:1:1: missing column 'spot.bid' (venue column of instrument 'spot'; the " \
           "file's 'bid' is not read: each instrument has its own, spot.bid, future.bid; " \
           "`seqprove data import --map spot.bid=COLUMN` writes it from a column of another " \
           "name)" in messages  # fmt: skip
    assert len(messages) == 1


def test_venue_quantity_of_one_book_is_refused_with_two_instruments(tmp_path: Path) -> None:
    text = TWO_LEGS.read_text().replace(
        "  expired: {type: bool}\n",
        "  expired: {type: bool}\n  held: {type: int, source: venue.position}\n",
    )
    path = tmp_path / "held.yaml"
    path.write_text(text)
    model = load_model(path)
    line = text.splitlines().index("  held: {type: int, source: venue.position}") + 1
    with pytest.raises(ModelError) as caught:
        Executor(model, read_feed(legs_data(model, tmp_path / "d.csv", ticks=3), model), None)
    (problem,) = caught.value.diagnostics
    assert (problem.file, problem.line, problem.column) == (str(path), line, 3)
    assert "input 'held' takes venue.position, but the model trades spot, future" in problem.message


# -- journal and resume ---------------------------------------------------------------------------


def test_resumed_two_instrument_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    feed = read_feed(legs_data(model, tmp_path / "legs.csv", "vol-spike", 500), model)
    whole = Journal(tmp_path / "whole.sqlite")
    straight = Executor(model, feed, whole)
    straight.start()
    straight.run()
    pieces = Journal(tmp_path / "pieces.sqlite")
    Executor(model, feed, pieces).start()
    for cut in (1, 2, 3, 24, 25, 26, 27, 200):
        executor = Executor(model, feed, pieces)
        executor.resume()
        while executor.next_tick <= cut and executor.outcome is None:
            executor._tick(executor.next_tick, feed.rows[executor.next_tick - 1])
            executor.next_tick += 1
    last = Executor(model, feed, pieces)
    last.resume()
    last.run()
    assert pieces.dump() == whole.dump()
    assert last.config == straight.config
    assert last.stats.books == straight.stats.books and last.stats.pnl == straight.stats.pnl
    assert last.stats.fills_of == straight.stats.fills_of != {}
    assert pieces.meta()["format"] == FORMAT_BOOKS


def test_sigkill_then_resume_equals_an_undisturbed_run(tmp_path: Path) -> None:
    model = load_model(PERP_BOOKS)
    data = tmp_path / "d.csv"
    write_table(synthesize("vol-spike", 3000, 21, columns_for(model)), data)
    reference = Journal(tmp_path / "reference.sqlite")
    straight = Executor(model, read_feed(data, model), reference, admitted_by="test")
    straight.start()
    outcome = straight.run()
    journal = tmp_path / "killed.sqlite"
    args = [sys.executable, "-m", "checker", "run", str(PERP_BOOKS), "--data", str(data),
            "--allow-unproven", "--proofs", str(tmp_path), "--journal", str(journal),
            "--no-plot"]  # fmt: skip
    assert outcome.tick > 1000, outcome  # long enough to be cut three times
    killed = []
    for target in (outcome.tick // 5, outcome.tick // 2, outcome.tick * 4 // 5):
        resume = ["--resume"] if journal.exists() else []
        child = subprocess.Popen([*args, *resume], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while last_tick(journal) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.005)
        assert child.poll() is None, "the run ended before it was killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        killed.append(last_tick(journal))
    final = subprocess.run([*args, "--resume"], capture_output=True, text=True, check=False)
    assert final.returncode == outcome.exit_code, final.stderr
    resumed = Journal(journal)
    assert resumed.dump() == reference.dump(), killed
    assert resumed.meta()["outcome"] == reference.meta()["outcome"]


def test_damaged_two_instrument_journal_is_refused(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    data = legs_data(model, tmp_path / "legs.csv", ticks=60)
    journal = tmp_path / "j.sqlite"
    args = ["run", str(TWO_LEGS), "--data", str(data), "--allow-unproven", "--journal",
            str(journal), "--no-plot", "--proofs", str(tmp_path)]  # fmt: skip
    assert run_cli(*args).code == 0
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE orders SET instrument = 'spot' WHERE instrument = 'future'")
    damaged = run_cli(*args, "--resume")
    assert damaged.code == 3 and "is damaged" in damaged.err
    assert "does not match its checksum" in damaged.err


def test_journal_of_another_format_is_refused_by_name(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    data = legs_data(model, tmp_path / "legs.csv", ticks=30)
    journal = tmp_path / "j.sqlite"
    args = ["run", str(TWO_LEGS), "--data", str(data), "--allow-unproven", "--journal",
            str(journal), "--no-plot", "--proofs", str(tmp_path)]  # fmt: skip
    assert run_cli(*args).code == 0
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE meta SET value = '\"seqprove-journal/2\"' WHERE key = 'format'")
    refused = run_cli(*args, "--resume")
    assert refused.code == 3
    assert "damaged" in refused.err or "another format" in refused.err
    with sqlite3.connect(journal) as db:
        db.execute("UPDATE meta SET value = '\"seqprove-journal/1\"' WHERE key = 'format'")
    refused = run_cli(*args, "--resume")
    assert refused.code == 3
    assert "is a run of another format (seqprove-journal/1, now seqprove-journal/3)" in refused.err


# -- the report ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (["abs(perp.position) <= 50"], "[-50, 50]"),
        (["perp.position <= 30", "perp.position >= -10"], "[-10, 30]"),
        (["abs(perp.position) <= 50", "perp.position < 20"], "[-50, 20)"),
        (["perp.position >= 0"], "[0, inf)"),
        (["perp.position + perp.open_buy <= 50"], None),
        (["abs(perp.position) <= 50 and perp.position != 3"], "[-50, 3) or (3, 50]"),
    ],
)
def test_band_is_read_from_the_limits_on_the_position_alone(
    limits: list[str], expected: str | None
) -> None:
    text = (
        LEAVES.read_text().split("limits:")[0]
        + "limits:\n"
        + "".join(f"  l{i}: {lim}\n" for i, lim in enumerate(limits))
    )
    model = load_text(text, "band.yaml")
    found = band(model, "perp")
    assert (None if found is None else found.text) == expected


def test_plot_has_a_panel_per_instrument_and_one_for_pnl(tmp_path: Path) -> None:
    model = load_model(TWO_LEGS)
    executor = run(model, legs_data(model, tmp_path / "legs.csv", ticks=80))
    assert executor.outcome is not None
    report = RunReport(model, "legs.csv", executor.outcome, executor.stats, {}, None, None, "t", 0)
    path = tmp_path / "legs.png"
    plot(report, path)
    from PIL import Image

    with Image.open(path) as image:
        assert image.size[0] == 1200
    labels = [ax.get_ylabel() for ax in figure(report).axes]
    books = [f"{i.name} {part}" for i in model.instruments for part in ("price", "position")]
    assert labels == ["step (entries)", *books, "PnL"]


# -- found on the way (regressions of the verifier and the certificates) ----------------------


def test_spacer_with_lemmas_that_read_the_step_proves_the_market_maker() -> None:
    """The portfolio's Spacer is given Houdini's lemmas; with instruments, Houdini keeps
    final-step-orders, which reads the step. Spacer alone proves position_limit; with
    those lemmas it must too, not answer `Uninterpreted '@step'`."""
    model = load_model(PERP_BOOKS)
    system = TransitionSystem(model)
    lemmas = houdini(system, Budget(system.meter, DEFAULT_BUDGET, 60))
    assert "final-step-orders" in lemmas.parts
    bad = z3.Not(system.props["position_limit"])
    found = spacer(
        system, bad, Budget(system.meter, DEFAULT_BUDGET, 120), lemmas.conjunction(system)
    )
    assert "Uninterpreted '@step'" not in found.reason
    assert found.verdict.value == "proved", found.reason


def test_a_certificate_of_a_model_with_instruments_admits_it(tmp_path: Path) -> None:
    from checker.run.gate import check

    certificate = tmp_path / "certificate"
    verified = run_cli("verify", "--proofs", str(tmp_path / "proofs"), "--export",
                       str(certificate), str(TWO_LEGS))  # fmt: skip
    assert verified.code == 0, verified.out
    decision = check(load_model(TWO_LEGS), certificate)
    assert decision.admitted, decision.reason
