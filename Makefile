# Buzón's front door. Every target sets itself up: only Python 3.11+ is needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Test processes (pytest-xdist): one per CPU by default; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= auto
export BUZON_ENV ?= development

.DEFAULT_GOAL := help
.PHONY: help run test bench lint fmt lock messages setup setup-dev browser clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.base: requirements/base.lock
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Buzón needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/base.lock
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	touch $@

setup: $(VENV)/.base ## Create .venv and install the runtime dependencies
	$(PY) -m babel.messages.frontend compile --statistics -d locale -D django
setup-dev: $(VENV)/.dev setup

run: setup ## Set up, migrate, load demo data and serve on http://127.0.0.1:$(PORT) with the task worker
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py seed_demo
	PORT=$(PORT) exec $(PY) -m buzon.serve

browser: ## Install Debian's chromium for the browser tests (root only)
	@bash scripts/ensure-browser

test: setup-dev ## Set up and run the whole test suite (PostgreSQL when DATABASE_URL is set)
	@if bash scripts/ensure-browser; then \
		BUZON_ENV=test $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS); \
	else \
		echo "!! BROWSER TESTS NOT RUN: Debian's chromium is missing and could not be installed. !!"; \
		BUZON_ENV=test $(PY) -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS); \
	fi

bench: setup-dev ## Run the benchmarks and write bench/results/latest.json
	$(PY) manage.py collectstatic --no-input --verbosity 0  # the bench runs development settings
	BUZON_ENV=test $(PY) -m bench

lint: setup-dev ## ruff (lint + format check) and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

fmt: setup-dev ## Apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

messages: setup-dev ## Refresh the English catalogue from the source (needs GNU gettext)
	$(PY) manage.py makemessages -l en --no-obsolete --no-location \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=var
	$(MAKE) setup

lock: ## Re-pin dependencies from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --python-version 3.11 --universal --generate-hashes -o requirements/base.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal --generate-hashes -o requirements/dev.lock

clean: ## Remove the virtualenv and local data (var/)
	rm -rf $(VENV) var staticfiles
