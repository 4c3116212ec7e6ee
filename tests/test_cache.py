"""The report cache: reports read back from JSON exactly, keys that change with
everything that changes a result, misses for anything odd on disk, and no caching of
internal errors or of what ran out of time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
import z3

import checker
import checker.verify
from checker.cache import (
    CACHE_FORMAT,
    RESULT_OPTIONS,
    Cache,
    cache_key,
    cacheable,
    uncacheable_reason,
)
from checker.errors import InternalError
from checker.lang.loader import load_model
from checker.model import Model
from checker.results import Finding, ModelReport, Report, Severity, Verdict
from checker.run.seal import seal
from checker.verify import Options, verify_file, verify_file_model
from tests.conftest import BAD_MODELS, ROOT, V1_MODELS, run_cli

OPTIONS = Options(timeout=10.0)
SAMPLE = BAD_MODELS / "refuted_initial.yaml"  # one limit refuted at tick 0: fast


# --- reading reports back from JSON -------------------------------------------------


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelReport]:
    """Real reports of every kind: the reference models, the bad models, a file with
    bad input, an internal error and limits that ran out of time."""
    found = {
        str(path.relative_to(ROOT)): verify_file(path, options=OPTIONS)
        for path in [*sorted((ROOT / "models").glob("*.yaml")), *sorted(BAD_MODELS.glob("*.yaml"))]
    }
    broken = tmp_path_factory.mktemp("broken") / "broken.yaml"
    broken.write_text((ROOT / "tests" / "models" / "language_sample.yaml").read_text()[:-40])
    found["bad input"] = verify_file(broken, options=OPTIONS)

    def crash(*args: Any, **kwargs: Any) -> ModelReport:
        raise InternalError("replay of 'x': the interpreter does not break the limit")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checker.verify, "verify_model", crash)
        found["internal error"] = verify_file_model(load_model(SAMPLE), OPTIONS)
    # a budget of 0 s has expired before any engine starts: every limit runs out of time
    found["time-out"] = verify_file(
        V1_MODELS / "perp_market_maker.yaml", options=Options(timeout=0.0)
    )
    return found


def test_the_reports_cover_every_part_of_a_report(reports: dict[str, ModelReport]) -> None:
    limits = [lim for r in reports.values() for lim in r.limits]
    assert any(lim.counterexample is not None for lim in limits)
    assert any(lim.counterexample and lim.counterexample.length > 0 for lim in limits)
    assert any(lim.invariant for lim in limits)
    assert {lim.verdict for lim in limits} == set(Verdict)
    assert any(lim.reason for lim in limits)
    assert any(r.findings for r in reports.values())
    assert reports["bad input"].errors
    assert reports["internal error"].internal_error
    assert any(r.params for r in reports.values())


def test_a_report_read_back_from_json_gives_the_same_json(
    reports: dict[str, ModelReport],
) -> None:
    for name, report in reports.items():
        data = report.to_json()
        assert ModelReport.from_json(data).to_json() == data, name
        through_text = json.loads(json.dumps(data))
        again = ModelReport.from_json(through_text)
        assert again.to_json() == data, name
        assert again.exit_code == report.exit_code, name
        assert [lim.verdict for lim in again.limits] == [lim.verdict for lim in report.limits]
        assert [f.severity for f in again.findings] == [f.severity for f in report.findings]


def test_a_whole_report_reads_back(reports: dict[str, ModelReport]) -> None:
    report = Report(tuple(reports.values()))
    data = json.loads(json.dumps(report.to_json()))
    again = Report.from_json(data)
    assert again.to_json() == report.to_json()
    assert again.exit_code == report.exit_code == 4


def test_errors_read_back_name_the_file_of_the_report(reports: dict[str, ModelReport]) -> None:
    report = reports["bad input"]
    again = ModelReport.from_json(report.to_json())
    assert again.errors == report.errors
    assert all(e.file == report.file for e in again.errors)


def _refuted(reports: dict[str, ModelReport]) -> dict[str, Any]:
    return reports["tests/models/bad/refuted_deep.yaml"].to_json()


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d.pop("limits"),
        lambda d: d.update(file=7),
        lambda d: d.update(seconds="fast"),
        lambda d: d.update(params={"clip": True}),
        lambda d: d.update(limits="none"),
        lambda d: d["limits"][0].update(verdict="maybe"),
        lambda d: d["limits"][0].update(line=True),
        lambda d: d["limits"][0].update(invariant={"idle": 3}),
        lambda d: d["limits"][0]["counterexample"].update(length=99),
        lambda d: d["limits"][0]["counterexample"]["ticks"].append([]),
        lambda d: d["limits"][0]["counterexample"]["ticks"][0].pop("state"),
        lambda d: d["errors"].append({"line": 1, "column": 1}),
        lambda d: d["findings"].append({"rule": "r", "severity": "fatal", "message": "m"}),
    ],
)
def test_malformed_json_is_a_value_error(reports: dict[str, ModelReport], spoil: Any) -> None:
    data = _refuted(reports)
    spoil(data)
    with pytest.raises(ValueError):
        ModelReport.from_json(data)


@pytest.mark.parametrize("data", [None, [], "report", 3])
def test_json_that_is_not_an_object_is_a_value_error(data: Any) -> None:
    with pytest.raises(ValueError):
        ModelReport.from_json(data)


# --- the cache ----------------------------------------------------------------------


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of the sample model that a test may edit."""
    path = tmp_path / "models" / "sample.yaml"
    path.parent.mkdir()
    shutil.copy(SAMPLE, path)
    return path


