"""``seqprove run --params-schedule``: params changed during a run only inside the proved
region, and only where the proof covers the rest of the run; a refused change is
journaled with its reason and the run goes on with the values it had."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.executor import Executor
from checker.run.journal import Journal
from checker.run.schedule import Cover, Planned
from tests.conftest import ROOT, V1_MODELS, run_cli
from tests.test_run import synth_for

PERP = ROOT / "models" / "perp_market_maker.yaml"
BOX = ("quote_size=50..200", "hedge_band=100..400", "max_position=400..1000")
FREE = """free:
  quote_size: 50..200
  hedge_band: 100..400
  max_position: 400..1000
start: {hedge_band: 400}
"""


@pytest.fixture(scope="module")
def proved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate of the perp market maker over the box, and 1,000 ticks of data."""
    where = tmp_path_factory.mktemp("schedule")
    ranges = [a for r in BOX for a in ("--param-range", r)]
    cert = where / "cert"
    done = run_cli("verify", str(PERP), "--no-cache", *ranges, "--export", str(cert))
    assert done.code == 0, done.out + done.err
    data = synth_for(load_model(PERP), where / "trend.csv", "trend", 1000, seed=1)
    return cert, data


def _run(
    cert: Path, data: Path, schedule: Path, journal: Path | None = None, *more: str
) -> tuple[int, dict[str, object], str]:
    where = ("--journal", str(journal)) if journal else ("--no-journal",)
    args = ["run", str(PERP), "--data", str(data), "--proofs", str(cert), *where]
    done = run_cli(*args, "--params-schedule", str(schedule), "--no-plot", "--json", *more)
    report = json.loads(done.out) if done.out.startswith("{") else {}
    return done.code, report, done.err


def _positions(journal: Path) -> dict[int, tuple[int, dict[str, str]]]:
    """Each tick's position of the perp and state, from the journal."""
    with sqlite3.connect(journal) as db:
        rows = db.execute("SELECT tick, position, state FROM ticks ORDER BY tick").fetchall()
    return {t: (int(json.loads(p)["perp"]), json.loads(s)) for t, p, s in rows}


def test_a_schedule_changes_params_inside_the_proof_and_refuses_the_rest(
    proved: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, data = proved
    prefix = (
        FREE
        + """changes:
  - tick: 20
    set: {quote_size: 60}
  - tick: 40
    set: {quote_size: 300}          # outside the box
"""
    )
    first = tmp_path / "first.sqlite"
    plain = tmp_path / "first.yaml"
    plain.write_text(prefix)
    code, _, err = _run(cert, data, plain, first)
    assert code == 0, err
    # a tick whose configuration before it holds a position above 400: the proof over
    # max_position=400 does not cover the run from there, though 400 is in the box
    positions = _positions(first)
    over = next(t + 1 for t, (p, _) in sorted(positions.items()) if abs(p) > 400 and t > 40)
    under = next(
        t + 1 for t, (p, _) in sorted(positions.items()) if t > over + 50 and abs(p) <= 200
    )
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        prefix
        + f"""  - tick: {over}
    set: {{max_position: 400}}        # in the box, but the position is above it
  - tick: {under}
    set: {{max_position: 400}}        # the same change, once the position fits
"""
    )
    journal = tmp_path / "run.sqlite"
    code, report, err = _run(cert, data, schedule, journal)
    assert code in (0, 2), err  # 2: the monitor stopped it (a PnL move beyond the proof's)
    changes = report["param_changes"]
    assert isinstance(changes, list)
    assert [(c["tick"], c["applied"]) for c in changes] == [
        (20, True),
        (40, False),
        (over, False),
        (under, True),
    ]
    assert "quote_size=300 is outside its range" in changes[1]["reason"]
    assert "invariant of position_limit" in changes[2]["reason"]
    assert "the run goes on with max_position=1000" in changes[2]["message"]
    states = _positions(journal)
    # refused: the old values stay, tick after tick; made: the new ones from that tick
    assert states[39][1]["quote_size"] == states[40][1]["quote_size"] == 60
    assert states[over][1]["max_position"] == 1000
    assert states[under - 1][1]["max_position"] == 1000
    assert states[under][1]["max_position"] == 400
    assert report["outcome"]["reason"] in ("data-end", "assumption")  # type: ignore[index]
    assert not report["limit_breaches"]
    # every tick after the change keeps the limit it was proved with
    assert all(abs(p) <= s["max_position"] for p, s in states.values())
    with sqlite3.connect(journal) as db:
        events = [json.loads(e) for (e,) in db.execute("SELECT event FROM ticks") if e]
    refused = [e for e in events if e.get("kind") == "params" and not e["applied"]]
    assert len(refused) == 2 and all(e["reason"] for e in refused)


