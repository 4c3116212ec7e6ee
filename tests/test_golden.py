"""Known-bad models against their expected output (``tests/golden/NAME.out``).

Each golden file holds the exit code and the terminal report of
``seqprove verify tests/models/bad/NAME.yaml``, with times masked. After an intended
change of output, regenerate them with ``SEQPROVE_UPDATE_GOLDEN=1 make test`` and read
the diff before committing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import BAD_MODELS, ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
TIME = re.compile(r"\d+\.\d\d s\b")


def render(path: Path) -> str:
    run = run_cli("verify", str(path.relative_to(ROOT)))
    return f"exit: {run.code}\n--- stderr\n{run.err}--- stdout\n{TIME.sub('?.?? s', run.out)}"


@pytest.mark.parametrize("path", sorted(BAD_MODELS.glob("*.yaml")), ids=lambda p: p.stem)
def test_known_bad_model_output_matches_golden(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    actual = render(path)
    golden = GOLDEN / f"{path.stem}.out"
    if os.environ.get("SEQPROVE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual)
    assert golden.exists(), f"no golden file {golden}; run with SEQPROVE_UPDATE_GOLDEN=1"
    assert actual == golden.read_text()


def test_every_golden_file_has_its_model() -> None:
    stems = {p.stem for p in BAD_MODELS.glob("*.yaml")}
    assert {p.stem for p in GOLDEN.glob("*.out")} == stems


EXPECTED_EXIT = {
    "unreachable_step": 1,
    "final_step_exit": 1,
    "place_without_prover": 1,
    "final_unreachable": 1,
    "refuted_deep": 1,
    "refuted_initial": 1,
    "vacuous_assumptions": 2,
    "dead_transition": 0,
    "shadowed_transition": 0,
    "tautology_limit": 0,
    "dead_end": 0,
    "nonlinear_refuted": 1,
    "nonlinear_true": 0,
    "priority": 1,
    "stutter": 0,
    "simultaneous": 1,
    "exact_reals": 1,
    # language version 2: the book the checker keeps
    "straddle_no_cancel": 1,  # final-step-orders refuted
    "stale_hedge_size": 1,  # positive_qty refuted
    "collar_one_tick": 1,  # an order check refuted by the first order sent
    "options_mm_stuck": 0,  # every limit proved; the stuck warning changes no exit code
    "late_fill_after_cancel": 1,  # a fill on a cancelled bid breaks the position limit
}


@pytest.mark.parametrize("stem", sorted(EXPECTED_EXIT))
def test_golden_exit_codes_are_the_intended_ones(stem: str) -> None:
    first = (GOLDEN / f"{stem}.out").read_text().splitlines()[0]
    assert first == f"exit: {EXPECTED_EXIT[stem]}"
