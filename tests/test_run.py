"""The executor: the proof gate, the assumption monitor, provers and limits enforced live,
the journal, and every reference model through every stress scenario."""

from __future__ import annotations

import json
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest

from checker.lang.loader import load_model, load_text
from checker.model import Model
from checker.run import VENUE_COLUMNS
from checker.run.data import columns_for, read_feed
from checker.run.executor import Executor
from checker.run.journal import Journal
from checker.run.synth import SCENARIOS, synthesize, write_table
from checker.run.venue import Fill, PaperVenue
from tests.conftest import ROOT, V1_MODELS, run_cli

MODELS = sorted((ROOT / "models").glob("*.yaml"))
PERP = V1_MODELS / "perp_market_maker.yaml"


def synth_for(model: Model, path: Path, scenario: str, ticks: int, seed: int) -> Path:
    """Synthetic data with exactly the columns ``model`` reads (each instrument's own with
    instruments)."""
    legs = tuple(i.name for i in model.instruments)
    columns = [c for c in columns_for(model) if c not in VENUE_COLUMNS] if legs else None
    write_table(synthesize(scenario, ticks, seed, columns or columns_for(model), legs), path)
    return path


def csv_rows(header: str, rows: list[str], path: Path) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def run_model(model: Model, data: Path, journal: Journal | None = None) -> Executor:
    executor = Executor(model, read_feed(data, model), journal)
    executor.start()
    executor.run()
    return executor


# -- every reference model through every scenario ------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_reference_models_never_break_a_limit(path: Path, scenario: str, tmp_path: Path) -> None:
    model = load_model(path)
    data = synth_for(model, tmp_path / "data.csv", scenario, 2000, seed=11)
    executor = run_model(model, data)
    outcome = executor.outcome
    assert outcome is not None
    assert outcome.reason in ("data-end", "final", "assumption"), outcome.message
    assert not executor.stats.limit_breaches
    for _, venue in executor.books:
        # every order's fills add up to what it says it filled, and no fill id repeats
        assert len({f.fill_id for f in venue.fills}) == len(venue.fills)
        for order in venue.orders.values():
            assert sum((f.qty for f in venue.fills if f.cid == order.cid), start=0) == order.filled
            assert order.filled <= order.qty
        if outcome.reason != "data-end":
            assert not venue.open_quantity("buy") and not venue.open_quantity("sell")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_long_runs_never_break_a_limit(path: Path, scenario: str, tmp_path: Path) -> None:
    model = load_model(path)
    for seed in range(4):
        data = synth_for(model, tmp_path / f"data{seed}.csv", scenario, 30_000, seed)
        executor = run_model(model, data)
        assert executor.outcome is not None and executor.outcome.reason != "limit"


def test_perp_market_maker_trades_and_stays_inside_its_band(tmp_path: Path) -> None:
    model = load_model(PERP)
    data = synth_for(model, tmp_path / "calm.csv", "calm", 3000, seed=3)
    executor = run_model(model, data)
    assert executor.outcome is not None and executor.outcome.reason == "data-end"
    assert executor.stats.orders > 100 and executor.stats.fills > 100
    # the model's memory tracks the venue: every fill was booked by the strategy
    position = executor.config.values["position"]
    assert position == executor.venue.position
    # and its PnL is the venue's marked-to-market PnL at the strategy's last read of it
    assert executor.config.values["pnl"] == executor.reads["venue.pnl_change"] != 0
    assert max(abs(p) for *_, p, _ in executor.stats.series) <= 100


# -- the gate ---------------------------------------------------------------------------------


def verified(tmp_path: Path, text: str | None = None) -> tuple[Path, Path]:
    model = tmp_path / "perp.yaml"
    model.write_text(text or PERP.read_text())
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(model)).code == 0
    return model, proofs


def perp_data(tmp_path: Path, scenario: str = "calm", ticks: int = 300) -> Path:
    return synth_for(load_model(PERP), tmp_path / f"{scenario}.csv", scenario, ticks, seed=5)


def run_args(model: Path, data: Path, proofs: Path, tmp_path: Path, *extra: str) -> list[str]:
    journal = tmp_path / "run.sqlite"
    return ["run", str(model), "--data", str(data), "--proofs", str(proofs),
            "--journal", str(journal), "--no-plot", *extra]  # fmt: skip


def test_unproven_model_is_refused(tmp_path: Path) -> None:
    data = perp_data(tmp_path)
    run = run_cli(*run_args(PERP, data, tmp_path / "empty", tmp_path))
    assert run.code == 3
    assert "refused" in run.err and "no proof record" in run.err
    assert not (tmp_path / "run.sqlite").exists()


def test_model_edited_since_its_proof_is_refused(tmp_path: Path) -> None:
    model, proofs = verified(tmp_path)
    model.write_text(model.read_text() + "# a comment is an edit too\n")
    run = run_cli(*run_args(model, perp_data(tmp_path), proofs, tmp_path))
    assert run.code == 3
    assert "edited since it was proved" in run.err


