# Two commands for a newcomer: `make run` and `make test`. Everything else here serves those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed

.PHONY: run test test-e2e setup install env messages migrate demo lint format typecheck lock check ci clean npm-deps chromium wrk bench

# `make run PORT=8001` serves on another port; the links it prints and emails follow it.
# The mail worker runs beside the web server and stops with it (Ctrl-C stops both).
PORT ?= 8000
run: setup demo ## Set everything up and serve http://127.0.0.1:$(PORT) on SQLite, with the mail worker and reminders
	SITE_URL=http://127.0.0.1:$(PORT) $(MANAGE) db_worker & worker=$$!; \
	( while sleep 300; do SITE_URL=http://127.0.0.1:$(PORT) $(MANAGE) send_reminders; done ) & scheduler=$$!; \
	trap 'kill $$worker $$scheduler 2>/dev/null; wait $$worker' EXIT INT TERM; \
	SITE_URL=http://127.0.0.1:$(PORT) $(MANAGE) runserver 127.0.0.1:$(PORT)

# Branch coverage of meetings/ and outreach/; the run fails below the floor in [tool.coverage.report].
test: install env messages npm-deps chromium wrk ## Run the whole test suite (DATABASE_URL picks the database; SQLite by default)
	$(BIN)/pytest --cov --cov-branch --cov-report=term $(PYTEST_ARGS)

test-e2e: install env messages npm-deps chromium ## Only the end-to-end tests in a real browser (tests/e2e)
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

setup: install env messages migrate

# Exact versions and hashes from the lock files, so every machine and CI install the same bytes.
# The lock is complete (uv wrote every dependency into it), so pip installs it with --no-deps:
# no resolver runs, and no pip version can reach for a release published after the lock was
# made (pip 23.2 resolved pytest-cov's `coverage[toml]` extra to the newest coverage, which the
# lock did not hash). `pip check` then proves that what was installed fits together.
PIP_INSTALL_LOCK := -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r
install: $(INSTALLED)
$(INSTALLED): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL_LOCK) requirements-dev.lock
	$(BIN)/python -m pip check --disable-pip-version-check
	touch $@

# Rewrites both lock files from pyproject.toml. Versions already locked are kept unless
# pyproject.toml no longer allows them; `make lock UPGRADE=--upgrade` moves everything to the newest.
# The dev lock is constrained by the runtime one, so the two never disagree.
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock" $(UPGRADE)
lock: install
	$(LOCK) --output-file requirements.lock
	$(LOCK) --extra dev --constraints requirements.lock --output-file requirements-dev.lock


# The end-to-end tests drive Debian's Chromium (Playwright's own browser download is not used).
# As root, a missing Chromium is installed; otherwise those tests skip and say why.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif [ ! -x $(CHROMIUM) ]; then \
		echo "no $(CHROMIUM): the end-to-end tests will be skipped (as root, make installs it)"; fi

# wrk, the load tool of `make bench` (a test runs the benchmark's script with it for a second).
# As root, a missing wrk is installed; otherwise that test skips.
wrk:
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }; \
	elif ! command -v wrk >/dev/null 2>&1; then \
		echo "wrk not found: the benchmark script's test will be skipped (as root, make installs it)"; fi

# ical.js (Thunderbird's calendar parser) for the feed test, and axe-core for the end-to-end
# tests; without node the first skips, and so do the second.
JS_DEPS := tests/js/node_modules/.package-lock.json
npm-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(JS_DEPS); \
	else echo "npm not found: the ical.js feed test and the end-to-end tests will be skipped"; fi
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	touch $@

# A developer's .env: DEBUG on, SQLite, mail to the console. Never overwrites an existing one.
env: .env
.env:
	cp .env.example .env
	mkdir -p var/static

# Compiles locale/*/LC_MESSAGES/django.po with Babel's command line: no GNU gettext needed.
# (Django's own `manage.py compilemessages` works too, where GNU gettext is installed.)
messages: install
	$(BIN)/pybabel -q compile -d locale -D django

migrate: install env
	mkdir -p var
	$(MANAGE) migrate --no-input

demo: migrate
	$(MANAGE) load_demo

TEMPLATES := $(shell find templates -name '*.html' -o -name '*.txt')
# djade rewrites tags to Django's template style guide. It exits non-zero when it changed a
# file, so `format` checks once more: a second failure is a real one.
DJADE := $(BIN)/djade --target-version 5.2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@echo 'djade --check templates/'; $(DJADE) --check $(TEMPLATES)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	@echo 'djade templates/'; $(DJADE) $(TEMPLATES) || $(DJADE) --check $(TEMPLATES)

# Type hints of the modules listed in [tool.mypy] in pyproject.toml, checked with django-stubs.
typecheck: install env
	$(BIN)/mypy

check: install env ## Migrations up to date, and the deploy checks with production-like values
	$(MANAGE) makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=ci-only-$$(date +%s)-a-long-random-looking-secret-key-value-xyz \
	ALLOWED_HOSTS=outreach.example.org SITE_URL=https://outreach.example.org \
	CACHE_URL=redis://127.0.0.1:6379/0 EMAIL_URL=smtp://127.0.0.1:25 \
	SMS_URL=twilio://ACci:ci-token@+15005550006 \
	$(MANAGE) check --deploy --fail-level WARNING

# Issue 12's benchmark: a throwaway PostgreSQL database with 1,000 meetings and 100,000 RSVPs,
# the production settings and server command, wrk on each path. Options: make bench BENCH_ARGS="--help".
bench: install messages wrk ## Measure req/s, p50, p99 and the ratio to /healthz of each path (needs PostgreSQL, Redis)
	@command -v wrk >/dev/null 2>&1 || { echo "wrk not found: install it (Debian: sudo apt-get install wrk)"; exit 1; }
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

ci: ## What CI runs: .ci/run
	bash .ci/run

clean:
	rm -rf $(VENV) var/static
