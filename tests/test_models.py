"""Every reference model in models/ is proved, with no finding at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.lang.loader import load_model
from checker.results import Verdict
from checker.verify import verify_model
from tests.conftest import ROOT

MODELS = sorted((ROOT / "models").glob("*.yaml"))


def test_the_five_reference_strategies_are_there() -> None:
    assert {p.stem for p in MODELS} >= {
        "perp_market_maker",
        "delta_hedged_options_mm",
        "cash_and_carry_basis",
        "margin_ratio_guard",
        "order_rate_throttle",
    }


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_reference_model_is_proved_without_findings(path: Path) -> None:
    report = verify_model(load_model(path))
    assert [(lim.name, lim.verdict) for lim in report.limits] == [
        (lim.name, Verdict.PROVED) for lim in report.limits
    ]
    assert report.findings == ()
    assert report.exit_code == 0


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_param_has_a_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("params:"))
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        if line.strip() and not line.strip().startswith("#"):
            assert "#" in line or "doc:" in line, f"{path.name}: param without a comment: {line}"
