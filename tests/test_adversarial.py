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
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from checker.analysis import structural_findings
from checker.lang.loader import load_text
from tests.adversarial import campaign
from tests.adversarial.ast_oracle import AstSemantics
from tests.adversarial.models import GenModel, gen_models

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


@pytest.mark.slow
@pytest.mark.parametrize("engine", campaign.ENGINES)
def test_campaign_verifier_agrees_with_exhaustive_oracle(engine: str) -> None:
    chosen = int(os.environ.get("ADVERSARIAL_SEED", random.randrange(2**32)))
    print(f"adversarial campaign, engine {engine}: ADVERSARIAL_SEED={chosen}")

    @hypothesis_seed(chosen)
    @settings(
        max_examples=LONG_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(gm=gen_models(), shuffle=st.integers(0, 2**16))
    def run(gm: GenModel, shuffle: int) -> None:
        campaign.check(gm, engine, LONG_DEPTH, shuffle)

    campaign.STATS.clear()
    try:
        run()
    finally:
        print(f"engine {engine}, seed {chosen}: {campaign.summary()}")
