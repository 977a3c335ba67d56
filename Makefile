# On a fresh machine: `make serve` (embedded, no external server), `make test` (everything;
# starts the services when none are configured) and `make test-fast` (no services).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: serve test test-fast lint unit services-up services-down bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  ## run the API and projectors embedded (SQLite in ./.customers)
	$(BIN)/customers serve

test: $(STAMP) lint  ## the whole suite: lint, types, unit, contract, integration, e2e
	bash scripts/with-services $(BIN)/pytest -q

test-fast: $(STAMP) lint  ## edit-test loop: lint, then the unit and contract tests needing no service
	CUSTOMERS_TEST_SERVICES=none $(BIN)/pytest -q tests/unit tests/contract

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
