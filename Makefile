# The commands the README names. `make run` and `make test` do all the set-up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12+: the first one found (PYTHON=..., PATH, then pyenv).
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
UV := .tools/bin/uv
VENV_BIN := $(CURDIR)/.venv/bin
export UV_PYTHON_DOWNLOADS := never
export PATH := $(VENV_BIN):$(PATH)

.PHONY: help setup deps run test lint format clean bench screenshots

help:
	@echo "make run    set everything up and start the portal at http://127.0.0.1:$${WEB_PORT:-8000}"
	@echo "make test   set everything up and run the whole test suite"
	@echo "make lint   ruff"
	@echo "make screenshots   fresh PNGs of the main pages at 1280 and 390 px in docs/screens/"

$(UV):
	@test -n "$(PYTHON)" || { echo "Python 3.12+ not found: set PYTHON=/path/to/python3.12" >&2; exit 1; }
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.9,<1"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python "$(PYTHON)"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: .venv/.synced node_modules/.installed

# Bytecode written ahead: with PYTHONDONTWRITEBYTECODE set (as on CI) every process would
# compile pandas, fpdf and the rest from source at each start (30-60 s on a busy machine).
setup: deps
	mkdir -p var/celery-broker var/cache
	python -m compileall -q -j 0 accounts trading rushtrade tests bench manage.py
	DEBUG=$${DEBUG:-1} python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} python manage.py collectstatic --noinput --verbosity 0

run: export DEBUG ?= 1
run: setup
	python manage.py load_securities
	python manage.py seed_demo
	python manage.py clearing_cycle evening
	python manage.py run_clearing_firm
	python manage.py clearing_cycle morning
	honcho start

# With no DATABASE_URL/REDIS_URL, .ci/with-services starts a throw-away PostgreSQL and Redis
# for the run when their binaries are installed (and says so), else the embedded SQLite.
test: export DEBUG ?= 1
test: export SERVICES_LABEL := make test
test: TEST_STARTED := $(shell date +%s)
test: setup
	lint-imports --no-cache
	@status=0; .ci/with-services pytest $(PYTEST_ARGS) || status=$$?; \
	echo "make test took $$(( $$(date +%s) - $(TEST_STARTED) )) s"; exit $$status

lint: deps
	lint-imports --no-cache
	ruff check .
	ruff format --check .

format: deps
	ruff format .
	ruff check --fix .

clean:
	rm -rf .venv .tools node_modules staticfiles var

bench: export DEBUG ?= 1
bench: deps
	python bench/balances.py
	python bench/quotes.py
	python bench/orders.py
	python bench/alpaca_positions.py
	python bench/overview.py
	python bench/monthly_statistics.py
	python bench/reconcile.py
	python bench/streams.py

# A throw-away database with the demo data, a dev server and Chromium (scripts/screenshots.py).
screenshots: export DEBUG ?= 1
screenshots: deps
	DEBUG=1 python manage.py collectstatic --noinput --verbosity 0
	python scripts/screenshots.py
