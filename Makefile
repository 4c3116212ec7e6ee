# Two commands set everything up on a fresh machine: `make verify` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: verify test lint typecheck test-slow crosscheck adversarial bench bench-verify bench-executor bench-cache bench-planted schema clean

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

# The long campaigns; the adversarial one (see below) is among them.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow tests

# The long cross-check of the prover by Hypothesis (part of test-slow too).
crosscheck: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow tests/test_crosscheck.py

# The long adversarial campaign of the verifier against the exhaustive oracle (part of
# test-slow too): 250 random models per engine, from a random seed it prints
# (ADVERSARIAL_SEED=N replays one).
adversarial: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow -rA tests/test_adversarial.py

bench: bench-cache bench-executor bench-verify bench-planted

bench-verify: $(STAMP)
	$(BIN)/python bench/run.py

bench-executor: $(STAMP)
	$(BIN)/python bench/executor.py --markdown

bench-cache: $(STAMP)
	$(BIN)/python bench/cache.py --markdown

bench-planted: $(STAMP)
	$(BIN)/python bench/planted.py --markdown

schema: $(STAMP)
	$(BIN)/seqprove schema > spec/model.schema.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache runs
