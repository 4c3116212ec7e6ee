"""The adversarial campaign: random small models against a bounded exhaustive oracle.

Hypothesis draws valid model files (:mod:`tests.adversarial.models`: dead ends,
priorities, stutter, limits broken at tick 0, deep or never, equivalent spellings);
every limit's verdict from each engine is compared with breadth-first exploration of
every run up to a depth, computed twice (by ``checker.interpret`` and by an ``ast``
oracle that shares no code with the checker), and with the same limit verified alone
and in a shuffled file (:mod:`tests.adversarial.campaign` says exactly what is checked).

The short run is part of ``make test``: deterministic (``derandomize``), a few models per
engine, not shrunk (a failure prints the whole model; set ``ADVERSARIAL_SHRINK=1`` to
shrink it). The long run is ``make adversarial`` (and part of ``make test-slow``): 250
models per engine (``ADVERSARIAL_EXAMPLES=N`` for more), shrunk, from a random seed it
prints (``ADVERSARIAL_SEED=N`` replays one).

Language version 2 has a campaign of its own, shaped the same way: generated models with
instruments (:mod:`tests.adversarial.models_v2`), every obligation (limits, order checks,
``positive_qty:LINE``, ``final-step-orders``) against an exploration that enumerates the
fills the book allows, computed by the interpreter and by the ``ast`` oracle, which reads
the book from ``LANGUAGE-2.md`` alone (:func:`tests.adversarial.campaign.check_v2`). Its
long run takes ``ADVERSARIAL_V2_EXAMPLES`` models per engine (200 by default). The
regression models of ``tests/models/regress`` that declare instruments are checked
strictly for every obligation, and every regression model is verified once with the
sanity checks on.
"""

from __future__ import annotations

import importlib
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from checker.analysis import structural_findings
from checker.lang.loader import load_text
from checker.results import Verdict
from checker.verify import Options, verify_file_model
from tests.adversarial import campaign
from tests.adversarial.ast_oracle import AstSemantics
from tests.adversarial.models import GenModel, gen_models
from tests.adversarial.models_v2 import GenModelV2, gen_stuck_models, gen_v2_models
from tests.conftest import ROOT

SHORT_DEPTH = 6
LONG_DEPTH = 8
SHORT_EXAMPLES = 12  # per engine
LONG_EXAMPLES = int(os.environ.get("ADVERSARIAL_EXAMPLES", "250"))  # per engine
SHRINK = os.environ.get("ADVERSARIAL_SHRINK") == "1"
PHASES = tuple(p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain))


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(gm=gen_models())
def test_generated_models_are_valid_and_finite(gm: GenModel) -> None:
    """No generated file is skipped: every one loads, keeps the structural rules, and
    has finite input domains the ``ast`` oracle can enumerate."""
    model = load_text(gm.text(), "generated.yaml")
    assert structural_findings(model) == [], gm.text()
    sem = AstSemantics(gm.text())
    assert 1 <= len(sem.vectors()) <= 64
    assert 2 <= len(gm.limits) <= 4


@pytest.mark.parametrize("engine", campaign.ENGINES)
@settings(
    max_examples=SHORT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_models(), shuffle=st.integers(0, 2**16))
def test_verifier_agrees_with_exhaustive_oracle(engine: str, gm: GenModel, shuffle: int) -> None:
    campaign.check(gm, engine, SHORT_DEPTH, shuffle)


def long_campaign(
    label: str,
    engine: str,
    models: st.SearchStrategy[Any],
    check: Callable[[Any, str, int, int], None],
    depth: int,
    examples: int,
) -> None:
    """A long campaign of one engine: ``examples`` generated models from a seed printed
    first (``ADVERSARIAL_SEED`` replays it), each checked to ``depth``; what it found
    and how long it took printed at the end, whatever happened."""
    chosen = int(os.environ.get("ADVERSARIAL_SEED", random.randrange(2**32)))
    print(f"{label}, engine {engine}: ADVERSARIAL_SEED={chosen}")

    @hypothesis_seed(chosen)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(gm=models, shuffle=st.integers(0, 2**16))
    def run(gm: Any, shuffle: int) -> None:
        check(gm, engine, depth, shuffle)

    campaign.STATS.clear()
    started = time.monotonic()
    try:
        run()
    finally:
        seconds = time.monotonic() - started
        print(f"engine {engine}, seed {chosen}, {seconds:.0f} s: {campaign.summary()}")


