# Two commands for a newcomer: `make run` and `make test`. Everything else here serves those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed

.PHONY: run test setup install env messages migrate demo lint format check ci clean npm-deps bench

# `make run PORT=8001` serves on another port; the links it prints and emails follow it.
PORT ?= 8000
run: setup demo ## Set everything up and serve http://127.0.0.1:$(PORT) on SQLite
	SITE_URL=http://127.0.0.1:$(PORT) $(MANAGE) runserver 127.0.0.1:$(PORT)

test: install env messages npm-deps ## Run the whole test suite (DATABASE_URL picks the database; SQLite by default)
	$(BIN)/pytest $(PYTEST_ARGS)

setup: install env messages migrate

# Exact versions from the lock files, so every machine and CI install the same thing.
install: $(INSTALLED)
$(INSTALLED): requirements.lock requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	touch $@

# ical.js (Thunderbird's calendar parser) for the feed test; without node that test skips.
JS_DEPS := tests/js/node_modules/.package-lock.json
npm-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(JS_DEPS); \
	else echo "npm not found: the ical.js feed test will be skipped"; fi
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	touch $@

# A developer's .env: DEBUG on, SQLite, mail to the console. Never overwrites an existing one.
env: .env
.env:
	cp .env.example .env
	mkdir -p var/static

# Compiles locale/*/LC_MESSAGES/django.po with Babel: no GNU gettext needed.
messages: install env
	$(MANAGE) compilemessages

migrate: install env
	mkdir -p var
	$(MANAGE) migrate --no-input

demo: migrate
	$(MANAGE) load_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install env ## Migrations up to date, and the deploy checks with production-like values
	$(MANAGE) makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=ci-only-$$(date +%s)-a-long-random-looking-secret-key-value-xyz \
	ALLOWED_HOSTS=outreach.example.org SITE_URL=https://outreach.example.org \
	$(MANAGE) check --deploy --fail-level WARNING

# Issue 12's benchmark: a throwaway PostgreSQL database with 1,000 meetings and 100,000 RSVPs,
# the production settings and server command, wrk on each path. Options: make bench BENCH_ARGS="--help".
bench: install messages ## Measure req/s, p50, p99 and the ratio to /healthz of each path (needs PostgreSQL, Redis)
	@command -v wrk >/dev/null 2>&1 || if [ "$$(id -u)" = 0 ]; then \
		apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	else echo "wrk not found: install it (Debian: sudo apt-get install wrk)"; exit 1; fi
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

ci: ## What CI runs: .ci/run
	bash .ci/run

clean:
	rm -rf $(VENV) var/static
