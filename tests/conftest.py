import contextlib
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from django_tasks_db.management.commands import db_worker

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Compile locale/*.po as `make messages` does, so a bare `pytest` sees the current text.

    Babel's own command line, before any test asks Django for a translation.
    """
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(  # noqa: S603 - a fixed command on the project's own files
        [str(pybabel), "-q", "compile", "-d", "locale", "-D", "django"], cwd=ROOT, check=True
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need a real PostgreSQL server: skipped on SQLite."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://…")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_and_english(settings):
    """Fast password hashing, English as the starting language, a known public address."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://outreach.example.org"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counts and cached pages live in the cache: each test starts with none."""
    from meetings.caching import local_copies

    cache.clear()
    local_copies.clear()
    yield
    cache.clear()
    local_copies.clear()


def run_mail_worker(max_tasks=None):
    """Run the mail worker as `manage.py db_worker --batch` does: every task that is due (or
    `max_tasks` of them), then stop. Returns django.core.mail.outbox (the test mail backend's
    list of sent messages).

    Inside a test's transaction the worker must not drop the connection between tasks (it
    checks for stale connections the way requests do), or the test's data would go with it.
    """
    keep_connection = (
        mock.patch.object(db_worker, "close_old_connections", lambda: None)
        if connection.in_atomic_block
        else contextlib.nullcontext()
    )
    worker = db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="tests",
        excluded_queue_names=[],
    )
    with keep_connection:
        worker.run()
    return mail.outbox


@pytest.fixture
def send_queued_mail():
    """`send_queued_mail()` runs the mail worker once (see run_mail_worker)."""
    return run_mail_worker


@pytest.fixture
def twilio(settings):
    """A local server speaking Twilio's Messages API (tests/fake_twilio.py), which SMS_URL
    points at for the test: texts the worker sends land in `twilio.messages`."""
    from tests.fake_twilio import FakeTwilio

    fake = FakeTwilio().start()
    settings.SMS_URL = fake.sms_url()
    settings.SMS_TIMEOUT = 1
    yield fake
    fake.stop()
