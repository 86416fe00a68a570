# mofront: `make serve` runs the service, `make test` runs the tests.
# Each creates .venv and installs what it needs on first use (and again when
# pyproject.toml changes).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU build of torch may lie on disk; let pip take it rather than a multi-GB CUDA build.
WHEELS := $(wildcard /opt/wheels)
PIP_INSTALL := $(BIN)/pip install --disable-pip-version-check $(if $(WHEELS),--find-links $(WHEELS))
MOFRONT_DB ?= mofront.db
MOFRONT_TEST_PG ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: serve test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip

# `python -m bayesopt.kernels` builds BoTorch's qLogEHVI kernel now (about 40 s) rather
# than inside the first ask or campaign that needs it.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e .
	$(BIN)/python -m bayesopt.kernels
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	$(BIN)/python -m bayesopt.kernels
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/mofront serve --db $(MOFRONT_DB) $(SERVE_ARGS)

test: $(VENV)/.installed-dev
	MOFRONT_TEST_PG=$(MOFRONT_TEST_PG) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy pareto storage jobs api bayesopt morl

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_store.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
