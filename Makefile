# Two commands on a fresh machine: `make demo` and `make test`. Both install on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the CPU-only torch wheel (later issues) lives in pip's find-links folder; uv needs it named
FIND_LINKS := $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
UV_LINKS := $(if $(FIND_LINKS),--find-links $(FIND_LINKS),)
export OMP_NUM_THREADS ?= 1
export NUMBA_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install demo test lint typecheck unit bench lock clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.8
	$(BIN)/uv pip sync -q --python $(BIN)/python $(UV_LINKS) requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 $(UV_LINKS) -o requirements.lock

demo: $(STAMP)
	$(BIN)/tradelearn demo --out demo_out

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=30

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_replay.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_sim_replay.py
	$(BIN)/python benchmarks/bench_agents.py
	$(BIN)/python benchmarks/bench_model_env.py
	$(BIN)/python benchmarks/bench_exec_env.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache
