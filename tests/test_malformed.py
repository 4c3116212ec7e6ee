"""The malformed-input campaign (see tests/malformed.py): a short run with the tests, a
long one behind ``slow`` (``make malformed``), and a batch of bad files beside a good
one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import V1_MODELS, run_cli
from tests.malformed import MUTATIONS, campaign, cases


def test_cases_are_reproducible_from_their_seed() -> None:
    first = cases(len(MUTATIONS), seed=7)
    assert first == cases(len(MUTATIONS), seed=7)
    assert first != cases(len(MUTATIONS), seed=8)
    assert [c.mutation for c in first] == list(MUTATIONS)
    assert cases(3, seed=7, start=5) == first[5:8]


def test_short_campaign_finds_no_traceback_hang_or_internal_error(tmp_path: Path) -> None:
    figures = campaign(len(MUTATIONS) * 2, seed=1, folder=tmp_path)
    print(figures.summary())
    assert not figures.defects, figures.summary()
    counts = figures.counts
    assert counts["located"] > len(MUTATIONS)
    assert counts["valid"] > 0


def test_batch_of_bad_files_still_reports_the_good_one(tmp_path: Path) -> None:
    for case in cases(len(MUTATIONS), seed=3):
        (tmp_path / case.name).write_bytes(case.data)
    shutil.copy(V1_MODELS / "perp_market_maker.yaml", tmp_path / "good.yaml")
    run = run_cli(
        "verify", "--json", "--timeout", "5", "--proofs", str(tmp_path / "p"), str(tmp_path)
    )
    doc = json.loads(run.out)
    assert run.code == doc["exit_code"] == 3, run.err
    by_file = {Path(m["file"]).name: m for m in doc["models"]}
    assert len(by_file) == len(MUTATIONS) + 1
    assert [lim["verdict"] for lim in by_file["good.yaml"]["limits"]] == ["proved"] * 4
    assert not any(m["internal_error"] for m in doc["models"])
    refused = [m for m in doc["models"] if m["errors"]]
    assert len(refused) > len(MUTATIONS) // 2
    assert all(e["line"] >= 1 and e["column"] >= 1 for m in refused for e in m["errors"])


@pytest.mark.slow
def test_long_campaign_of_1000_files(tmp_path: Path) -> None:
    figures = campaign(1000, seed=1, folder=tmp_path, jobs=os.cpu_count() or 1)
    print(figures.summary())
    assert not figures.defects, figures.summary()
