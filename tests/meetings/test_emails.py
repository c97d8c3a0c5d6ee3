"""Each message: what it says, in which language, with which attachment; how it is queued in
the change's transaction, sent once by the worker, retried, given up on, and erased."""

import logging
import smtplib
from unittest import mock

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from meetings import emails
from meetings.models import OutgoingEmail, Rsvp
from meetings.services import cancel_rsvp, create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

CONFIRMED = Rsvp.Status.CONFIRMED
LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def rsvp_for(meeting, party_size=1, **kwargs):
    kwargs.setdefault("language", "en")
    return create_rsvp(meeting=meeting, party_size=party_size, **kwargs)


def test_confirmation_is_sent_by_the_worker_in_the_rsvp_language(send_queued_mail):
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea")
    result = rsvp_for(meeting, 2, language="es", email="ana@example.org")
    assert mail.outbox == []  # the request only queued it

    (message,) = send_queued_mail()

    assert "Asamblea" in message.subject
    with translation.override("es"):
        assert f"/es/rsvp/{result.token}/" in message.body
    local = meeting.local_starts_at
    assert f"{local.day} de " in message.body  # Spanish date: "1 de diciembre de 2026"
    assert message.alternatives[0].mimetype == "text/html"
    assert "Acercamiento_Comunitario" in message.from_email  # the sender's name, in Spanish


@pytest.mark.parametrize("status", ["confirmed", "waitlisted"])
def test_plain_text_emails_have_no_runs_of_blank_lines(send_queued_mail, status):
    meeting = MeetingFactory(capacity=1 if status == "waitlisted" else None)
    if status == "waitlisted":
        rsvp_for(meeting)
    rsvp_for(meeting, first_name="Ana", email="ana@example.org")

    (message,) = send_queued_mail()

    assert "\n\n\n" not in message.body


def test_confirmation_has_the_meeting_ics_attached(send_queued_mail):
    meeting = MeetingFactory()
    rsvp_for(meeting, email="ana@example.org")

    (message,) = send_queued_mail()

    (attachment,) = message.attachments
    assert attachment.filename == "meeting.ics"
    assert attachment.mimetype == "text/calendar"
    assert f"UID:meeting-{meeting.pk}@outreach.example.org" in attachment.content


def test_no_mail_when_the_transaction_rolls_back(send_queued_mail):
    meeting = MeetingFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        rsvp_for(meeting, email="ana@example.org")
        raise RuntimeError

    assert send_queued_mail() == []
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_rsvp_without_email_queues_nothing(send_queued_mail):
    rsvp_for(MeetingFactory())

    assert not OutgoingEmail.objects.exists()
    assert send_queued_mail() == []


def test_the_task_carries_only_the_outbox_row_id():
    rsvp_for(MeetingFactory(), first_name="Esperanza", email="esperanza@example.org")

    (task,) = DBTaskResult.objects.all()
    (email,) = OutgoingEmail.objects.all()
    assert task.args_kwargs == {"args": [[email.pk]], "kwargs": {}}


def test_sent_email_keeps_nothing_personal(send_queued_mail):
    rsvp_for(MeetingFactory(), first_name="Esperanza", email="esperanza@example.org")

    send_queued_mail()

    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.kind, email.language) == (
        "sent",
        1,
        "rsvp_confirmation",
        "en",
    )
    assert email.sent_at is not None
    assert (email.recipient, email.subject, email.text, email.html, email.calendar) == (
        "",
        "",
        "",
        "",
        "",
    )


def test_a_message_is_sent_once_however_often_its_task_runs(send_queued_mail):
    rsvp_for(MeetingFactory(), email="ana@example.org")
    email = OutgoingEmail.objects.get()
    # A second task for the same row: a duplicate enqueue, or a retry after a timeout.
    emails.send_queued_email.enqueue([email.pk])

    send_queued_mail()
    assert emails.deliver(email.pk) == "skipped"

    assert [message.to for message in mail.outbox] == [["ana@example.org"]]


def test_each_message_has_its_own_message_id(send_queued_mail):
    meeting = MeetingFactory()
    rsvp_for(meeting, email="ana@example.org")
    rsvp_for(meeting, email="luis@example.org")

    sent = send_queued_mail()

    ids = [message.extra_headers["Message-ID"] for message in sent]
    assert len(set(ids)) == 2
    assert all(value.endswith("@outreach.example.org>") for value in ids)


def test_mail_server_error_keeps_the_rsvp_retries_later_and_logs_no_address(
    send_queued_mail, caplog
):
    meeting = MeetingFactory()
    refused = smtplib.SMTPRecipientsRefused({"ana@example.org": (451, b"try later")})
    result = rsvp_for(meeting, email="ana@example.org")

    with (
        mock.patch(LOCMEM_SEND, side_effect=refused),
        caplog.at_level(logging.INFO),
    ):
        send_queued_mail()

    assert Rsvp.objects.filter(pk=result.rsvp.pk, status=CONFIRMED).exists()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.last_error) == (
        "queued",
        1,
        "SMTPRecipientsRefused 451",
    )
    assert "SMTPRecipientsRefused" in caplog.text
    assert "ana@example.org" not in caplog.text
    assert not DBTaskResult.objects.filter(traceback__contains="ana@example.org").exists()


