# Ostiary: `make run` serves it, `make test` tests it, `make check` lints, type-checks and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what the server and the CLI need; the test tools (the dev extra) come
# with the first target that needs them.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test check lint format typecheck bench bench-oauth bench-passwords soak clean

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

test: $(DEV_STAMP)
	$(BIN)/pytest -n 2

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.api_auth

bench-oauth: $(DEV_STAMP)
	$(BIN)/python -m bench.oauth

bench-passwords: $(DEV_STAMP)
	$(BIN)/python -m bench.password_flood

soak: $(DEV_STAMP)
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