@pytest.mark.slow
@pytest.mark.parametrize("engine", campaign.ENGINES)
def test_campaign_verifier_agrees_with_exhaustive_oracle(engine: str) -> None:
    long_campaign(
        "adversarial campaign", engine, gen_models(), campaign.check, LONG_DEPTH, LONG_EXAMPLES
    )


# -- language version 2 -----------------------------------------------------------------------

REGRESS = ROOT / "tests" / "models" / "regress"
EXPECT_V2 = re.compile(
    r"^# expect(?:-check)?: ([\w:.-]+) (PROVED|REFUTED)(?: (\d+))? \(([\w ]+)\)$"
)


def v2_regressions() -> list[Path]:
    """The regression models of language version 2 (with instruments)."""
    return [p for p in sorted(REGRESS.glob("*.yaml")) if "\ninstruments:" in p.read_text()]


def v2_expectations(path: Path) -> list[tuple[str, Verdict, int | None, list[str]]]:
    """Every ``# expect:`` (a limit, as ``tests/test_regress_verdicts.py`` reads it) and
    ``# expect-check:`` (an order check or a built-in check) line of a model."""
    found = []
    for line in path.read_text().splitlines():
        match = EXPECT_V2.match(line)
        if match:
            name, verdict, length, engines = match.groups()
            found.append((name, Verdict[verdict], int(length) if length else None, engines.split()))
    return found


V2_CASES = [
    (path, engine)
    for path in v2_regressions()
    for engine in sorted({e for _, _, _, engines in v2_expectations(path) for e in engines})
]


def test_every_v2_regression_model_states_every_obligation() -> None:
    for path in v2_regressions():
        model = load_text(path.read_text(), path.name)
        stated = {name for name, _, _, _ in v2_expectations(path)}
        assert stated == {ob.name for ob in model.obligations()}, path.name


@pytest.mark.parametrize(
    "path, engine", V2_CASES, ids=lambda x: x.stem if isinstance(x, Path) else x
)
def test_v2_regression_verdicts(path: Path, engine: str) -> None:
    """Every obligation of a version-2 regression model (limits, order checks,
    ``positive_qty:LINE``, ``final-step-orders``) gets exactly its expected verdict and
    length from every engine named, and the verifier neither crashes nor reports an
    internal error (a proof the audit cannot re-check is a failure here, not a pass)."""
    text = path.read_text()
    options = Options(engine=engine, sanity=False, bmc_depth=12, max_k=12)
    report = verify_file_model(load_text(text, path.name), options)
    assert report.internal_error is None, f"{path.name} with {engine}: {report.internal_error}"
    got = {
        r.name: (r.verdict, r.counterexample.length if r.counterexample else None, r.reason)
        for r in report.limits
    }
    wrong = []
    for name, verdict, length, engines in v2_expectations(path):
        if engine not in engines:
            continue
        if name not in got:
            wrong.append(f"{name}: no verdict")
        elif got[name][:2] != (verdict, length):
            shown = f"{got[name][0].name} {got[name][1]} ({got[name][2][:200]})"
            wrong.append(f"{name}: expected {verdict.name} {length}, got {shown}")
        elif verdict is Verdict.REFUTED:
            (result,) = [r for r in report.limits if r.name == name]
            assert result.counterexample is not None
            bad = campaign.replay_v2(text, name, result.counterexample)
            if bad:
                wrong.append(f"{name}: the counterexample does not replay: {bad}")
    assert not wrong, f"{path.name} with engine {engine}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", sorted(REGRESS.glob("*.yaml")), ids=lambda p: p.stem)
