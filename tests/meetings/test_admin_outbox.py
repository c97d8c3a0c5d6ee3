"""The outbox in the admin: counts by status, read-only, recipients only with a permission."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from meetings.models import OutgoingEmail
from meetings.services import create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

OUTBOX = reverse("admin:meetings_outgoingemail_changelist")


def staff_with(*codenames):
    user = User.objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def queue_two(send_queued_mail):
    meeting = MeetingFactory()
    create_rsvp(meeting=meeting, party_size=1, language="es", email="ana@example.org")
    send_queued_mail()
    create_rsvp(meeting=meeting, party_size=1, language="vi", email="luis@example.org")


def test_outbox_counts_queued_and_sent(admin_client, send_queued_mail):
    queue_two(send_queued_mail)

    page = admin_client.get(OUTBOX).content.decode()

    assert "<li>Queued: 1</li>" in page
    assert "<li>Sent: 1</li>" in page
    assert "<li>Failed: 0</li>" in page


def test_outbox_hides_recipients_from_staff_without_the_permission(client, send_queued_mail):
    queue_two(send_queued_mail)
    client.force_login(staff_with("view_outgoingemail"))

    response = client.get(OUTBOX)

    assert response.status_code == 200
    assert "luis@example.org" not in response.content.decode()
    assert len(response.context["cl"].result_list) == 2
    email = OutgoingEmail.objects.get(recipient="luis@example.org")
    detail = client.get(reverse("admin:meetings_outgoingemail_change", args=[email.pk]))
    assert "luis@example.org" not in detail.content.decode()


def test_outbox_shows_recipients_to_staff_with_the_permission(client, send_queued_mail):
    queue_two(send_queued_mail)
    client.force_login(staff_with("view_outgoingemail", "view_outgoingemail_recipient"))

    page = client.get(OUTBOX).content.decode()

    assert "luis@example.org" in page
    # A sent message has no address left to show.
    assert "ana@example.org" not in page


def test_outbox_cannot_be_changed_even_by_a_superuser(admin_client, send_queued_mail):
    queue_two(send_queued_mail)
    email = OutgoingEmail.objects.get(status="queued")

    admin_client.post(
        reverse("admin:meetings_outgoingemail_change", args=[email.pk]),
        {"recipient": "other@example.org", "status": "sent"},
    )

    email.refresh_from_db()
    assert (email.recipient, email.status) == ("luis@example.org", "queued")
