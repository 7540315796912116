# Ostiary: `make run` serves it, `make test` tests it (under coverage, with a floor), `make check`
# lints, checks formatting, type-checks, checks the import contracts and tests: what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what the server and the CLI need; the test tools (the dev extra) come
# with the first target that needs them.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test check lint format typecheck imports bench bench-oauth bench-passwords soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/ostiary run

# The whole suite, measured as pyproject.toml's [tool.coverage.*] says (branch coverage of every
# process the tests start, servers included), then one report, which fails under its floor.
test: $(DEV_STAMP)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest -n 2
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# The layering contracts in pyproject.toml's [tool.importlinter]: a wrong-way import fails.
imports: $(DEV_STAMP)
	$(BIN)/lint-imports

check: lint typecheck imports test

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.api_auth

bench-oauth: $(DEV_STAMP)
	$(BIN)/python -m bench.oauth

bench-passwords: $(DEV_STAMP)
	$(BIN)/python -m bench.password_flood

soak: $(DEV_STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage .coverage.* htmlcov
