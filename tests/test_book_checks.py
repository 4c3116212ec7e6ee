"""Each known-bad model of language version 2 is refuted for its mistake, and proved once
the mistake is fixed: the checks of the book see what a version-1 model's bookkeeping
hid, and nothing else."""

from __future__ import annotations

import pytest

from checker.lang.loader import load_text
from checker.results import ModelReport, Verdict
from checker.verify import verify_model
from tests.conftest import BAD_MODELS

# (model, what is refuted, the fix: (text to replace, replacement))
CASES = {
    "straddle_no_cancel": (
        "final-step-orders",
        (
            "  - from: offering           # BUG: no cancel_all(): the offers keep working\n"
            "    to: halted\n"
            "    when: kill_switch or not within_loss\n",
            "  - from: offering\n"
            "    to: halted\n"
            "    when: kill_switch or not within_loss\n"
            "    emit:\n"
            "      - cancel_all()\n",
        ),
    ),
    "stale_hedge_size": (
        "positive_qty:33",
        ("qty=seen - band)     # BUG: sized from the stale look", "qty=perp.position - band)"),
    ),
    "collar_one_tick": (
        "collar",
        ("chase_ticks: 3 ", "chase_ticks: 2 "),
    ),
    "late_fill_after_cancel": (
        "position_limit",
        (
            "room: perp.position + quote_size <= max_position    # BUG: forgets the bid being "
            "cancelled",
            "room: perp.position + perp.open_buy + quote_size <= max_position",
        ),
    ),
}


def verdicts(report: ModelReport) -> dict[str, Verdict]:
    return {lim.name: lim.verdict for lim in report.limits}


@pytest.mark.parametrize("name", sorted(CASES))
def test_known_bad_model_is_refuted_then_proved_once_fixed(name: str) -> None:
    broken, (old, new) = CASES[name]
    path = BAD_MODELS / f"{name}.yaml"
    text = path.read_text()
    before = verdicts(verify_model(load_text(text, str(path))))
    assert before[broken] is Verdict.REFUTED
    assert old in text
    fixed = verify_model(load_text(text.replace(old, new), str(path)))
    assert set(verdicts(fixed).values()) == {Verdict.PROVED}, verdicts(fixed)
    assert fixed.exit_code == 0
