"""/healthz for the load balancer (cheap, any Host) and /healthz?deep=1 for the operator's
monitoring (database, cache, the mail backlog), behind a token."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from meetings.emails import send_queued_email
from meetings.models import OutgoingEmail

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-for-tests-0123456789"


@pytest.fixture
def monitoring(settings):
    settings.HEALTH_CHECK_TOKEN = TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


def queued_email(age_minutes=0, status=OutgoingEmail.Status.QUEUED):
    email = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.RSVP_CONFIRMATION,
        language="en",
        status=status,
        message_id=f"<health-{OutgoingEmail.objects.count()}@example.org>",
    )
    created = timezone.now() - dt.timedelta(minutes=age_minutes)
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=created)
    return email


def test_healthz_answers_whatever_the_host_header(client, settings, django_assert_num_queries):
    """compose's healthcheck calls 127.0.0.1 and Caddy's active check sends `Host: ip:port`,
    neither of which is in a real site's ALLOWED_HOSTS."""
    settings.ALLOWED_HOSTS = ["outreach.example.org"]

    with django_assert_num_queries(1):
        response = client.get("/healthz", HTTP_HOST="172.30.0.5:8000")

    assert (response.status_code, response.content) == (200, b"ok")
    assert client.get("/en/meetings/", HTTP_HOST="172.30.0.5:8000").status_code == 400


def test_the_deep_report_needs_the_token(client, settings):
    settings.HEALTH_CHECK_TOKEN = TOKEN

    assert client.get("/healthz?deep=1").status_code == 403
    assert client.get("/healthz?deep=1", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    settings.HEALTH_CHECK_TOKEN = ""
    assert client.get("/healthz?deep=1", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_the_deep_report_gives_database_cache_and_mail_backlog(monitoring):
    queued_email(age_minutes=3)
    queued_email(age_minutes=1)
    queued_email(age_minutes=30, status=OutgoingEmail.Status.SENT)
    send_queued_email.enqueue([])

    response = monitoring.get("/healthz?deep=1")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"].startswith("max-age=0")
    report = json.loads(response.content)
    assert report["status"] == "ok" and report["problems"] == []
    assert report["database"]["ok"] is True and report["cache"]["ok"] is True
    assert report["mail"]["queued"] == 2
    assert 170 <= report["mail"]["oldest_queued_seconds"] <= 200
    assert report["mail"]["sending"] == 0
    assert report["tasks"]["ready"] == 1 and report["tasks"]["running"] == 0


def test_a_mail_backlog_older_than_the_limit_fails_the_deep_check(monitoring, settings):
    settings.HEALTH_MAX_QUEUE_AGE_SECONDS = 600
    queued_email(age_minutes=11)

    response = monitoring.get("/healthz?deep=1")

    assert response.status_code == 503
    report = json.loads(response.content)
    assert report["status"] == "unhealthy"
    assert report["problems"] == ["mail: the oldest queued message waits for more than 600 s"]


def test_a_cache_that_fails_fails_the_deep_check_but_not_the_cheap_one(monitoring, settings):
    from tests.servers import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    deep = monitoring.get("/healthz?deep=1")

    assert deep.status_code == 503
    report = json.loads(deep.content)
    assert report["cache"]["ok"] is False
    assert report["problems"] == ["cache: not answering"]
    assert monitoring.get("/healthz").status_code == 200
