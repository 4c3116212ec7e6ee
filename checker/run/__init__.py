"""The executor: market data, the paper venue, the proof gate, the journal."""

SCENARIOS: tuple[str, ...] = ("calm", "trend", "crash", "vol-spike", "liquidity-drought")
"""The market regimes ``seqprove data synth`` writes (see :mod:`checker.run.synth`)."""

CALIBRATED_SCENARIOS: tuple[str, ...] = ("crash-2020-03", "crash-2021-05")
"""The scenarios of ``data synth`` fitted to real crash days (``synth.CALIBRATED``)."""

TIME_COLUMN = "time"
"""The optional column of market data that is journaled as the tick's time."""

VENUE_COLUMNS: tuple[str, ...] = ("bid", "ask", "bid_size", "ask_size", "low", "high", "volume")
"""Columns the paper venue reads every tick (they may also be inputs of the model)."""
