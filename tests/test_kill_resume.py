"""Crash safety: a run killed with SIGKILL at random ticks and resumed each time ends
exactly like a run that was never interrupted, with no order or fill lost or duplicated."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.executor import Executor
from checker.run.journal import Journal
from tests.conftest import V1_MODELS, last_tick, run_cli
from tests.test_run import synth_for

PERP = V1_MODELS / "perp_market_maker.yaml"
TICKS = 4000
KILLS = 8
"""Kills in the default suite; ``make test-slow`` runs the campaign of :data:`MANY_KILLS`."""
MANY_KILLS = 22


def test_sigkill_at_random_ticks_then_resume(tmp_path: Path) -> None:
    sigkill_at_random_ticks_then_resume(tmp_path, KILLS)


@pytest.mark.slow
def test_many_sigkills_at_random_ticks_then_resume(tmp_path: Path) -> None:
    sigkill_at_random_ticks_then_resume(tmp_path, MANY_KILLS)


def sigkill_at_random_ticks_then_resume(tmp_path: Path, kills: int) -> None:
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(PERP)).code == 0
    model = load_model(PERP)
    data = synth_for(model, tmp_path / "data.csv", "vol-spike", TICKS, seed=21)

    reference = Journal(tmp_path / "reference.sqlite")
    straight = Executor(model, read_feed(data, model), reference)
    straight.start()
    outcome = straight.run()
    assert outcome.tick > TICKS // 2, outcome  # long enough to be cut many times

    journal = tmp_path / "killed.sqlite"
    args = [sys.executable, "-m", "checker", "run", str(PERP), "--data", str(data),
            "--proofs", str(proofs), "--journal", str(journal), "--no-plot"]  # fmt: skip
    rng = random.Random(2026)
    killed_at: list[int] = []
    for kill in range(kills):
        # aim past where the last kill landed, spreading the kills that are left over
        # the first four fifths of the run, so a kill that lands late (the run commits in
        # groups and goes on while the test polls) never makes the next one miss and the
        # last fifth is left for the last kill's overshoot
        last = last_tick(journal)
        room = outcome.tick * 4 // 5 - last
        assert room > 0, f"the run ended before kill {kill + 1}: {killed_at}"
        share = max(1, room // (kills - kill + 1))
        target = last + 1 + rng.randrange(share)
        resume = ["--resume"] if journal.exists() else []
        child = subprocess.Popen(
            [*args, *resume], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while last_tick(journal) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.002)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.stderr is not None
        child.stderr.close()
        killed_at.append(last_tick(journal))
    assert len(killed_at) == kills, killed_at
    assert killed_at == sorted(set(killed_at)), killed_at  # every kill cut the run anew

    final = subprocess.run([*args, "--resume"], capture_output=True, text=True, check=False)
    assert final.returncode == outcome.exit_code, final.stderr

    resumed = Journal(journal)
    assert resumed.dump() == reference.dump()
    fills = resumed.dump()["fills"]
    assert len({row[0] for row in fills}) == len(fills)
    assert resumed.meta()["outcome"] == reference.meta()["outcome"]


def test_a_clocked_model_killed_and_resumed_keeps_its_windows(tmp_path: Path) -> None:
    """The rolling throttle (a clock, a window of the orders sent), killed with SIGKILL
    three times and resumed: the same journal, the windows' events included, and the
    same window peak in the report as a run never interrupted."""
    model_path = Path(__file__).resolve().parents[1] / "models" / "rolling_order_throttle.yaml"
    proofs = tmp_path / "proofs"
    params = ["--param", "requote_move=0.5"]
    assert run_cli("verify", "--proofs", str(proofs), *params, str(model_path)).code == 0
    model = load_model(model_path, {"requote_move": "0.5"})
    data = synth_for(model, tmp_path / "data.csv", "vol-spike", 3000, seed=5)
    reference = Journal(tmp_path / "reference.sqlite")
    straight = Executor(model, read_feed(data, model), reference)
    straight.start()
    outcome = straight.run()
    journal = tmp_path / "killed.sqlite"
    args = [sys.executable, "-m", "checker", "run", str(model_path), *params, "--data",
            str(data), "--proofs", str(proofs), "--journal", str(journal), "--no-plot"]  # fmt: skip
    for target in (outcome.tick // 4, outcome.tick // 2, outcome.tick * 3 // 4):
        resume = ["--resume"] if journal.exists() else []
        child = subprocess.Popen([*args, *resume], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while last_tick(journal) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.002)
        assert child.poll() is None
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    final = subprocess.run(
        [*args, "--resume", "--json"], capture_output=True, text=True, check=False
    )
    assert final.returncode == outcome.exit_code, final.stderr
    resumed = Journal(journal)
    assert resumed.dump() == reference.dump()
    report = json.loads(final.stdout)
    peak, tick, _ = straight.stats.peaks["sent"]
    assert (report["windows"]["sent"]["peak"], report["windows"]["sent"]["tick"]) == (peak, tick)
