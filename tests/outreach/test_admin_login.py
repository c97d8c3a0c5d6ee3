"""Admin login guessing is throttled (django-axes): per account, per client, for a while."""

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.core.cache import cache

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        "officer", password="the-right-password-42", is_staff=True, is_superuser=True
    )


def log_in(client, username, password, **extra):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def test_fifty_wrong_passwords_lock_the_account_long_before_the_fiftieth(client, staff):
    statuses = [log_in(client, "officer", f"guess-{n}").status_code for n in range(50)]

    # The login form again with its error, then the fifth failure starts the lockout.
    assert statuses[:4] == [200] * 4
    assert set(statuses[4:]) == {429}


def test_the_right_password_is_refused_while_locked_out(client, staff):
    for n in range(5):
        log_in(client, "officer", f"guess-{n}")

    response = log_in(client, "officer", "the-right-password-42")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # to the login page


def test_lockout_holds_per_account_from_other_clients(client, staff):
    for n in range(5):
        log_in(client, "officer", f"guess-{n}", REMOTE_ADDR=f"198.51.100.{n}")

    response = log_in(client, "officer", "the-right-password-42", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 429


def test_lockout_holds_per_client_across_accounts(client, staff):
    for n in range(5):
        log_in(client, f"someone-{n}", "guess", REMOTE_ADDR="198.51.100.1")

    response = log_in(client, "officer", "the-right-password-42", REMOTE_ADDR="198.51.100.1")

    assert response.status_code == 429


def test_lockout_ends_after_the_cool_off(client, staff, settings):
    for n in range(5):
        log_in(client, "officer", f"guess-{n}")
    cache.clear()  # what the cool-off's expiry does to the counts

    response = log_in(client, "officer", "the-right-password-42")

    assert response.status_code == 302


def test_lockout_page_says_how_long_in_the_readers_language(client, staff):
    # The admin speaks the staff member's browser language, never the public pages' cookie.
    client.cookies["django_language"] = "vi"
    for n in range(5):
        log_in(client, "officer", f"guess-{n}", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9")

    response = log_in(client, "officer", "guess-6", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Inténtelo de nuevo en 15 minutos" in response.content.decode()


def test_logins_keep_no_client_address_only_a_hash_in_the_cache(client, staff):
    failed = log_in(client, "officer", "guess", REMOTE_ADDR="203.0.113.7")
    log_in(client, "officer", "the-right-password-42", REMOTE_ADDR="203.0.113.7")

    known_as = failed.wsgi_request.axes_ip_address
    assert "203.0.113" not in known_as
    assert len(known_as) == 32
    assert (AccessAttempt.objects.count(), AccessLog.objects.count()) == (0, 0)


def test_a_right_password_clears_earlier_failures(client, staff):
    for n in range(4):
        log_in(client, "officer", f"guess-{n}")
    assert log_in(client, "officer", "the-right-password-42").status_code == 302
    client.logout()

    statuses = [log_in(client, "officer", f"again-{n}").status_code for n in range(4)]

    assert statuses == [200] * 4


def test_with_redis_down_a_login_is_refused_with_a_clear_message_not_a_500(client, staff, settings):
    """The lockout counts live in the cache: without them a login fails closed (503, in the
    reader's language, saying to try again), never a 500 and never an unthrottled login."""
    from tests.servers import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # The admin speaks the staff member's browser language (never the public pages' cookie).
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"

    response = log_in(client, "officer", "the-right-password-42")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Vuelva a intentarlo en un minuto" in response.content.decode()
    assert "_auth_user_id" not in client.session
