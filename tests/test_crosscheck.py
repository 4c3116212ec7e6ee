"""Random testing as an independent cross-check of the prover.

For every model in ``models/``, runs drawn by Hypothesis (starting at the solver's
boundary examples or not) never break a limit the prover proved. For every refuted limit
of the known-bad models in ``tests/models/bad``, the solver's counterexample replays in
the interpreter, and Hypothesis finds a run that breaks the limit on its own, shown as
the same tick table ``seqprove verify`` prints.

The short version runs in ``make test``; the campaign (many more and longer runs) is
marked slow and runs in ``make crosscheck`` (and ``make test-slow``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test

from checker.interpret import Interpreter
from checker.lang.loader import load_model
from checker.model import Model
from checker.results import ModelReport, Verdict
from checker.testing import Run, model_state_machine, runs
from checker.verify import Options, verify_model
from tests.conftest import BAD_MODELS, ROOT

MODELS = sorted((ROOT / "models").glob("*.yaml"))
BAD = sorted(BAD_MODELS.glob("*.yaml"))


@cache
def _verified(path: Path) -> tuple[Model, ModelReport]:
    model = load_model(path, {})
    return model, verify_model(model, Options(timeout=60.0))


def _proved(path: Path) -> set[str]:
    _, report = _verified(path)
    return {lim.name for lim in report.limits if lim.verdict is Verdict.PROVED}


def _refuted() -> list[tuple[Path, str]]:
    """The refuted limits of the known-bad models, read from their golden outputs (so
    that collecting the tests runs no solver)."""
    found = []
    for path in BAD:
        golden = ROOT / "tests" / "golden" / f"{path.stem}.out"
        for line in golden.read_text().splitlines():
            cells = [c.strip() for c in line.split("│")]
            if len(cells) > 3 and cells[2] == "REFUTED":
                found.append((path, cells[1]))
    return found


def _never_breaks_proved(path: Path, examples: int, ticks: int, boundary_seconds: float) -> int:
    """Draw runs of the model at ``path``; fail if one breaks a proved limit. Returns the
    number of ticks run."""
    model, _ = _verified(path)
    proved = _proved(path)
    assert proved == {ob.name for ob in model.obligations()}, "every reference limit is proved"
    total = [0]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(run=runs(model, max_ticks=ticks, boundary_seconds=boundary_seconds))
    def check(run: Run) -> None:
        total[0] += run.length
        broken = run.broken()
        assert broken is None or not set(broken[1]) & proved, (
            "a proved limit broke under random testing:\n" + run.table()
        )

    check()
    return total[0]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_random_runs_never_break_a_proved_limit(path: Path) -> None:
    assert _never_breaks_proved(path, examples=40, ticks=40, boundary_seconds=1.0) > 0


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_state_machine_holds_on_reference_models(path: Path) -> None:
    model, _ = _verified(path)
    machine = model_state_machine(model, boundary_seconds=1.0)
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=15, stateful_step_count=30, deadline=None, database=None),
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_campaign_random_runs_never_break_a_proved_limit(path: Path) -> None:
    assert _never_breaks_proved(path, examples=600, ticks=200, boundary_seconds=20.0) > 0


@pytest.mark.slow
@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_campaign_state_machine_holds_on_reference_models(path: Path) -> None:
    model, _ = _verified(path)
    run_state_machine_as_test(
        model_state_machine(model, boundary_seconds=20.0),
        settings=settings(max_examples=150, stateful_step_count=100, deadline=None, database=None),
    )


REFUTED = _refuted()


@pytest.mark.parametrize("path, limit", REFUTED, ids=lambda x: x.stem if isinstance(x, Path) else x)
def test_solver_counterexample_replays(path: Path, limit: str) -> None:
    model, report = _verified(path)
    (result,) = [lim for lim in report.limits if lim.name == limit]
    assert result.counterexample is not None
    interpreter = Interpreter(model)
    config = interpreter.initial()
    for tick in result.counterexample.ticks[1:]:
        inputs = {v.name: _value(model, v.name, tick.inputs[v.name]) for v in model.inputs}
        assert interpreter.input_violations(config, inputs) == []
        config = interpreter.step(config, inputs).config
        assert config.step == tick.step
    assert limit in interpreter.broken_limits(config)


def _value(model: Model, name: str, shown: object) -> object:
    """A counterexample's JSON value back as the interpreter keeps it."""
    from fractions import Fraction

    var = model.variable(name)
    if var.type.kind == "enum":
        return var.type.values.index(str(shown))
    if var.type.kind == "real":
        return Fraction(str(shown))
    return shown


@pytest.mark.parametrize("path, limit", REFUTED, ids=lambda x: x.stem if isinstance(x, Path) else x)
def test_hypothesis_finds_refuted_limit(path: Path, limit: str) -> None:
    """Plain random runs (no boundary examples: the solver's help is not used) break the
    limit, and the failure is the tick table that ``verify`` prints."""
    model, report = _verified(path)
    (result,) = [lim for lim in report.limits if lim.name == limit]
    assert result.counterexample is not None

    @settings(max_examples=400, deadline=None, database=None, derandomize=True)
    @given(run=runs(model, max_ticks=30, boundary=False))
    def check(run: Run) -> None:
        broken = run.broken()
        assert broken is None or limit not in broken[1], run.table(limit)

    with pytest.raises(AssertionError) as failure:
        check()
    text = str(failure.value)
    assert f"counterexample: {limit} (" in text
    assert "│ tick │ step" in text or "┃ tick ┃ step" in text
    # Hypothesis shrinks to a run no shorter than the solver's shortest counterexample
    shrunk = int(text.split(" broken at tick ")[1].split(maxsplit=1)[0])
    assert shrunk >= result.counterexample.length