def test_regression_models_pass_the_sanity_checks(path: Path) -> None:
    """Every regression model verified as ``seqprove verify`` does (sanity checks, the
    stuck finder included) gets a report, not an internal error."""
    report = verify_file_model(load_text(path.read_text(), path.name), Options(timeout=60.0))
    assert report.internal_error is None, f"{path.name}: {report.internal_error}"


# -- the version-2 campaign ---------------------------------------------------------------------

V2_SHORT_DEPTH = 5
V2_LONG_DEPTH = 7
V2_SHORT_EXAMPLES = 3  # per engine
V2_LONG_EXAMPLES = int(os.environ.get("ADVERSARIAL_V2_EXAMPLES", "200"))  # per engine


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_v2_models())
def test_generated_v2_models_are_valid_and_finite(gm: GenModelV2) -> None:
    """No generated version-2 file is skipped: every one loads, keeps the structural
    rules, decides the obligations the contract asks for (as the ``ast`` oracle reads
    them from the file), and has finite inputs at its initial configuration."""
    text = gm.text()
    model = load_text(text, "generated.yaml")
    assert structural_findings(model) == [], text
    sem = AstSemantics(text)
    assert tuple(ob.name for ob in model.obligations()) == sem.limit_names, text
    assert 1 <= len(sem.vectors(sem.initial())) <= 64, text
    for name in gm.names:
        load_text(gm.alone(name), "alone.yaml")