def test_other_params_need_their_own_proof(tmp_path: Path) -> None:
    model, proofs = verified(tmp_path)
    data = perp_data(tmp_path)
    run = run_cli(*run_args(model, data, proofs, tmp_path, "--param", "max_position=80"))
    assert run.code == 3
    assert "proved with other params only" in run.err
    ok = run_cli(*run_args(model, data, proofs, tmp_path, "--json"))
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["admitted_by"].startswith("proof record")


def test_a_refuted_model_gets_no_proof_record(tmp_path: Path) -> None:
    text = PERP.read_text().replace("abs(position) <= max_position", "abs(position) <= 15")
    model = tmp_path / "perp.yaml"
    model.write_text(text)
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(model)).code == 1
    assert not proofs.exists() or not list(proofs.iterdir())


def test_allow_unproven_runs_loudly_and_marks_the_journal(tmp_path: Path) -> None:
    data = perp_data(tmp_path)
    args = run_args(PERP, data, tmp_path / "empty", tmp_path, "--allow-unproven")
    run = run_cli(*args)
    assert run.code == 0
    assert "WITHOUT A PROOF" in run.err
    assert "WARNING" in run.out
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
    assert json.loads(meta["admitted_by"]).startswith("UNPROVEN")


# -- monitor, provers, limits -------------------------------------------------------------------


def test_input_outside_the_assumptions_stops_trading_at_that_tick(tmp_path: Path) -> None:
    model, proofs = verified(tmp_path)
    data = perp_data(tmp_path, ticks=200)
    lines = data.read_text().splitlines()
    cells = lines[121].split(",")  # tick 121: a crossed book
    header = lines[0].split(",")
    cells[header.index("bid")] = cells[header.index("ask")]
    lines[121] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n")
    run = run_cli(*run_args(model, data, proofs, tmp_path, "--json"))
    assert run.code == 2
    report = json.loads(run.out)
    assert report["outcome"]["reason"] == "assumption"
    assert report["outcome"]["tick"] == 121
    assert report["outcome"]["step"] == "halted"
    (breach,) = report["assumption_breaches"]
    assert "assumption 'sane_book' (0 < bid < ask) does not hold: ask = " in breach["message"]
    assert report["ticks"] == 121
    with sqlite3.connect(tmp_path / "run.sqlite") as db:
        (actions,) = db.execute("SELECT actions FROM ticks WHERE tick = 121").fetchone()
        open_orders = db.execute("SELECT COUNT(*) FROM orders WHERE status = 'open'").fetchone()
    assert json.loads(actions)[0]["name"] == "cancel_all"
    assert open_orders == (0,)


ONE_SHOT = """
strategy: one-shot
state:
  sent: {type: int, init: 0}
inputs:
  bid: {type: real}
  held: {type: int, source: venue.position}
provers:
  flat: held == 0
steps: [waiting]
initial: waiting
transitions:
  - from: waiting
    to: waiting
    when: [flat, sent < 5]
    emit:
      - place(side="buy", qty=1, price=bid - 1000)
    do: {sent: sent + 1}
limits:
  few: sent <= 5
"""


class LateFillVenue(PaperVenue):
    """A venue that reports a fill between the strategy's decision and its orders going
    out, as a live venue may."""

    def poll(self, tick: int) -> list[Fill]:
        if tick != 3:
            return []
        return self.place(tick, "external", "buy", 1, None)


def test_failing_prover_blocks_its_actions(tmp_path: Path) -> None:
    model = load_text(ONE_SHOT, "one-shot.yaml")
    data = synth_for(model, tmp_path / "calm.csv", "calm", 10, seed=1)
    executor = Executor(model, read_feed(data, model), Journal(":memory:"), venue=LateFillVenue())
    executor.start()
    executor.run()
    assert executor.journal is not None
    ticks = list(executor.journal.ticks())
    assert [t["transition"] for t in ticks[1:4]] == [0, 0, None]
    denied = ticks[3]["event"]
    assert denied["kind"] == "denied"
    assert denied["provers"] == [
        {"name": "flat", "text": "held == 0", "reason": "does not hold", "values": {"held": 1}}
    ]
    assert ticks[3]["actions"] == [] and ticks[3]["provers"] == [["flat", False]]
    assert ticks[3]["state"] == {"sent": 2}  # nothing changed: fail-closed
    assert executor.stats.denials == {"flat": 1}
    assert executor.stats.orders == 2


RUNAWAY = """
strategy: runaway
state:
  sent: {type: int, init: 0}
inputs:
  bid: {type: real}
provers:
  always: bid > 0
steps: [quoting]
initial: quoting
transitions:
  - from: quoting
    to: quoting
    when: [always]
    emit:
      - place(side="buy", qty=1, price=bid)
    do: {sent: sent + 1}
limits:
  at_most_three: sent <= 3
"""


