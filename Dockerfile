# Production image: gunicorn serving Django, static files through whitenoise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
# Build-time only values: collectstatic needs settings to load. Catalogs compile with Babel.
RUN pybabel -q compile -d locale -D django \
 && DEBUG=false SECRET_KEY=build-only-not-secret-and-never-used-by-the-running-site-0123456789 python manage.py collectstatic --no-input \
 && useradd --system --uid 10001 outreach \
 && mkdir -p /app/var && chown outreach /app/var

USER outreach
EXPOSE 8000
# Migrations run at start; gunicorn then serves on port 8000 with gunicorn.conf.py: workers
# from WEB_CONCURRENCY, forwarded headers believed only from FORWARDED_ALLOW_IPS, no access
# log, private links redacted from its error log.
CMD ["sh", "-c", "if [ \"${MIGRATE_ON_START:-true}\" != false ]; then python manage.py migrate --no-input || exit 1; fi; exec gunicorn outreach.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:8000"]