@pytest.fixture(scope="module")
def sample_report() -> ModelReport:
    return verify_file(SAMPLE, options=OPTIONS)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def _stored(cache: Cache, model: Model, report: ModelReport) -> ModelReport:
    cache.put(model, OPTIONS, report)
    hit = cache.get(model, OPTIONS)
    assert hit is not None
    return hit


def test_miss_then_hit(cache: Cache, sample: Path, sample_report: ModelReport) -> None:
    model = load_model(sample)
    assert cache.get(model, OPTIONS) is None
    cache.put(model, OPTIONS, sample_report)
    hit = cache.get(model, OPTIONS)
    assert hit is not None
    assert hit.file == str(sample)
    assert hit.to_json() == {**sample_report.to_json(), "file": str(sample)}
    assert hit.limits[0].verdict is Verdict.REFUTED
    assert hit.limits[0].counterexample == sample_report.limits[0].counterexample
    assert hit.exit_code == 1
    stored = json.loads(cache.path(model, OPTIONS).read_text())
    assert stored["format"] == CACHE_FORMAT
    assert stored["key"] == cache_key(model, OPTIONS)
    assert stored["file"] == str(sample)
    assert stored["created"]
    assert stored["report"] == sample_report.to_json()


def test_the_same_content_at_another_path_is_a_hit_naming_that_path(
    cache: Cache, sample: Path, sample_report: ModelReport, tmp_path: Path
) -> None:
    cache.put(load_model(sample), OPTIONS, sample_report)
    elsewhere = tmp_path / "elsewhere.yaml"
    shutil.copy(sample, elsewhere)
    hit = cache.get(load_model(elsewhere), OPTIONS)
    assert hit is not None
    assert hit.file == str(elsewhere)
    assert hit.to_json()["limits"] == sample_report.to_json()["limits"]


def test_errors_of_a_hit_name_the_current_path(cache: Cache, sample: Path) -> None:
    model = load_model(sample)
    report = ModelReport.from_json(
        {
            **verify_file(sample, options=OPTIONS).to_json(),
            "file": "old/place.yaml",
            "errors": [{"line": 3, "column": 1, "message": "something"}],
        }
    )
    hit = _stored(cache, model, report)
    assert [e.file for e in hit.errors] == [str(sample)]


def test_edited_file_is_a_miss(cache: Cache, sample: Path, sample_report: ModelReport) -> None:
    cache.put(load_model(sample), OPTIONS, sample_report)
    sample.write_text(sample.read_text() + "# edited\n")
    assert cache.get(load_model(sample), OPTIONS) is None


