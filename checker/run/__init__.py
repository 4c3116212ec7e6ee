"""The executor: market data, the paper venue, the proof gate, the journal."""
