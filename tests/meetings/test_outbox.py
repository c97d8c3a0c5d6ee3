"""The outbox: a message is sent once by the worker, retried with a growing delay, given up on,
and erased, whatever the channel; the task names only row ids. (Against a real SMTP server:
test_mail_backend.py.)"""

import logging
import smtplib
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from meetings import emails, outbox
from meetings.models import OutgoingEmail, Rsvp
from meetings.outbox import Delivery
from meetings.services import create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

CONFIRMED = Rsvp.Status.CONFIRMED
LOCMEM_SEND = "django.core.mail.backends.locmem.EmailBackend.send_messages"


def rsvp_for(meeting, party_size=1, **kwargs):
    kwargs.setdefault("language", "en")
    return create_rsvp(meeting=meeting, party_size=party_size, **kwargs)


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
    outbox.send_queued_email.enqueue([email.pk])

    send_queued_mail()
    assert outbox.deliver(email.pk, send=emails.send) == Delivery.SKIPPED

    assert [message.to for message in mail.outbox] == [["ana@example.org"]]


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

    assert outbox.deliver(email.pk, send=emails.send) == Delivery.SKIPPED
    with time_machine.travel(email.next_attempt_at, tick=False):
        send_queued_mail()

    assert [message.to for message in mail.outbox] == [["ana@example.org"]]


def test_after_a_day_of_failures_the_message_is_marked_failed(send_queued_mail, caplog):
    rsvp_for(MeetingFactory(), email="ana@example.org")
    start = timezone.now()

    with (
        mock.patch(LOCMEM_SEND, side_effect=ConnectionRefusedError),
        caplog.at_level(logging.ERROR, logger="meetings.outbox"),
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


def test_queueing_never_opens_a_mail_connection(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    meeting = MeetingFactory()

    with mock.patch("smtplib.SMTP.connect", side_effect=AssertionError("connected")) as connect:
        rsvp_for(meeting, email="ana@example.org")

    connect.assert_not_called()
    assert OutgoingEmail.objects.get().status == "queued"


# The rules hold for any channel: a sender is whatever callable settings.OUTBOX_SENDERS names.


def text_message_sender(sent):
    """A second channel as the outbox sees it: a callable taking the row."""

    def send(row):
        sent.append((row.pk, row.recipient))

    return send


def failing_sender(failure):
    def send(row):
        raise failure

    return send


def queued_rows(count):
    meeting = MeetingFactory()
    for number in range(count):
        rsvp_for(meeting, email=f"resident{number}@example.org")
    return list(OutgoingEmail.objects.order_by("pk").values_list("pk", flat=True))


def test_another_channels_sender_gets_each_row_once_and_the_row_is_erased():
    (row_id,) = queued_rows(1)
    sent = []

    first = outbox.deliver(row_id, send=text_message_sender(sent))
    second = outbox.deliver(row_id, send=text_message_sender(sent))

    assert (first, second) == (Delivery.SENT, Delivery.SKIPPED)
    assert sent == [(row_id, "resident0@example.org")]
    row = OutgoingEmail.objects.get()
    assert (row.status, row.recipient, row.text, row.attempts) == ("sent", "", "", 1)


def test_a_failure_the_sender_says_not_to_retry_is_given_up_at_once_keeping_the_address():
    (row_id,) = queued_rows(1)

    result = outbox.deliver(
        row_id, send=failing_sender(outbox.SendFailed("Unknown number 21211", retry=False))
    )

    assert result == Delivery.FAILED
    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error, row.recipient, row.text, row.next_attempt_at) == (
        "failed",
        "Unknown number 21211",
        "resident0@example.org",
        "",
        None,
    )


def test_an_unexpected_error_in_a_sender_is_retried_under_its_class_name_only(caplog):
    (row_id,) = queued_rows(1)
    start = timezone.now()

    with time_machine.travel(start, tick=False), caplog.at_level(logging.WARNING):
        result = outbox.deliver(row_id, send=failing_sender(KeyError("resident0@example.org")))

    assert result == Delivery.QUEUED
    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error, row.next_attempt_at - start) == (
        "queued",
        "KeyError",
        outbox.retry_delay(1),
    )
    assert outbox.retry_delay(1).total_seconds() == 60
    assert "KeyError" in caplog.text
    assert "resident0@example.org" not in caplog.text


def test_an_unreachable_server_holds_back_the_rest_of_the_batch_untried():
    row_ids = queued_rows(3)
    tried = []

    def unreachable(row):
        tried.append(row.pk)
        raise outbox.SendFailed("ConnectionRefusedError", unreachable=True)

    outbox.send_all(row_ids, send=unreachable)

    assert tried == row_ids[:1]
    rows = list(
        OutgoingEmail.objects.order_by("pk").values_list("status", "attempts", "last_error")
    )
    assert rows == [
        ("queued", 1, "ConnectionRefusedError"),
        ("queued", 0, "Not tried: the server was unreachable."),
        ("queued", 0, "Not tried: the server was unreachable."),
    ]
    waits = set(OutgoingEmail.objects.values_list("next_attempt_at", flat=True))
    assert len(waits) == 1  # all three wait as long as the one that failed


def test_the_worker_sends_each_row_through_the_sender_settings_name(settings, send_queued_mail):
    settings.OUTBOX_SENDERS = {"email": "django.core.mail.mail_admins"}  # not a row sender
    queued_rows(1)

    send_queued_mail()

    # mail_admins(row) fails on a row (it wants a subject and a message): the row says so,
    # which shows the worker called the named sender and not the email channel's.
    row = OutgoingEmail.objects.get()
    assert (row.status, row.last_error) == ("queued", "TypeError")
    assert mail.outbox == []


def test_a_task_queued_before_the_outbox_split_still_sends(send_queued_mail):
    """Tasks in the database name their function's path: the old one keeps working."""
    rsvp_for(MeetingFactory(), email="ana@example.org")
    DBTaskResult.objects.update(task_path="meetings.emails.send_queued_email")

    sent = send_queued_mail()

    assert [message.to for message in sent] == [["ana@example.org"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
