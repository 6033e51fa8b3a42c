# moldstack: two commands on a fresh machine with only Python 3.11 and the package registries.
#   make demo   build the bundled stacked example and say where the outputs are
#   make test   lint and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEMO_SPEC ?= examples/pop_on_substrate.yaml
DEMO_OUT ?= out/demo

.PHONY: install install-test demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP) $@

install: $(STAMP)

install-test: $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/moldstack claims $(DEMO_SPEC)
	$(BIN)/moldstack build $(DEMO_SPEC) -o $(DEMO_OUT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(TEST_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