def test_broken_limit_stops_the_run_and_cancels(tmp_path: Path) -> None:
    path = tmp_path / "runaway.yaml"
    path.write_text(RUNAWAY)
    data = synth_for(load_text(RUNAWAY, "r"), tmp_path / "calm.csv", "calm", 50, seed=1)
    journal = tmp_path / "j.sqlite"
    run = run_cli("run", str(path), "--data", str(data), "--allow-unproven", "--json",
                  "--journal", str(journal), "--no-plot", "--proofs", str(tmp_path))  # fmt: skip
    assert run.code == 1
    report = json.loads(run.out)
    assert report["outcome"]["reason"] == "limit" and report["outcome"]["tick"] == 4
    assert report["limit_breaches"][0]["limits"] == ["at_most_three"]
    with sqlite3.connect(journal) as db:
        (actions,) = db.execute("SELECT actions FROM ticks WHERE tick = 4").fetchone()
    assert [a["name"] for a in json.loads(actions)] == ["place", "cancel_all"]


# -- data ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda h, r: (h + ",bid", [x + ",1" for x in r]), "1:9", "column 'bid' repeated"),
        (lambda h, r: (h.replace(",ask", ",asks"), r), "1:1", "missing column 'ask' (input 'ask'"),
        (
            lambda h, r: (h.replace(",volume", ""), [x.rsplit(",", 1)[0] for x in r]),
            "1:1",
            "missing column 'volume' (venue column; `seqprove data import --map volume=COLUMN`",
        ),
        (lambda h, r: (h, [r[0], r[1].replace(",", ",x", 1)]), "3:2", "'x"),
        (lambda h, r: (h, [r[0], r[1] + ",7"]), "3:1", "9 cells, the header has 8"),
    ],
)
def test_bad_market_data_is_located(tmp_path: Path, change: object, where: str, words: str) -> None:
    model, proofs = verified(tmp_path)
    data = perp_data(tmp_path, ticks=5)
    header, *rows = data.read_text().splitlines()
    assert callable(change)
    header, rows = change(header, rows)
    csv_rows(header, rows, data)
    run = run_cli(*run_args(model, data, proofs, tmp_path))
    assert run.code == 3
    assert f"{data}:{where}: " in run.err and words in run.err, run.err
    assert "Traceback" not in run.err


def test_parquet_data_runs_like_csv(tmp_path: Path) -> None:
    model = load_model(PERP)
    table = synthesize("vol-spike", 800, 2, columns_for(model))
    write_table(table, tmp_path / "d.csv")
    write_table(table, tmp_path / "d.parquet")
    a = run_model(model, tmp_path / "d.csv")
    b = run_model(model, tmp_path / "d.parquet")
    assert a.stats.series == b.stats.series
    assert a.config == b.config


def test_a_file_that_is_not_a_journal_is_refused(tmp_path: Path) -> None:
    model, proofs = verified(tmp_path)
    data = perp_data(tmp_path)
    journal = tmp_path / "run.sqlite"
    journal.write_text("not a database, and long enough to look like a header: " * 4)
    run = run_cli(*run_args(model, data, proofs, tmp_path, "--resume"))
    assert run.code == 3 and "is not a seqprove journal" in run.err
    journal.unlink()
    sqlite3.connect(journal).execute("CREATE TABLE other (x)").connection.commit()
    run = run_cli(*run_args(model, data, proofs, tmp_path, "--resume"))
    assert run.code == 3 and "holds no run to resume" in run.err
    with sqlite3.connect(journal) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["other"]


def test_journal_is_not_overwritten_and_resume_checks_the_run(tmp_path: Path) -> None:
    model, proofs = verified(tmp_path)
    data = perp_data(tmp_path)
    args = run_args(model, data, proofs, tmp_path)
    assert run_cli(*args).code == 0
    again = run_cli(*args)
    assert again.code == 3 and "exists: pass --resume" in again.err
    finished = run_cli(*args, "--resume", "--json")
    assert finished.code == 0  # a finished run resumes to its report
    assert json.loads(finished.out)["ticks"] == 300
    other = perp_data(tmp_path, "trend")
    moved = run_cli(*run_args(model, other, proofs, tmp_path), "--resume")
    assert moved.code == 3 and "another data sha256" in moved.err


def test_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    """Cut a run at several ticks by replaying only part of the data, resume from the
    journal each time, and compare with one run straight through."""
    model = load_model(PERP)
    data = synth_for(model, tmp_path / "crash.csv", "vol-spike", 1500, seed=9)
    feed = read_feed(data, model)
    whole = Journal(tmp_path / "whole.sqlite")
    Executor(model, feed, whole).start()
    straight = Executor(model, feed, whole)
    straight.resume()
    straight.run()
    pieces = Journal(tmp_path / "pieces.sqlite")
    first = Executor(model, feed, pieces)
    first.start()
    for cut in (1, 2, 377, 800, 1499):
        executor = Executor(model, feed, pieces)
        executor.resume()
        while executor.next_tick <= cut:
            executor._tick(executor.next_tick, feed.rows[executor.next_tick - 1])
            executor.next_tick += 1
    last = Executor(model, feed, pieces)
    last.resume()
    last.run()
    assert pieces.dump() == whole.dump()
    assert last.config == straight.config
    assert last.stats.series == straight.stats.series
    assert last.venue.equity() == straight.venue.equity() != Fraction(0)