def test_retries_wait_longer_each_time_up_to_an_hour(send_queued_mail):
    rsvp_for(MeetingFactory(), email="ana@example.org")
    start = timezone.now()
    waits = []

    with mock.patch(LOCMEM_SEND, side_effect=ConnectionRefusedError):
        for _attempt in range(8):
            email = OutgoingEmail.objects.get()
            due = email.next_attempt_at or start
            with time_machine.travel(due, tick=False):
                send_queued_mail()
            email.refresh_from_db()
            waits.append(round((email.next_attempt_at - due).total_seconds() / 60))

    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert email.status == "queued"


def test_a_task_run_before_its_time_sends_nothing(send_queued_mail):
    rsvp_for(MeetingFactory(), email="ana@example.org")
    with mock.patch(LOCMEM_SEND, side_effect=ConnectionRefusedError):
        send_queued_mail()
    email = OutgoingEmail.objects.get()

    assert emails.deliver(email.pk) == "skipped"
    with time_machine.travel(email.next_attempt_at, tick=False):
        send_queued_mail()

    assert [message.to for message in mail.outbox] == [["ana@example.org"]]


def test_after_a_day_of_failures_the_message_is_marked_failed(send_queued_mail, caplog):
    rsvp_for(MeetingFactory(), email="ana@example.org")
    start = timezone.now()

    with (
        mock.patch(LOCMEM_SEND, side_effect=ConnectionRefusedError),
        caplog.at_level(logging.ERROR, logger="meetings.emails"),
    ):
        for _attempt in range(40):
            email = OutgoingEmail.objects.get()
            if email.status != "queued":
                break
            with time_machine.travel(email.next_attempt_at or start, tick=False):
                send_queued_mail()

    email.refresh_from_db()
    assert email.status == "failed"
    assert email.next_attempt_at is None
    assert email.attempts > 20
    # Tried for at least a day: the last try came 24 hours or more after it was queued.
    assert email.last_error == "ConnectionRefusedError"
    assert (email.subject, email.text) == ("", "")  # the private link goes
    assert "Gave up on outgoing email" in caplog.text
    assert "ana@example.org" not in caplog.text
    assert mail.outbox == []


def test_an_address_refused_for_good_is_not_retried(send_queued_mail):
    rsvp_for(MeetingFactory(), email="nobody@example.org")
    refused = smtplib.SMTPRecipientsRefused({"nobody@example.org": (550, b"no such user")})

    with mock.patch(LOCMEM_SEND, side_effect=refused):
        send_queued_mail()

    email = OutgoingEmail.objects.get()
    assert (email.status, email.last_error) == ("failed", "SMTPRecipientsRefused 550")


def test_promoted_party_with_email_is_told(send_queued_mail):
    meeting = MeetingFactory(capacity=1)
    first = rsvp_for(meeting).rsvp
    rsvp_for(meeting, email="waiting@example.org", language="es")
    send_queued_mail()
    mail.outbox.clear()

    cancel_rsvp(rsvp=first)
    sent = send_queued_mail()

    assert [message.to for message in sent] == [["waiting@example.org"]]
    # Told in the language the RSVP was made in.
    assert "confirmada" in sent[0].subject


def test_queueing_never_opens_a_mail_connection(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    meeting = MeetingFactory()

    with mock.patch("smtplib.SMTP.connect", side_effect=AssertionError("connected")) as connect:
        rsvp_for(meeting, email="ana@example.org")

    connect.assert_not_called()
    assert OutgoingEmail.objects.get().status == "queued"


def test_cancelling_an_rsvp_withdraws_its_unsent_mail(send_queued_mail):
    result = rsvp_for(MeetingFactory(), first_name="Rosa", email="rosa@example.org")

    cancel_rsvp(rsvp=result.rsvp)

    assert send_queued_mail() == []
    assert list(OutgoingEmail.objects.values_list("status", "recipient", "text", "last_error")) == [
        ("withdrawn", "", "", "The RSVP was cancelled before it was sent.")
    ]


def test_staff_editing_an_rsvp_leaves_no_name_in_the_admin_history(admin_client):
    rsvp = rsvp_for(MeetingFactory(), first_name="Rosa", email="rosa@example.org").rsvp

    admin_client.post(
        reverse("admin:meetings_rsvp_change", args=[rsvp.pk]),
        {"first_name": "Rosalind", "email": "rosa@example.org", "language": "en", "note": "Hi"},
    )

    entry = LogEntry.objects.get()
    assert entry.object_repr == f"RSVP #{rsvp.pk}"
    assert "Ros" not in entry.change_message
    assert "rosa@" not in entry.change_message
