# Two commands on a fresh machine: `make serve` (embedded, no external server) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: serve test lint unit services-up services-down bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the API and projectors embedded (SQLite in ./.customers)
	$(BIN)/customers serve

test: $(STAMP) lint  ## the whole suite: lint, types, unit, contract, integration, e2e
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

services-up:
	bash scripts/services up

services-down:
	bash scripts/services down

bench: $(STAMP)
	$(BIN)/python -m benchmarks.commands

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
