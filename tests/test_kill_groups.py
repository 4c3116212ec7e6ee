"""Crash safety of a journal committed in groups of ticks (``seqprove run
--commit-every N``, the backtest default): a real ``seqprove run`` killed with SIGKILL at
random moments, several times, and resumed each time ends with exactly the journal of a
run that was never interrupted and committed every tick (every tick, order, fill and
hash, the outcome too): no tick is lost or duplicated, whichever group a kill cuts."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from checker.lang.loader import load_model
from checker.run.data import read_feed
from checker.run.executor import Executor
from checker.run.integrity import damage
from checker.run.journal import Journal
from tests.conftest import V1_MODELS, last_tick, run_cli
from tests.test_run import synth_for

PERP = V1_MODELS / "perp_market_maker.yaml"
TICKS = 6000
GROUP = 50
KILLS = 8


def test_sigkill_in_the_middle_of_groups_then_resume_loses_and_repeats_nothing(
    tmp_path: Path,
) -> None:
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(PERP)).code == 0
    model = load_model(PERP)
    data = synth_for(model, tmp_path / "data.csv", "calm", TICKS, seed=5)

    reference = Journal(tmp_path / "reference.sqlite")  # one commit per tick
    straight = Executor(model, read_feed(data, model), reference)
    straight.start()
    outcome = straight.run()
    assert outcome.tick == TICKS, outcome

    journal = tmp_path / "killed.sqlite"
    args = [sys.executable, "-m", "checker", "run", str(PERP), "--data", str(data),
            "--proofs", str(proofs), "--journal", str(journal), "--no-plot",
            "--commit-every", str(GROUP)]  # fmt: skip
    rng = random.Random(14)
    killed_at: list[int] = []
    while len(killed_at) < KILLS:
        done = last_tick(journal)
        assert done < TICKS - GROUP, f"the run got too far to be killed again: {killed_at}"
        resume = ["--resume"] if journal.exists() else []
        child = subprocess.Popen([*args, *resume], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)  # fmt: skip
        # wait for the run to commit at least one group of its own, then kill it at a
        # random moment: most land inside a group, with ticks played and not committed
        deadline = time.monotonic() + 120
        want = done + GROUP + rng.randrange(0, 300)
        while last_tick(journal) < want and child.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01))
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert child.stderr is not None
        child.stderr.close()
        cut = last_tick(journal)
        assert cut > done
        assert cut % GROUP == 0, f"a kill left a part of a group: tick {cut}"
        kept = Journal(journal, existing=True)
        assert damage(kept) == []
        kept.close()
        killed_at.append(cut)
    assert killed_at == sorted(set(killed_at))

    final = subprocess.run([*args, "--resume"], capture_output=True, text=True, check=False)
    assert final.returncode == outcome.exit_code, final.stderr

    resumed = Journal(journal)
    got, want_dump = resumed.dump(), reference.dump()
    assert [r[0] for r in got["ticks"]] == list(range(TICKS + 1))  # none lost, none twice
    assert got == want_dump  # every tick, order and fill, hash for hash
    assert len({row[0] for row in got["fills"]}) == len(got["fills"])
    assert resumed.meta()["outcome"] == reference.meta()["outcome"]
    assert [r["tick"] for r in resumed.meta()["resumes"]] == killed_at
