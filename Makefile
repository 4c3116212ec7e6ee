# Two commands set everything up on a fresh machine: `make verify` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: verify test lint typecheck test-slow faults crosscheck malformed adversarial bench bench-verify bench-executor bench-cache bench-planted bench-trust bench-versions bench-import bench-calibrate bench-external bench-scale bench-windows bench-params real-runs schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

verify: $(STAMP)
	$(BIN)/seqprove verify models/

lint: $(STAMP)
	$(BIN)/ruff check checker tests bench
	$(BIN)/ruff format --check checker tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict checker

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -n 2 -m "not slow" tests

# The long campaigns: the adversarial and malformed-input ones among them, then the
# fault campaigns (below) on their own.
test-slow: $(STAMP) faults
	$(BIN)/python -m pytest -n 2 -m slow tests --deselect tests/test_faults.py --deselect tests/test_data_faults.py

# The long fault campaigns of the executor (signals, damaged journals, full disk, bad
# market data); each prints its figures (-rP shows them).
faults: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow -rP tests/test_faults.py tests/test_data_faults.py

# The long malformed-input campaign: 1,000 mutated model files through `seqprove verify`
# (part of test-slow too); prints its figures.
malformed: $(STAMP)
	$(BIN)/python -m pytest -m slow -s tests/test_malformed.py

# The long cross-check of the prover by Hypothesis (part of test-slow too).
crosscheck: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow tests/test_crosscheck.py

# The long adversarial campaign of the verifier against the exhaustive oracle (part of
# test-slow too): 250 random models per engine, from a random seed it prints
# (ADVERSARIAL_SEED=N replays one).
adversarial: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow -rA tests/test_adversarial.py

bench: bench-cache bench-executor bench-verify bench-planted bench-trust bench-versions bench-import bench-calibrate bench-scale bench-external bench-windows bench-params

bench-verify: $(STAMP)
	$(BIN)/python bench/run.py

# verify's growth in CPU seconds over four generated sizes up to 100/40/300, and the
# sanity checks' share of it.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py --markdown

bench-windows: $(STAMP)
	$(BIN)/python bench/windows.py --markdown

# one parametric proof of a box of params against a 10 x 10 grid proved point by point
bench-params: $(STAMP)
	$(BIN)/python bench/params.py --markdown

# backtrader for the executor benchmark only, in its own environment (never a dependency
# of seqprove); if it cannot be installed, the benchmark says so and runs without it.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): bench/requirements-backtrader.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements-backtrader.txt
	touch $(BENCH_STAMP)

bench-executor: $(STAMP)
	-$(MAKE) $(BENCH_STAMP)
	$(BIN)/python bench/executor.py --markdown

bench-cache: $(STAMP)
	$(BIN)/python bench/cache.py --markdown

bench-planted: $(STAMP)
	$(BIN)/python bench/planted.py --markdown

# What trustworthy verdicts cost: resource budgets and the second check of every proof.
bench-trust: $(STAMP)
	$(BIN)/python bench/trust.py --markdown

# Language version 2 against version 1: each reference model beside its original.
bench-versions: $(STAMP)
	$(BIN)/python bench/versions.py --markdown

# `seqprove data import` against a plain pandas.read_csv of the same real files
# (../shared/data/market; nothing is measured without it).
bench-import: $(STAMP)
	$(BIN)/python bench/import_speed.py --markdown

# The calibrated crash scenarios: their constants fitted again on ../shared/data/market and
# data compare against the real days over 20 seeds.
bench-calibrate: $(STAMP)
	$(BIN)/python bench/calibrate.py --markdown

# seqprove verify beside z3 Spacer on a direct encoding of the same file (bench/direct.py),
# with the same CPU budget: the external suite (../shared/bench/external; skipped without
# it), models/ and the generated models.
bench-external: $(STAMP)
	$(BIN)/python bench/external.py --markdown --strategy

# Every reference model over every real window of ../shared/data/market: a report and a
# plot per run under runs/real, the outcomes as the table of docs/data.md.
real-runs: $(STAMP)
	$(BIN)/python bench/real_runs.py --markdown

schema: $(STAMP)
	$(BIN)/seqprove schema > spec/model.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache runs
