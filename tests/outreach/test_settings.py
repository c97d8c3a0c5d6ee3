import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-that-is-long-and-random-0123456789",
    "ALLOWED_HOSTS": "outreach.example.org",
    "SITE_URL": "https://outreach.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://outreach:secret@mail.example.org:587",
    "SMS_URL": "twilio://AC0123:token@+15005550006",
    # A developer's .env must not leak into what production would see.
    "ENV_FILE": "/dev/null",
}


def run_manage(*args, env):
    base = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the test process's own (tests/e2e/conftest.py)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_mail_would_go_to_the_log():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "EMAIL_URL"}

    result = run_manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "outreach.E001" in result.stderr + result.stdout
    assert "EMAIL_URL is not set" in result.stderr + result.stdout


def test_check_deploy_fails_when_texts_would_go_to_the_log():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SMS_URL"}

    result = run_manage("check", "--deploy", env=env)

    assert result.returncode != 0
    assert "outreach.E002" in result.stderr + result.stdout
    assert "SMS_URL is not set" in result.stderr + result.stdout


def test_check_deploy_accepts_no_sms_url_when_texts_are_off():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SMS_URL"}

    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**env, "SMS_ENABLED": "false"}
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_required_when_debug_is_off():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    env["SECRET_KEY"] = ""

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_languages_are_english_spanish_vietnamese():
    assert [code for code, _name in settings.LANGUAGES] == ["en", "es", "vi"]


def test_default_time_zone_is_chicago():
    assert settings.TIME_ZONE == "America/Chicago"


def test_locale_middleware_runs_after_sessions_and_before_common():
    middleware = settings.MIDDLEWARE
    locale = middleware.index("django.middleware.locale.LocaleMiddleware")
    assert middleware.index("django.contrib.sessions.middleware.SessionMiddleware") < locale
    assert locale < middleware.index("django.middleware.common.CommonMiddleware")


def test_email_timeout_is_set():
    assert settings.EMAIL_TIMEOUT and settings.EMAIL_TIMEOUT <= 30


def test_jquery_ui_for_the_translation_tabs_is_served_locally():
    assert not settings.JQUERY_UI_URL.startswith(("http", "//"))
    assert (ROOT / "static" / settings.JQUERY_UI_URL).is_file()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
def test_sqlite_takes_the_write_lock_up_front():
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_connections_have_a_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (value,) = cursor.fetchone()

    assert value not in ("0", "")


def test_env_example_lists_every_variable_the_settings_read():
    source = (ROOT / "outreach" / "settings.py").read_text()
    import re

    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert read - listed == set()


def test_check_deploy_warns_about_a_per_process_cache_with_several_workers():
    env = {**PRODUCTION_ENV, "CACHE_URL": "locmemcache://", "WEB_CONCURRENCY": "3"}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "outreach.W001" in result.stderr + result.stdout
    assert "CACHE_URL=redis://" in result.stderr + result.stdout


def test_check_deploy_accepts_a_per_process_cache_with_one_worker():
    env = {**PRODUCTION_ENV, "CACHE_URL": "locmemcache://", "WEB_CONCURRENCY": "1"}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_32_character_secret_key_is_refused_in_production():
    env = {**PRODUCTION_ENV, "SECRET_KEY": "x1y2z3" * 5 + "ab"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "at least 50 random characters" in result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgres_connections_give_up_within_seconds():
    assert 0 < settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] <= 10


def test_form_bodies_are_limited_to_what_a_form_needs():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024


def shell(code, env):
    result = run_manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_every_cache_key_of_a_site_carries_its_prefix_and_pages_the_release():
    code = (
        "from django.conf import settings; from django.core.cache import cache;"
        "print(settings.CACHES['default']['KEY_PREFIX'], settings.RELEASE,"
        " cache.make_key('outreach:data-version'))"
    )
    env = {**PRODUCTION_ENV, "CACHE_URL": "locmemcache://"}

    named = shell(code, {**env, "CACHE_KEY_PREFIX": "site-b", "RELEASE": "2026.12.1"})
    default = shell(code, env)

    assert named.split() == ["site-b", "2026.12.1", "site-b:1:outreach:data-version"]
    prefix, release, key = default.split()
    # Unset: the host of SITE_URL, and a digest of the source files (the same in every process).
    assert (prefix, key) == ("outreach.example.org", "outreach.example.org:1:outreach:data-version")
    assert len(release) == 16
    assert shell(code, env).split()[1] == release