def test_a_change_by_time_and_a_resume_with_another_schedule(
    proved: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, data = proved
    schedule = tmp_path / "by_time.yaml"
    schedule.write_text(
        FREE
        + """changes:
  - time: 2026-01-01T00:01:40Z      # the 101st row of the data is at 00:01:40
    set: {quote_size: 60}
"""
    )
    journal = tmp_path / "run.sqlite"
    code, report, err = _run(cert, data, schedule, journal)
    assert code == 0, err
    assert [(c["tick"], c["applied"]) for c in report["param_changes"]] == [(101, True)]  # type: ignore[union-attr]
    other = tmp_path / "other.yaml"
    other.write_text(FREE)
    code, _, err = _run(cert, data, other, journal, "--resume")
    assert code == 3
    assert "another params schedule" in err


def test_a_schedule_needs_a_certificate_and_a_start_inside(
    proved: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, data = proved
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(FREE)
    args = ["run", str(PERP), "--data", str(data), "--no-journal", "--no-plot"]
    done = run_cli(*args, "--params-schedule", str(schedule), "--proofs", str(tmp_path))
    assert done.code == 3
    assert "needs a certificate of the region" in done.err
    # a certificate of another box is no proof of this one
    other = tmp_path / "other.yaml"
    other.write_text(FREE.replace("50..200", "50..150"))
    done = run_cli(*args, "--params-schedule", str(other), "--proofs", str(cert))
    assert done.code == 3
    assert "has no proof of" in done.err
    # the model's own quote_size (100) is outside 150..200: give a start inside
    outside = tmp_path / "outside.yaml"
    outside.write_text(FREE.replace("50..200", "150..200"))
    done = run_cli(*args, "--params-schedule", str(outside), "--proofs", str(cert))
    assert done.code == 3


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("free: {quote_size: 1..50}\nchange: []\n", "2:1", "unknown key 'change'"),
        ("free: {quote_sise: 1..50}\n", "1:8", "has no param 'quote_sise'"),
        ("free: {quote_size: 50}\n", "1:20", "free: write quote_size: LO..HI"),
        (
            "free: {quote_size: 50..200}\nchanges:\n  - {tick: 3, set: {quote_size: 2.5}}\n",
            "3:33",
            "'quote_size' is an integer param",
        ),
        (
            "free: {quote_size: 50..200}\nchanges:\n  - {tick: 3, set: {hedge_band: 20}}\n",
            "3:21",
            "'hedge_band' is not under free",
        ),
        (
            "free: {quote_size: 50..200}\nchanges:\n  - {set: {quote_size: 60}}\n",
            "3:5",
            "gives its tick or its time",
        ),
        ("free: {quote_size: 50..200}\nwhere: quote_size +\n", "2:8", "syntax error"),
    ],
)
def test_a_bad_schedule_is_located_in_its_file(
    proved: tuple[Path, Path], tmp_path: Path, text: str, where: str, message: str
) -> None:
    cert, data = proved
    schedule = tmp_path / "bad.yaml"
    schedule.write_text(text)
    done = run_cli(
        "run", str(PERP), "--data", str(data), "--no-journal", "--no-plot",
        "--params-schedule", str(schedule), "--proofs", str(cert),
    )  # fmt: skip
    assert done.code == 3, done.out + done.err
    assert f"{schedule}:{where}:" in done.err
    assert message in done.err
    assert "Traceback" not in done.err


def test_param_set_twice_is_refused(proved: tuple[Path, Path], tmp_path: Path) -> None:
    cert, data = proved
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(FREE)
    done = run_cli(
        "run", str(PERP), "--data", str(data), "--no-journal", "--no-plot",
        "--params-schedule", str(schedule), "--proofs", str(cert), "--param", "quote_size=60",
    )  # fmt: skip
    assert done.code == 3
    assert "set with --param and moved by the schedule" in done.err


def test_a_change_on_the_fast_path_is_the_general_paths(tmp_path: Path) -> None:
    """A model without instruments plays its ticks by compiled functions, which read the
    params from the configuration: a change takes effect at its tick there too, and the
    journal is the one the general path (the interpreter, tick by tick) writes."""
    path = V1_MODELS / "perp_market_maker.yaml"
    cert = tmp_path / "cert"
    done = run_cli(
        "verify", str(path), "--no-cache", "--param-range", "hedge_band=20..60",
        "--export", str(cert),
    )  # fmt: skip
    assert done.code == 0, done.out + done.err
    model = load_model(path, {}, {"hedge_band": "20..60"})
    data = synth_for(load_model(path), tmp_path / "data.csv", "trend", 600, seed=3)
    changes = [Planned(200, {"hedge_band": 20}, "here"), Planned(400, {"hedge_band": 19}, "")]

    def play(planned: list[Planned], fast: bool) -> tuple[Executor, list[tuple[object, ...]]]:
        journal = Journal(":memory:")
        executor = Executor(
            model,
            read_feed(data, model),
            journal,
            params={"hedge_band": 50},
            planned=planned,
            cover=Cover(model, cert),
            observer=None if fast else (lambda *_: None),
        )
        assert executor._fast() is fast
        executor.start()
        executor.run()
        return executor, journal.dump()["ticks"]

    fast, fast_rows = play(changes, True)
    assert fast_rows == play(changes, False)[1]
    made = [(c["tick"], c["applied"]) for c in fast.stats.param_changes]
    assert made == [(200, True), (400, False)]
    assert fast.config.values["hedge_band"] == 20
    # the change is what makes the run differ from one without it, from its tick on
    _, unchanged = play([], True)
    differ = [a[0] for a, b in zip(fast_rows, unchanged, strict=True) if a[2:] != b[2:]]
    assert differ and min(differ) >= 200  # type: ignore[type-var]
