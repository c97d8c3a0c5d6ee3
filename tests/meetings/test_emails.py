"""Each message: what it says, in which language, with which attachment; and that mail
trouble never undoes an RSVP."""

import logging
import smtplib
import socket
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation

from meetings.models import Rsvp
from meetings.services import cancel_rsvp, create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

CONFIRMED = Rsvp.Status.CONFIRMED


def rsvp_for(meeting, party_size=1, **kwargs):
    kwargs.setdefault("language", "en")
    return create_rsvp(meeting=meeting, party_size=party_size, **kwargs)


def test_confirmation_is_emailed_after_commit_in_the_rsvp_language(
    django_capture_on_commit_callbacks,
):
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea")

    with django_capture_on_commit_callbacks(execute=True):
        result = rsvp_for(meeting, 2, language="es", email="ana@example.org")

    message = mail.outbox[0]
    assert "Asamblea" in message.subject
    with translation.override("es"):
        assert f"/es/rsvp/{result.token}/" in message.body
    local = meeting.local_starts_at
    assert f"{local.day} de " in message.body  # Spanish date: "1 de diciembre de 2026"
    assert message.alternatives[0].mimetype == "text/html"


@pytest.mark.parametrize("status", ["confirmed", "waitlisted"])
def test_plain_text_emails_have_no_runs_of_blank_lines(django_capture_on_commit_callbacks, status):
    meeting = MeetingFactory(capacity=1 if status == "waitlisted" else None)
    if status == "waitlisted":
        rsvp_for(meeting)

    with django_capture_on_commit_callbacks(execute=True):
        rsvp_for(meeting, first_name="Ana", email="ana@example.org")

    assert "\n\n\n" not in mail.outbox[0].body


def test_confirmation_has_the_meeting_ics_attached(django_capture_on_commit_callbacks):
    meeting = MeetingFactory()

    with django_capture_on_commit_callbacks(execute=True):
        rsvp_for(meeting, email="ana@example.org")

    (attachment,) = mail.outbox[0].attachments
    assert attachment.filename == "meeting.ics"
    assert attachment.mimetype == "text/calendar"
    assert f"UID:meeting-{meeting.pk}@outreach.example.org" in attachment.content


def test_no_mail_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    meeting = MeetingFactory()

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        rsvp_for(meeting, email="ana@example.org")
        raise RuntimeError

    assert mail.outbox == []
    assert not Rsvp.objects.exists()


def test_rsvp_without_email_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rsvp_for(MeetingFactory())

    assert mail.outbox == []


def test_mail_server_error_keeps_the_rsvp_and_logs_no_address(
    django_capture_on_commit_callbacks, caplog
):
    meeting = MeetingFactory()
    refused = smtplib.SMTPRecipientsRefused({"ana@example.org": (550, b"no")})

    with (
        mock.patch(
            "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused
        ),
        caplog.at_level(logging.WARNING, logger="meetings.emails"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = rsvp_for(meeting, email="ana@example.org")

    assert Rsvp.objects.filter(pk=result.rsvp.pk, status=CONFIRMED).exists()
    assert "SMTPRecipientsRefused" in caplog.text
    assert "ana@example.org" not in caplog.text


def test_hanging_mail_server_times_out_and_the_rsvp_stands(
    settings, django_capture_on_commit_callbacks
):
    # A server that accepts connections and never says a word.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.getsockname()
    settings.EMAIL_TIMEOUT = 0.1
    meeting = MeetingFactory()
    started = timezone.now()

    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = rsvp_for(meeting, email="ana@example.org")
    finally:
        server.close()

    assert (timezone.now() - started).total_seconds() < 1
    assert Rsvp.objects.filter(pk=result.rsvp.pk).exists()


def test_promoted_party_with_email_is_told(django_capture_on_commit_callbacks):
    meeting = MeetingFactory(capacity=1)
    first = rsvp_for(meeting).rsvp
    rsvp_for(meeting, email="waiting@example.org", language="es")

    with django_capture_on_commit_callbacks(execute=True):
        cancel_rsvp(rsvp=first)

    assert [message.to for message in mail.outbox] == [["waiting@example.org"]]
    # Told in the language the RSVP was made in.
    assert "confirmada" in mail.outbox[0].subject
