"""Every reference model in models/ is proved, with no warning or error: on version 2,
every limit, order check and built-in check is proved, and `stuck` only notes how far
its search went. The version-1 originals under tests/models/v1 keep their meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.lang.loader import load_model
from checker.results import Severity, Verdict
from checker.verify import verify_model
from tests.conftest import ROOT, V1_MODELS

MODELS = sorted((ROOT / "models").glob("*.yaml"))
ORIGINALS = sorted(V1_MODELS.glob("*.yaml"))


def test_the_reference_strategies_are_there_on_version_2() -> None:
    names = {p.stem for p in MODELS}
    assert names >= {
        "perp_market_maker",
        "delta_hedged_options_mm",
        "cash_and_carry_basis",
        "margin_ratio_guard",
        "order_rate_throttle",
        "perp_grid_bot",
    }
    assert all(load_model(p).version == 2 for p in MODELS)
    assert {p.stem for p in ORIGINALS} == names - {
        "perp_grid_bot",
        "rolling_order_throttle",
        "expiry_quoter",
        "mmp_market_maker",
    }


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_reference_model_is_proved_with_every_check_clean(path: Path) -> None:
    report = verify_model(load_model(path))
    assert [(lim.name, lim.verdict) for lim in report.limits] == [
        (lim.name, Verdict.PROVED) for lim in report.limits
    ]
    kinds = {lim.kind for lim in report.limits}
    assert kinds == {"limit", "order", "check"}
    assert "final-step-orders" in {lim.name for lim in report.limits} or not load_model(path).final
    assert [f.rule for f in report.findings] == ["stuck"]
    assert report.findings[0].severity is Severity.NOTE
    assert report.exit_code == 0


@pytest.mark.parametrize("path", ORIGINALS, ids=lambda p: p.stem)
def test_version_1_original_is_still_proved_without_findings(path: Path) -> None:
    model = load_model(path)
    report = verify_model(model)
    assert model.version == 1
    assert {lim.kind for lim in report.limits} == {"limit"}
    assert all(lim.verdict is Verdict.PROVED for lim in report.limits)
    assert report.findings == ()


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_param_has_a_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("params:"))
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        if line.strip() and not line.strip().startswith("#"):
            assert "#" in line or "doc:" in line, f"{path.name}: param without a comment: {line}"
