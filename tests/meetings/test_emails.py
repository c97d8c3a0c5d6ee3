"""Each message: what it says, in which language, with which attachment, and that it is put
in the outbox in the change's transaction (sending, retrying and erasing: test_outbox.py)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from meetings.models import OutgoingEmail, Rsvp
from meetings.services import cancel_rsvp, create_rsvp
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

CONFIRMED = Rsvp.Status.CONFIRMED


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


def test_each_message_has_its_own_message_id(send_queued_mail):
    meeting = MeetingFactory()
    rsvp_for(meeting, email="ana@example.org")
    rsvp_for(meeting, email="luis@example.org")

    sent = send_queued_mail()

    ids = [message.extra_headers["Message-ID"] for message in sent]
    assert len(set(ids)) == 2
    assert all(value.endswith("@outreach.example.org>") for value in ids)


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
