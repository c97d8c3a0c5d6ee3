"""Alerts of new meetings through a real SMTP server (aiosmtpd): the confirmation, the digest
and the RFC 8058 one-click unsubscribe a mail program sends from the headers."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from meetings import alerts
from meetings.models import AlertSubscriber
from tests.conftest import run_mail_worker
from tests.factories import MeetingFactory, VenueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings):
    from tests.e2e.mailbox import Mailbox

    box = Mailbox().start()
    settings.EMAIL_BACKEND = "meetings.mail_backend.SmtpBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", box.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield box
    box.stop()


def path_of(link):
    return link.removeprefix("https://outreach.example.org")


def test_confirmation_digest_and_one_click_unsubscribe_over_smtp(client, mailbox):
    venue = VenueFactory(slug="library", name_vi="Thư viện")
    with translation.override("vi"):
        subscribe = reverse("meetings:alerts-subscribe")
    client.post(subscribe, {"about": "venue:library", "email": "lan@example.org"})
    run_mail_worker()

    confirmation = mailbox.wait_for("lan@example.org")
    assert confirmation.subject == "Xin xác nhận việc nhận thông báo về buổi họp mới"
    assert "các buổi họp mới tổ chức tại Thư viện" in confirmation.text
    assert confirmation.parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "meeting.ics" not in str(confirmation.parsed)
    client.post(path_of(confirmation.link_to("/vi/alerts/confirm/")))

    MeetingFactory(venue=venue, title_vi="Gặp gỡ cảnh sát", published_at=timezone.now())
    assert alerts.send_digests() == 1
    run_mail_worker()

    digest = mailbox.wait_for("lan@example.org", count=2)
    assert digest.subject == "1 buổi họp cộng đồng mới với cảnh sát"
    assert "Gặp gỡ cảnh sát" in digest.text and "Gặp gỡ cảnh sát" in digest.html
    header = str(digest.parsed["List-Unsubscribe"]).strip()
    assert header == f"<{digest.link_to('/vi/alerts/stop/')}>"

    # What Gmail or Outlook send when the resident presses their "Unsubscribe": a POST with
    # this body, no cookie, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path_of(header.strip("<>")),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not AlertSubscriber.objects.exists()
