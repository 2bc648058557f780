# Baton: `make run` serves the app in embedded mode; `make test` runs every check.
# Both set everything up from a fresh clone (virtualenv from the lock file, npm ci, build).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PORT ?= 8000
export LITELLM_LOCAL_MODEL_COST_MAP := True
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig*.json -type f 2>/dev/null)

.PHONY: run test setup lint typecheck pytest frontend-check bench lock migrate demo clean

## Setup -------------------------------------------------------------------------------

$(VENV)/.installed: requirements/dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q uv==0.13.8
	@$(UV) pip sync -q --python $(PY) --compile-bytecode requirements/dev.lock
	@touch $@

frontend/node_modules/.installed: frontend/package-lock.json
	@cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SRC)
	@cd frontend && npm run build --silent

setup: $(VENV)/.installed frontend/dist/index.html

migrate: $(VENV)/.installed
	@$(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py baton_demo

## The two commands ---------------------------------------------------------------------

run: setup demo
	@$(PY) manage.py baton_serve --port $(PORT)

test: setup lint typecheck frontend-check pytest

## Checks -------------------------------------------------------------------------------

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy --strict orchestrator_core
	$(VENV)/bin/mypy backend

frontend-check: frontend/node_modules/.installed
	cd frontend && npm run --silent typecheck && npm test --silent

# One pytest run: core, backend, contract, integration (PostgreSQL, Redis, a separate
# celery worker) and browser tests (Chromium). Outside CI the last two may skip with a
# reason; under CI=true they must run. Exit code 5 (nothing collected) fails the build.
pytest: $(VENV)/.installed frontend/dist/index.html
	$(VENV)/bin/pytest tests

bench: setup
	$(PY) -m tests.bench.run

lock: $(VENV)/.installed
	$(UV) pip compile -q --python-version 3.11 requirements/base.in -o requirements/base.lock
	$(UV) pip compile -q --python-version 3.11 requirements/dev.in -o requirements/dev.lock

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var
