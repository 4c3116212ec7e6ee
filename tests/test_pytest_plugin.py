"""The pytest plugin (``pytest --seqprove``): run in child pytest processes on copies of
model files, each in a folder of its own with a ``pytest.ini``, so that the rootdir, and
with it the result cache, is that folder."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from checker.lang.loader import load_model

# not imported from tests.conftest, so that `pytest tests/test_pytest_plugin.py` runs
# without the repository on sys.path
ROOT = Path(__file__).resolve().parent.parent
BAD_MODELS = ROOT / "tests" / "models" / "bad"
V1_MODELS = ROOT / "tests" / "models" / "v1"
GOOD = (ROOT / "tests" / "models" / "language_sample.yaml").read_text()
REFERENCE = sorted((ROOT / "models").glob("*.yaml"))
BAD = ("refuted_deep", "unreachable_step", "vacuous_assumptions", "dead_end")
BROKEN = "strategy: broken\nstate: {a: 1\n"  # a YAML syntax error at 3:1
TWO_PROBLEMS = GOOD.replace("abs(position) <= max_position", "abs(postion) <= max_position", 1)
TWO_PROBLEMS = TWO_PROBLEMS.replace("    to: halted", "    to: halt", 1)
NOT_MODELS = {
    "ci.yaml": "name: ci\njobs:\n  test: {runs-on: ubuntu}\n",
    "list.yml": "- strategy\n- 2\n",
    "empty.yaml": "",
}
OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS) (\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_pytest(cwd: Path, *args: str) -> Run:
    """``python -m pytest ARGS`` in ``cwd``, with the environment of a plain terminal
    (no color, 120 columns, no pytest options inherited from this run or a CI)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_")
        and k not in ("CI", "BUILD_NUMBER", "FORCE_COLOR", "PY_COLORS", "COVERAGE_PROCESS_START")
    }
    env.update(NO_COLOR="1", COLUMNS="120")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def workspace(root: Path, ini: str = "") -> Path:
    """A folder that pytest takes as its rootdir, with ``ini`` in its ``[pytest]``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text(f"[pytest]\n{ini}")
    return root


def outcomes(run: Run) -> dict[str, str]:
    """Node id -> PASSED/FAILED/..., from the short summary of ``-rA``."""
    return {node: word for word, node in OUTCOME.findall(run.out)}


def golden_table(name: str) -> list[str]:
    """The lines of the counterexample tick table in ``tests/golden/NAME.out``."""
    lines = (ROOT / "tests" / "golden" / f"{name}.out").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("counterexample:"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("└"))
    return lines[start : end + 1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's models in ``models/``; its cache is shared by the tests here."""
    root = workspace(tmp_path_factory.mktemp("reference"))
    (root / "models").mkdir()
    for path in REFERENCE:
        shutil.copy(path, root / "models")
    return root


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Models that fail in every way in ``bad/``, beside YAML files that are not models."""
    root = workspace(tmp_path_factory.mktemp("bad"))
    folder = root / "bad"
    folder.mkdir()
    for name in BAD:
        shutil.copy(BAD_MODELS / f"{name}.yaml", folder)
    (folder / "broken.yaml").write_text(BROKEN)
    (folder / "two_problems.yml").write_text(TWO_PROBLEMS)
    for name, text in NOT_MODELS.items():
        (folder / name).write_text(text)
    return root


@pytest.fixture(scope="module")
def bad_run(bad: Path) -> Run:
    """``pytest --seqprove bad -rA``, run once for the tests that read its output."""
    return run_pytest(bad, "--seqprove", "bad", "-rA")


def test_module_import_is_cheap() -> None:
    code = (
        "import sys, checker.pytest_plugin\n"
        "heavy = ('sympy', 'z3', 'rich', 'hypothesis', 'ruamel', 'networkx', 'click',\n"
        "         'checker.verify', 'checker.cache', 'checker.lang')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_reference_models_pass(reference: Path) -> None:
    limits = sum(len(load_model(path).obligations()) for path in REFERENCE)
    run = run_pytest(reference, "--seqprove", "models")
    assert run.code == 0, run.out + run.err
    assert f"collected {limits} items" in run.out
    assert re.search(rf"\b{limits} passed\b", run.out)
    assert re.search(
        r"^seqprove \S+ \(z3-solver \S+\): 100,000,000 units and 300 s per limit",
        run.out,
        re.MULTILINE,
    )


def test_not_enabled_collects_no_yaml(reference: Path) -> None:
    run = run_pytest(reference, "models")
    assert run.code == 5, run.out + run.err
    assert "no tests ran" in run.out
    assert not re.search(r"^seqprove ", run.out, re.MULTILINE)  # no header either


def test_ini_option_enables_it(tmp_path: Path) -> None:
    root = workspace(tmp_path, "seqprove = true\n")
    shutil.copy(BAD_MODELS / "refuted_deep.yaml", root)
    run = run_pytest(root)
    assert run.code == 1, run.out + run.err
    assert "refuted_deep.yaml F" in run.out
    assert "1 failed" in run.out


def test_refuted_limit_shows_the_tick_table(bad_run: Run) -> None:
    assert bad_run.code == 1
    assert outcomes(bad_run)["bad/refuted_deep.yaml::position_limit"] == "FAILED"
    assert (
        "bad/refuted_deep.yaml:32: limit position_limit (position <= max_position) REFUTED by "
        in bad_run.out
    )
    table = golden_table("refuted_deep")
    assert table[0] == "counterexample: position_limit (position <= max_position) broken at tick 8"
    assert "\n".join(table) in bad_run.out  # the same table as `seqprove verify`
    assert "Traceback" not in bad_run.out


def test_structural_error_is_a_failing_item(bad_run: Run) -> None:
    found = outcomes(bad_run)
    assert found["bad/unreachable_step.yaml::structure:unreachable-step:12"] == "FAILED"
    assert found["bad/unreachable_step.yaml::position_limit"] == "PASSED"
    assert (
        "bad/unreachable_step.yaml:12:23: error [unreachable-step] step 'flattening' is not "
        "reachable from the initial step 'idle'"
    ) in bad_run.out


def test_bad_input_is_one_failing_item(bad_run: Run) -> None:
    found = outcomes(bad_run)
    assert [n for n in found if n.startswith("bad/broken.yaml")] == ["bad/broken.yaml::load"]
    assert found["bad/broken.yaml::load"] == "FAILED"
    assert re.search(r"^bad/broken\.yaml:3:1: YAML syntax: ", bad_run.out, re.MULTILINE)
    assert [n for n in found if n.startswith("bad/two_problems")] == ["bad/two_problems.yml::load"]
    for problem in (
        "bad/two_problems.yml:42:9: unknown step 'halt' (did you mean 'halted'?)",
        "bad/two_problems.yml:74:25: unknown name 'postion' (did you mean 'position'?)",
    ):
        assert re.search(rf"^{re.escape(problem)}$", bad_run.out, re.MULTILINE)
    assert "Traceback" not in bad_run.out
    assert "pytest_plugin.py" not in bad_run.out


def test_unknown_fails_by_default(bad_run: Run) -> None:
    assert outcomes(bad_run)["bad/vacuous_assumptions.yaml::position_limit"] == "FAILED"
    assert (
        "bad/vacuous_assumptions.yaml:30: limit position_limit (position <= max_position) "
        "UNKNOWN: vacuous: no inputs satisfy"
    ) in bad_run.out


@pytest.mark.parametrize("how", ["option", "ini"])
def test_unknown_is_skipped_when_allowed(bad: Path, how: str, tmp_path: Path) -> None:
    if how == "option":
        root, args = bad, ["--seqprove-allow-unknown"]
    else:
        root, args = workspace(tmp_path, "seqprove_allow_unknown = true\n"), []
        (root / "bad").mkdir()
        shutil.copy(BAD_MODELS / "vacuous_assumptions.yaml", root / "bad")
    run = run_pytest(root, "--seqprove", "-rs", "bad/vacuous_assumptions.yaml", *args)
    assert run.code == 0, run.out + run.err
    assert "1 skipped" in run.out
    assert "SKIPPED [1] bad/vacuous_assumptions.yaml:30: UNKNOWN: vacuous: " in run.out
    assert "unknown limits skipped" in run.out  # the header says so


def test_sanity_warnings_are_summarised_not_items(bad_run: Run) -> None:
    assert not [n for n in outcomes(bad_run) if "dead-end" in n or "vacuous-assumptions" in n]
    summary = bad_run.out.split("= seqprove =")[1]
    assert "bad/dead_end.yaml:17:22: warning [dead-end] after 3 tick(s)" in summary
    assert "bad/vacuous_assumptions.yaml:15:16: warning [vacuous-assumptions]" in summary


def test_files_that_are_not_models_are_skipped_unless_named(bad: Path, bad_run: Run) -> None:
    found = outcomes(bad_run)
    assert not [n for n in found if any(n.startswith(f"bad/{name}") for name in NOT_MODELS)]
    assert len(found) == 7  # 4 limits of 4 models, 1 structure item, 2 files that do not load
    run = run_pytest(bad, "--seqprove", "-rA", "bad/ci.yaml")
    assert run.code == 1
    assert outcomes(run) == {"bad/ci.yaml::load": "FAILED"}
    assert "bad/ci.yaml:1:1: the file: missing required key" in run.out


def test_k_selects_one_limit(reference: Path) -> None:
    run = run_pytest(reference, "--seqprove", "models", "-k", "rate_limit", "-rA")
    assert run.code == 0, run.out + run.err
    assert outcomes(run) == {"models/order_rate_throttle.yaml::rate_limit": "PASSED"}
    assert re.search(r"\b1 passed, \d+ deselected\b", run.out)


def test_x_stops_at_the_first_failure(bad: Path) -> None:
    run = run_pytest(bad, "--seqprove", "bad", "-x", "-rA")
    assert run.code == 1
    assert "stopping after 1 failures" in run.out
    assert list(outcomes(run).values()).count("FAILED") == 1


def test_xdist_gives_the_serial_outcome(bad: Path, bad_run: Run) -> None:
    run = run_pytest(bad, "--seqprove", "bad", "-rA", "-n", "2")
    assert run.code == bad_run.code == 1
    assert outcomes(run) == outcomes(bad_run)
    assert "\n".join(golden_table("refuted_deep")) in run.out
    assert "warning [dead-end]" in run.out  # the workers' warnings reach the summary


def test_cache_under_the_rootdir(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    folder = root / "models"
    folder.mkdir()
    shutil.copy(BAD_MODELS / "refuted_deep.yaml", folder)
    cache = root / ".seqprove" / "cache"

    first = run_pytest(folder, "--seqprove", ".")  # started below the rootdir
    assert first.code == 1, first.out + first.err
    assert "refuted_deep.yaml:32: limit position_limit" in first.out  # relative to the cwd
    assert "1 model file(s) verified, 0 answered from the cache" in first.out
    assert list(cache.glob("*.json"))
    assert not (folder / ".seqprove").exists()

    again = run_pytest(root, "--seqprove", "models")
    assert again.code == 1
    assert "0 model file(s) verified, 1 answered from the cache" in again.out
    assert "\n".join(golden_table("refuted_deep")) in again.out

    shutil.rmtree(root / ".seqprove")
    fresh = run_pytest(root, "--seqprove", "models", "--seqprove-no-cache")
    assert fresh.code == 1
    assert "result cache off" in fresh.out
    assert "1 model file(s) verified, 0 answered from the cache" in fresh.out
    assert not cache.exists()


def test_params_override(bad: Path) -> None:
    model = "bad/refuted_deep.yaml"
    run = run_pytest(bad, "--seqprove", model, "--seqprove-param", "max_position=1")
    assert run.code == 1
    assert "(position <= max_position) REFUTED by " in run.out
    assert "broken at tick 4" in run.out  # two rounds, not four, to pass a position of 1
    run = run_pytest(bad, "--seqprove", model, "--seqprove-param", "clip=0")
    assert run.code == 0, run.out + run.err


def test_params_are_checked(bad: Path) -> None:
    model = "bad/refuted_deep.yaml"
    run = run_pytest(bad, "--seqprove", model, "-rA", "--seqprove-param", "max_postion=50")
    assert run.code == 1
    assert outcomes(run) == {f"{model}::position_limit": "FAILED"}
    assert (
        "--seqprove-param max_postion: no model file collected declares a param "
        "'max_postion' (did you mean 'max_position'?)"
    ) in run.out
    run = run_pytest(bad, "--seqprove", model, "--seqprove-param", "oops")
    assert run.code == 4
    assert "--seqprove-param oops: write NAME=VALUE" in run.err
    run = run_pytest(bad, "--seqprove", model, "-rA", "--seqprove-param", "max_position=many")
    assert run.code == 1
    assert outcomes(run) == {f"{model}::load": "FAILED"}
    assert re.search(r"^bad/refuted_deep\.yaml:\d+:\d+: .*max_position=many", run.out, re.M)


PLANTED_LOADER_BUG = """
import checker.lang.loader

