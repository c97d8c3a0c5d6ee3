# Two commands for a newcomer: `make run` and `make test`. Everything else here serves those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
INSTALLED := $(VENV)/.installed

.PHONY: run test setup install env messages migrate demo lint format check ci clean npm-deps

# `make run PORT=8001` serves on another port; the links it prints and emails follow it.
# The mail worker runs beside the web server and stops with it (Ctrl-C stops both).
PORT ?= 8000
run: setup demo ## Set everything up and serve http://127.0.0.1:$(PORT) on SQLite, with the mail worker
	SITE_URL=http://127.0.0.1:$(PORT) $(MANAGE) db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
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

# Compiles locale/*/LC_MESSAGES/django.po with Babel's command line: no GNU gettext needed.
# (Django's own `manage.py compilemessages` works too, where GNU gettext is installed.)
messages: install
	$(BIN)/pybabel -q compile -d locale -D django

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
	CACHE_URL=redis://127.0.0.1:6379/0 EMAIL_URL=smtp://127.0.0.1:25 \
	$(MANAGE) check --deploy --fail-level WARNING

ci: ## What CI runs: .ci/run
	bash .ci/run

clean:
	rm -rf $(VENV) var/static
