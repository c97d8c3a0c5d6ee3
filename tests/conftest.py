import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

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
