"""``bench/direct.py``, the direct CHC encoding that ``bench/external.py`` sets beside
``seqprove verify``, decides what seqprove decides: the same verdict for every limit
and check of a few models of ``models/``, and the known verdict of a few problems of the
external suite (``../shared/bench/external``; skipped without it)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import pytest

from checker.options import Options
from checker.verify import verify_file
from tests.conftest import ROOT

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "external"

MODELS = ["perp_market_maker", "perp_grid_bot", "order_rate_throttle", "margin_ratio_guard"]
EXTERNAL = [
    "chc-comp24-LIA-Lin/LIA-Lin_chc-comp24-LIA-Lin-082",  # refuted
    "chc-comp24-LIA-Lin/LIA-Lin_chc-comp24-LIA-Lin-057",  # proved
    "extra-small-lia/s_mutants_22",  # proved
]
SECONDS = 30.0


@lru_cache
def direct() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_direct", ROOT / "bench" / "direct.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def both(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Every obligation's verdict: seqprove's, then direct's."""
    report = verify_file(path, options=Options(timeout=SECONDS))
    assert not report.errors and report.internal_error is None
    found = direct().run(path, SECONDS, each=True)
    assert not found.error
    return (
        {lim.name: lim.verdict.value for lim in report.limits},
        {q.name: q.verdict for q in found.queries},
    )


@pytest.mark.parametrize("name", MODELS)
def test_direct_agrees_with_seqprove_on_models(name: str) -> None:
    ours, theirs = both(ROOT / "models" / f"{name}.yaml")
    assert ours == theirs
    assert set(ours.values()) == {"proved"}


def expected(name: str) -> tuple[Path, str]:
    group, problem = name.split("/")
    info = json.loads((SUITE / group / "expected.json").read_text())["problems"][problem]
    return SUITE / group / info["model"], info["expect"]


@pytest.mark.skipif(not SUITE.is_dir(), reason=f"no external suite at {SUITE}")
@pytest.mark.parametrize("name", EXTERNAL)
def test_direct_and_seqprove_give_the_known_verdict(name: str) -> None:
    path, expect = expected(name)
    ours, theirs = both(path)
    assert ours == theirs == {"prop": expect}


def test_direct_command_line() -> None:
    """The script as ``bench/external.py`` runs it: one JSON object, the exit code of
    the verdict, its CPU seconds split."""
    model = ROOT / "tests" / "models" / "bad" / "refuted_initial.yaml"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "direct.py"),
            "--json",
            "--timeout",
            "30",
            str(model),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    assert result["verdict"] == "refuted"
    assert "refuted" in {q["verdict"] for q in result["queries"]}
    assert result["import_seconds"] > 0 and result["solve_seconds"] > 0
