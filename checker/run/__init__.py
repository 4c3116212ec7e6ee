"""The executor: market data, the paper venue, the proof gate, the journal."""

SCENARIOS: tuple[str, ...] = ("calm", "trend", "crash", "vol-spike", "liquidity-drought")
"""The market regimes ``seqprove data synth`` writes (see :mod:`checker.run.synth`)."""