def test_changed_param_is_a_miss(cache: Cache, sample: Path, sample_report: ModelReport) -> None:
    cache.put(load_model(sample), OPTIONS, sample_report)
    assert cache.get(load_model(sample, {"clip": "2"}), OPTIONS) is None
    # the same effective value given on the command line is the same key
    assert cache.get(load_model(sample, {"clip": "1"}), OPTIONS) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "bmc"},
        {"timeout": 11.0},
        {"bmc_depth": 5},
        {"max_k": 3},
        {"sanity": False},
    ],
)
def test_changed_option_is_a_miss(
    cache: Cache, sample: Path, sample_report: ModelReport, change: dict[str, Any]
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    assert cache.get(model, OPTIONS.overlay(**change)) is None
    assert cache.get(model, OPTIONS) is not None


def test_the_key_covers_every_option() -> None:
    # an option added to Options must be added to the key (or shown not to change results)
    assert set(RESULT_OPTIONS) == {f.name for f in fields(Options)}


def test_timeout_given_as_int_or_float_is_one_key(sample: Path) -> None:
    model = load_model(sample)
    assert cache_key(model, Options(timeout=10)) == cache_key(model, Options(timeout=10.0))


def test_another_seqprove_version_is_a_miss(
    cache: Cache, sample: Path, sample_report: ModelReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    monkeypatch.setattr(checker, "__version__", "99.0.0")
    assert cache.get(model, OPTIONS) is None


def test_another_z3_version_is_a_miss(
    cache: Cache, sample: Path, sample_report: ModelReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    monkeypatch.setattr(z3, "get_version_string", lambda: "0.0.1")
    assert cache.get(model, OPTIONS) is None


def _entry(model: Model, base: ModelReport, **changes: Any) -> str:
    """The text of a cache entry of ``base`` for ``model``, with ``changes``."""
    data = {
        "format": CACHE_FORMAT,
        "key": cache_key(model, OPTIONS),
        "file": model.file,
        "created": "2025-01-01T00:00:00+00:00",
        "report": base.to_json(),
        **changes,
    }
    return json.dumps(seal(data))


@pytest.mark.parametrize(
    "garble",
    [
        "empty",
        "truncated",
        "garbage",
        "binary",
        "list",
        "other format",
        "other key",
        "no report",
        "broken report",
        "other strategy",
        "other limits",
        "timed out report",
        "directory",
    ],
)
def test_a_corrupt_or_foreign_file_is_a_miss(
    cache: Cache, sample: Path, sample_report: ModelReport, garble: str
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    path = cache.path(model, OPTIONS)
    good = path.read_text()
    report = sample_report.to_json()
    other_limits = {**report, "limits": [{**report["limits"][0], "name": "other"}]}
    timed_out = {
        **report,
        "limits": [
            {**report["limits"][0], "verdict": "unknown", "reason": "time limit (1 s) reached"}
        ],
    }
    texts = {
        "empty": "",
        "truncated": good[: len(good) // 2],
        "garbage": "not json at all {",
        "list": "[1, 2, 3]",
        "other format": _entry(model, sample_report, format="seqprove-proof-record/1"),
        "other key": _entry(model, sample_report, key="0" * 64),
        "no report": _entry(model, sample_report, report=None),
        "broken report": _entry(model, sample_report, report={"file": "x"}),
        "other strategy": _entry(model, sample_report, report={**report, "strategy": "other"}),
        "other limits": _entry(model, sample_report, report=other_limits),
        "timed out report": _entry(model, sample_report, report=timed_out),
    }
    if garble == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    elif garble == "directory":
        path.unlink()
        path.mkdir()
    else:
        path.write_text(texts[garble])
    assert cache.get(model, OPTIONS) is None


def test_a_sealed_entry_of_the_right_shape_is_a_hit(
    cache: Cache, sample: Path, sample_report: ModelReport
) -> None:
    # the check above is not too strict: the same entry, unspoiled, is read
    model = load_model(sample)
    cache.directory.mkdir()
    cache.path(model, OPTIONS).write_text(_entry(model, sample_report))
    hit = cache.get(model, OPTIONS)
    assert hit is not None
    assert hit.to_json() == {**sample_report.to_json(), "file": str(sample)}


def test_a_hand_written_cache_entry_does_not_get_a_sealed_proof_record(
    tmp_path: Path, sample: Path, sample_report: ModelReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: `verify` writes a proof record for a proof it reads from the cache, so
    a hand-written cache entry saying "proved" for a refuted model got a sealed record,
    and `run` admitted the model. Entries are sealed too; an unsealed one is a miss."""
    cache_dir = tmp_path / "cache"
    monkeypatch.setattr("checker.cli.DEFAULT_CACHE", cache_dir)
    model = load_model(sample)
    assert sample_report.limits[0].verdict is Verdict.REFUTED
    lie = sample_report.to_json()
    lie["limits"] = [{**lim, "verdict": "proved", "counterexample": None} for lim in lie["limits"]]
    data = json.loads(_entry(model, sample_report, report=lie))
    del data["mac"]
    Cache(cache_dir).directory.mkdir()
    Cache(cache_dir).path(model, OPTIONS).write_text(json.dumps(data))
    assert Cache(cache_dir).get(model, OPTIONS) is None
    proofs = tmp_path / "proofs"
    run = run_cli("verify", "--json", "--timeout", "10", "--proofs", str(proofs), str(sample))
    assert run.code == 1 and not json.loads(run.out)["models"][0]["cached"]
    assert not proofs.exists() or not list(proofs.iterdir())


def test_no_cache_folder_is_a_miss(tmp_path: Path, sample: Path) -> None:
    assert Cache(tmp_path / "nowhere").get(load_model(sample), OPTIONS) is None
    assert not (tmp_path / "nowhere").exists()


def test_internal_errors_are_not_stored(
    cache: Cache, sample: Path, reports: dict[str, ModelReport]
) -> None:
    model = load_model(sample)
    report = reports["internal error"]
    assert uncacheable_reason(report, OPTIONS) == "it has an internal error"
    cache.put(model, OPTIONS, report)
    assert not cache.path(model, OPTIONS).exists()
    assert cache.get(model, OPTIONS) is None


def test_unknowns_for_lack_of_time_are_not_stored(
    cache: Cache, reports: dict[str, ModelReport]
) -> None:
    model = load_model(V1_MODELS / "perp_market_maker.yaml")
    options = Options(timeout=0.0)
    report = reports["time-out"]
    assert all(
        lim.reason.startswith("time limit (0 s wall clock) reached") for lim in report.limits
    )
    assert len(report.limits) == 4
    assert all(lim.verdict is Verdict.UNKNOWN for lim in report.limits)
    reason = uncacheable_reason(report, options)
    assert reason is not None and "lack of time" in reason
    cache.put(model, options, report)
    assert not cache.path(model, options).exists()
    assert cache.get(model, options) is None


@pytest.mark.parametrize(
    "reason",
    [
        "time limit (30 s) reached",
        "spacer: time limit (18 s) reached; k-induction: not k-inductive for k up to 30",
        "Spacer showed the limit can be broken, but BMC found no run that breaks it within "
        "the time limit (time limit (30 s) reached)",
        "solver returned unknown (canceled)",
        "solver returned unknown (max. resource limit exceeded)",
        "invariant from Spacer not confirmed: consecution is unknown",
        "not k-inductive for k up to 1",  # the portfolio stopped after 1-induction
        "not k-inductive for k up to 29 (the model is nonlinear)",
    ],
)
def test_reasons_that_mean_a_time_out(sample_report: ModelReport, reason: str) -> None:
    limit = replace(sample_report.limits[0], verdict=Verdict.UNKNOWN, reason=reason)
    report = replace(sample_report, limits=(limit,))
    assert not cacheable(report, OPTIONS.overlay(max_k=30))


@pytest.mark.parametrize(
    "reason",
    [
        "bounded: no counterexample up to depth 30, which proves nothing about longer runs",
        "not k-inductive for k up to 30",
        "not k-inductive for k up to 30 (the model is nonlinear)",
        "solver returned unknown (incomplete quantifiers) (the model is nonlinear)",
        "spacer: solver returned unknown (smt tactic failed); k-induction: not k-inductive "
        "for k up to 30",
    ],
)
def test_unknowns_a_retry_repeats_are_cacheable(sample_report: ModelReport, reason: str) -> None:
    limit = replace(sample_report.limits[0], verdict=Verdict.UNKNOWN, reason=reason)
    assert cacheable(replace(sample_report, limits=(limit,)), OPTIONS.overlay(max_k=30))


def test_a_vacuous_unknown_is_stored(cache: Cache, reports: dict[str, ModelReport]) -> None:
    path = BAD_MODELS / "vacuous_assumptions.yaml"
    report = reports["tests/models/bad/vacuous_assumptions.yaml"]
    assert [lim.verdict for lim in report.limits] == [Verdict.UNKNOWN]
    model = load_model(path)
    hit = _stored(cache, model, report)
    assert hit.to_json() == report.to_json()


def test_proofs_are_stored(cache: Cache, reports: dict[str, ModelReport]) -> None:
    path = ROOT / "models" / "margin_ratio_guard.yaml"
    report = reports["models/margin_ratio_guard.yaml"]
    assert all(lim.verdict is Verdict.PROVED for lim in report.limits)
    hit = _stored(cache, load_model(path), report)
    assert hit.to_json() == report.to_json()
    assert all(lim.invariant for lim in hit.limits)


def test_a_sanity_check_out_of_time_is_not_stored(
    cache: Cache, sample: Path, sample_report: ModelReport
) -> None:
    model = load_model(sample)
    late = Finding(
        "dead-transition-unchecked",
        Severity.WARNING,
        "the dead-transition check ran out of time: 2 transition(s) were neither reached "
        "by a run nor examined for a proof",
        17,
    )
    report = replace(sample_report, findings=(late,))
    cache.put(model, OPTIONS, report)
    assert cache.get(model, OPTIONS) is None
    assert not cache.directory.exists() or not any(cache.directory.iterdir())


def test_writes_leave_no_temporary_files(
    cache: Cache, sample: Path, sample_report: ModelReport, reports: dict[str, ModelReport]
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    cache.put(model, OPTIONS, sample_report)  # overwrite in place
    cache.put(model, OPTIONS.overlay(max_k=4), sample_report)
    names = sorted(p.name for p in cache.directory.iterdir())
    assert names == sorted(
        f"{cache_key(model, o)}.json" for o in (OPTIONS, OPTIONS.overlay(max_k=4))
    )


def test_a_failed_write_keeps_the_old_entry_and_leaves_no_temporary_file(
    cache: Cache, sample: Path, sample_report: ModelReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_model(sample)
    cache.put(model, OPTIONS, sample_report)
    before = cache.path(model, OPTIONS).read_text()

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", full_disk)
    newer = replace(sample_report, seconds=123.0)
    with pytest.raises(OSError):
        cache.put(model, OPTIONS, newer)
    monkeypatch.undo()
    assert [p.name for p in cache.directory.iterdir()] == [cache.path(model, OPTIONS).name]
    assert cache.path(model, OPTIONS).read_text() == before
    hit = cache.get(model, OPTIONS)
    assert hit is not None and hit.seconds == round(sample_report.seconds, 3)


def test_prune_keeps_the_newest_entries_and_nothing_else(
    cache: Cache, sample: Path, sample_report: ModelReport
) -> None:
    model = load_model(sample)
    options = [OPTIONS.overlay(max_k=k) for k in range(1, 5)]
    for age, o in enumerate(options):
        cache.put(model, o, sample_report)
        stamp = 1_700_000_000 + age
        os.utime(cache.path(model, o), (stamp, stamp))
    (cache.directory / "notes.txt").write_text("mine")
    assert cache.prune(2) == 2
    assert [cache.get(model, o) is not None for o in options] == [False, False, True, True]
    assert (cache.directory / "notes.txt").exists()
    assert cache.prune(5) == 0
    assert cache.prune(0) == 2
    assert cache.entries() == []
    with pytest.raises(ValueError):
        cache.prune(-1)


# -- the command line -----------------------------------------------------------------------


def test_second_verify_is_answered_by_the_cache(tmp_path: Path) -> None:
    model = tmp_path / "perp.yaml"
    model.write_text((V1_MODELS / "perp_market_maker.yaml").read_text())
    proofs = tmp_path / "proofs"
    first = run_cli("verify", "--json", "--proofs", str(proofs), str(model))
    second = run_cli("verify", "--json", "--proofs", str(proofs), str(model))
    assert first.code == second.code == 0
    a, b = json.loads(first.out)["models"][0], json.loads(second.out)["models"][0]
    assert (a["cached"], b["cached"]) == (False, True)
    assert [lim["verdict"] for lim in a["limits"]] == [lim["verdict"] for lim in b["limits"]]
    assert "cached" in run_cli("verify", "--proofs", str(proofs), str(model)).out
    assert not json.loads(
        run_cli("verify", "--json", "--no-cache", "--proofs", str(proofs), str(model)).out
    )["models"][0]["cached"]
    model.write_text(model.read_text() + "# edited\n")
    assert not json.loads(run_cli("verify", "--json", "--proofs", str(proofs), str(model)).out)[
        "models"
    ][0]["cached"]


def test_a_cached_proof_needs_its_proof_record(tmp_path: Path) -> None:
    """`seqprove run` needs the record: a cache hit whose record was deleted verifies
    the slow way, which writes it again."""
    model = tmp_path / "perp.yaml"
    model.write_text((V1_MODELS / "perp_market_maker.yaml").read_text())
    proofs = tmp_path / "proofs"
    assert run_cli("verify", "--proofs", str(proofs), str(model)).code == 0
    (record,) = proofs.iterdir()
    record.unlink()
    again = run_cli("verify", "--json", "--proofs", str(proofs), str(model))
    assert again.code == 0 and record.is_file()


def test_a_cached_verify_imports_neither_sympy_nor_z3(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text((V1_MODELS / "order_rate_throttle.yaml").read_text())
    script = (
        "import sys\n"
        "from checker.cli import main\n"
        "try:\n"
        f"    main(['verify', {str(model)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('HEAVY', sorted(m for m in ('sympy', 'z3', 'numpy') if m in sys.modules))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert "HEAVY ['sympy', 'z3']" in runs[0] or "'sympy'" in runs[0]
    assert "HEAVY []" in runs[1] and "cached" in runs[1]


def test_an_edit_while_verifying_is_not_indexed_to_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: the quick index re-read the file after verifying it, so an edit made
    while a run was verifying was indexed to the report of the bytes before the edit,
    and the next `verify` answered `cached: true`, all proved, for a file that
    `--no-cache` refutes. The index is now keyed on the digest of the bytes parsed."""
    model = tmp_path / "perp.yaml"
    model.write_text((V1_MODELS / "perp_market_maker.yaml").read_text())
    proofs = tmp_path / "proofs"
    original = checker.verify.verify_file_model

    def edit_then_verify(item: Model, *args: Any, **kwargs: Any) -> ModelReport:
        # the file is loaded; someone saves a broken version while it is being verified
        model.write_text(
            model.read_text().replace(
                "position: {type: int, init: 0}", "position: {type: int, init: 150}"
            )
        )
        return original(item, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(checker.verify, "verify_file_model", edit_then_verify)
        during = run_cli("verify", "--json", "--proofs", str(proofs), str(model))
    assert during.code == 0  # the report is about the bytes loaded, which were proved
    after = run_cli("verify", "--json", "--proofs", str(proofs), str(model))
    fresh = run_cli("verify", "--json", "--no-cache", "--proofs", str(proofs), str(model))
    assert fresh.code == 1
    report = json.loads(after.out)["models"][0]
    assert after.code == 1 and not report["cached"]
    assert "REFUTED" in {lim["verdict"].upper() for lim in report["limits"]}
