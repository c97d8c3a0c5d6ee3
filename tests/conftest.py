from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from django.utils.translation import trans_real

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a real PostgreSQL server: run with DATABASE_URL=postgres://…",
)


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs():
    """Compile locale/*.po as `make messages` does, so a bare `pytest` sees the current text."""
    call_command("compilemessages", stdout=StringIO())
    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture(autouse=True)
def _fast_and_english(settings):
    """Fast password hashing, English as the starting language, a known public address."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://outreach.example.org"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counts live in the cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()