@pytest.mark.parametrize("engine", campaign.ENGINES)
@settings(
    max_examples=V2_SHORT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(gm=gen_v2_models(), shuffle=st.integers(0, 2**16))
def test_v2_verifier_agrees_with_exhaustive_oracle(
    engine: str, gm: GenModelV2, shuffle: int
) -> None:
    campaign.check_v2(gm, engine, V2_SHORT_DEPTH, shuffle)


@pytest.mark.slow
@pytest.mark.parametrize("engine", campaign.ENGINES)
def test_v2_campaign_verifier_agrees_with_exhaustive_oracle(engine: str) -> None:
    long_campaign(
        "adversarial v2 campaign",
        engine,
        gen_v2_models(),
        campaign.check_v2,
        V2_LONG_DEPTH,
        V2_LONG_EXAMPLES,
    )


# -- the stuck finder ---------------------------------------------------------------------------

STUCK_SHORT_EXAMPLES = 3
STUCK_LONG_EXAMPLES = int(os.environ.get("ADVERSARIAL_STUCK_EXAMPLES", "60"))


@pytest.mark.parametrize("planted", [True, False], ids=["planted", "free"])
@settings(
    max_examples=STUCK_SHORT_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_stuck_finder_agrees_with_oracle(planted: bool, data: st.DataObject) -> None:
    """A planted stuck configuration is found, with a run the ``ast`` oracle replays to
    a configuration it confirms stuck; no warning where the oracle shows every reachable
    configuration can still place an order or halt (:func:`campaign.check_stuck`)."""
    campaign.check_stuck(data.draw(gen_stuck_models(planted), label="model"), planted)


@pytest.mark.slow
@pytest.mark.parametrize("planted", [True, False], ids=["planted", "free"])
def test_stuck_campaign_agrees_with_oracle(planted: bool) -> None:
    chosen = int(os.environ.get("ADVERSARIAL_SEED", random.randrange(2**32)))
    print(f"stuck campaign ({'planted' if planted else 'free'}): ADVERSARIAL_SEED={chosen}")

    @hypothesis_seed(chosen)
    @settings(
        max_examples=STUCK_LONG_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(text=gen_stuck_models(planted))
    def run(text: str) -> None:
        campaign.check_stuck(text, planted)

    campaign.STATS.clear()
    try:
        run()
    finally:
        print(f"stuck, seed {chosen}: {campaign.summary()}")


STUCK_PENDING_NAME = """
strategy: stuck-instrument-named-pending
instruments:
  pending: {qty: int}
params:
  band: 0
state:
  n: {type: int, init: 0}
inputs:
  px: {type: int, range: [0, 1]}
provers:
  inside: abs(pending.position) <= band
steps: [quote]
initial: quote
transitions:
  - from: quote
    to: quote
    when: [inside]
    emit:
      - place(side="buy", qty=1, price=px)
      - cancel(side="sell")
limits:
  L: n <= 1
"""


def test_only_the_hidden_book_is_hidden_whatever_the_instrument_is_called() -> None:
    """Regression: a variable counted as hidden (the pending part of a book, never shown)
    when its name merely contained "pending", so an instrument called ``pending`` had
    its whole book left out of the stuck warning (found reading the stuck finder's
    messages on adversarial names)."""
    model = load_text(STUCK_PENDING_NAME, "pending.yaml")
    hidden = {v.name for v in (*model.state, *model.inputs) if v.hidden}
    assert hidden == {"pending.pending_sell", "pending.sold_pending"}
    report = verify_file_model(model, Options(timeout=60.0))
    (stuck,) = [f for f in report.findings if f.rule == "stuck"]
    assert "pending.position=" in stuck.message and "pending.open_buy=" in stuck.message
    assert "pending.pending_sell=" not in stuck.message


def test_spacer_invariant_check_out_of_budget_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: when the budget ran out while the invariant from Spacer was checked
    again, the verdict read "invariant from Spacer not confirmed: consecution is
    unknown", as if Spacer had given a wrong invariant, and not that the budget was
    spent (which a larger --budget cures). Found by the long version-2 campaign (a model
    whose invariant keeps quantifiers, proved with 20M units, UNKNOWN with 10M)."""
    from checker.engines import Budget, Unroller
    from checker.smt.system import TransitionSystem

    spacer_engine = importlib.import_module("checker.engines.spacer")  # the module

    system = TransitionSystem(load_text(STUCK_PENDING_NAME, "pending.yaml"))
    checked = []

    def spent(*args: object) -> str:  # the check runs out of units before it decides
        budget = args[4]
        assert isinstance(budget, Budget)
        budget.units = 0
        checked.append(True)
        return "consecution is unknown"

    monkeypatch.setattr(spacer_engine, "check_invariant", spent)
    budget = Budget(system.meter, 10_000_000, 60.0)
    outcome = spacer_engine.spacer(
        system, z3.Not(system.props["L"]), budget, unroller=Unroller(system)
    )
    assert checked and outcome.verdict is Verdict.UNKNOWN
    assert "resource budget" in outcome.reason, outcome.reason


def test_an_unforeseen_tool_error_stays_in_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Regression: verify_file_model turned only some exception types into the file's
    internal error; the PolynomialError the input drawer raised (see
    ``draw_input_inside_abs.yaml``) went through it and stopped the whole run, so the
    other files were never verified. Any tool error must stay in its own file."""
    import sympy

    from checker.verify import sanity, verify_paths

    first = tmp_path / "a_first.yaml"
    second = tmp_path / "b_second.yaml"
    first.write_text(STUCK_PENDING_NAME)
    second.write_text(STUCK_PENDING_NAME.replace("stuck-instrument-named-pending", "second"))
    real = sanity.tautologies

    def broken(system: Any, budget: Any) -> Any:
        if system.model.strategy == "stuck-instrument-named-pending":
            raise sympy.PolynomialError("Abs(i) contains an element of the set of generators.")
        return real(system, budget)

    monkeypatch.setattr(sanity, "tautologies", broken)
    report = verify_paths([first, second], options=Options(timeout=60.0))
    by_file = {Path(r.file).name: r for r in report.models}
    assert "PolynomialError" in (by_file["a_first.yaml"].internal_error or "")
    assert by_file["b_second.yaml"].internal_error is None
    assert by_file["b_second.yaml"].limits