_real = checker.lang.loader.load_model


def _load(path, params=None):
    if str(path).endswith("explodes.yaml"):
        raise RuntimeError("planted loader bug")
    return _real(path, params)


checker.lang.loader.load_model = _load
"""


def test_internal_error_while_loading_one_file_fails_that_file_only(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    (root / "conftest.py").write_text(PLANTED_LOADER_BUG)
    (root / "models").mkdir()
    shutil.copy(V1_MODELS / "perp_market_maker.yaml", root / "models" / "good.yaml")
    shutil.copy(V1_MODELS / "perp_market_maker.yaml", root / "models" / "explodes.yaml")
    run = run_pytest(root, "--seqprove", "models", "-rA")
    assert run.code == 1, run.out + run.err
    found = outcomes(run)
    assert found["models/explodes.yaml::load"] == "FAILED"
    good = {n: w for n, w in found.items() if n.startswith("models/good.yaml")}
    assert len(good) == 4
    assert set(good.values()) == {"PASSED"}
    assert (
        "models/explodes.yaml: INTERNAL ERROR (a bug in seqprove, please report it): "
        "loading: RuntimeError: planted loader bug"
    ) in run.out
    assert "Traceback" not in run.out


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_timeout_that_is_not_a_finite_number_is_a_usage_error(bad: Path, value: str) -> None:
    run = run_pytest(bad, "--seqprove", "bad/refuted_deep.yaml", "--seqprove-timeout", value)
    assert run.code == 4  # pytest's code for a usage error
    assert f"--seqprove-timeout {value}: give a finite number of at least" in run.err
