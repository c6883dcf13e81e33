# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The portal's origin for `make run` (the OAuth redirect URI is built from it), following HOST and PORT.
SITE_URL ?= http://$(HOST):$(PORT)
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per CPU; a file's tests stay together (module fixtures, fixed ports).
TEST_WORKERS ?= auto
# `make run` checks links every two minutes so that a revoked grant shows soon; production defaults to 6 h.
HEALTH_CHECK_INTERVAL_SECONDS ?= 120

.PHONY: install run worker test lint browser migrate clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Development server, task worker and scheduler (Procfile, honcho), emulator and demo data on http://127.0.0.1:8000
run: install
	DEBUG=True SITE_URL=$(SITE_URL) $(BIN)/python manage.py migrate --noinput
	DEBUG=True SITE_URL=$(SITE_URL) $(BIN)/python manage.py seed_demo
	DEBUG=True SITE_URL=$(SITE_URL) RUN_ADDR=$(HOST):$(PORT) PYTHON_BIN=$(BIN)/python \
	  HEALTH_CHECK_INTERVAL_SECONDS=$(HEALTH_CHECK_INTERVAL_SECONDS) $(BIN)/honcho start -f Procfile

## A task worker alone (the queue TASKS_BACKEND names; the database queue by default)
worker: install
	DEBUG=True $(BIN)/python manage.py run_worker

## Debian's Chromium for the browser tests (never a downloaded browser build)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

## The whole suite (set DATABASE_URL for PostgreSQL)
test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

## Benchmark against a bare Django view at 1,000 and 100,000 accounts (PostgreSQL; bench/README.md)
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing: sudo apt-get install wrk"; exit 1; fi; }
	@if [ -z "$$BENCH_DATABASE_URL" ] && [ -d /etc/postgresql ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n 1)" main start; fi
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles artifacts .pytest_cache test_db.sqlite3*
