# Production image: granian serving Django (WSGI), static files through whitenoise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
# The lock is complete: --no-deps installs it without a resolver (Makefile, `install`).
RUN pip install --no-cache-dir --no-deps --require-hashes -r requirements.lock && pip check

COPY . .
# Build-time only values: collectstatic needs settings to load. Catalogs compile with Babel.
RUN pybabel -q compile -d locale -D django \
 && DEBUG=false SECRET_KEY=build-only-not-secret-and-never-used-by-the-running-site-0123456789 python manage.py collectstatic --no-input \
 && useradd --system --uid 10001 outreach \
 && mkdir -p /app/var && chown -R outreach /app/var
# -R: Docker seeds compose's `static` volume with these files and their owner, and the
# `migrate` service collects into it again as `outreach`.

USER outreach
EXPOSE 8000
# Migrations run at start (MIGRATE_ON_START=false skips them: compose's `migrate` service does
# them once); then granian serves on port 8000 (README, "The production server"): one process
# per core (WEB_CONCURRENCY), one blocking thread each, keep-alive on, no access log (it would
# record visitors' addresses and the private links in paths), slow clients read by its Rust
# runtime before a worker thread is involved.
CMD ["sh", "-c", "if [ \"${MIGRATE_ON_START:-true}\" != false ]; then python manage.py migrate --no-input || exit 1; fi; exec granian --interface wsgi --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --blocking-threads 1 --no-access-log --log-level ${GRANIAN_LOG_LEVEL:-warning} --http1-header-read-timeout 10000 --respawn-failed-workers --workers-kill-timeout 30 outreach.wsgi:application"]
