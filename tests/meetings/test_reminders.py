"""Reminders before a meeting and the follow-up questions after it: each party once."""

import datetime as dt
import re
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from meetings.models import Meeting, Rsvp
from meetings.services import ask_for_feedback, send_reminders
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db


def soon(hours=10):
    start = timezone.now() + dt.timedelta(hours=hours)
    return {"starts_at": start, "ends_at": start + dt.timedelta(hours=1)}


def private_link(message):
    import re

    return re.search(r"https://outreach\.example\.org/(\w\w)/rsvp/([\w-]{43})/", message.body)


def test_reminder_goes_once_to_each_party_with_an_email_in_its_language(send_queued_mail):
    meeting = MeetingFactory(capacity=2, **soon())
    RsvpFactory(meeting=meeting, email="ana@example.org", language="es", party_size=2)
    RsvpFactory(
        meeting=meeting, email="lan@example.org", language="vi", status=Rsvp.Status.WAITLISTED
    )
    RsvpFactory(meeting=meeting)  # no email
    RsvpFactory(meeting=meeting, email="gone@example.org", status=Rsvp.Status.CANCELLED)

    first, second = send_reminders(), send_reminders()
    outbox = send_queued_mail()

    assert (first, second) == (2, 0)
    by_address = {message.to[0]: message for message in outbox}
    assert sorted(by_address) == ["ana@example.org", "lan@example.org"]
    assert by_address["ana@example.org"].subject.startswith("Recordatorio")
    assert "?cant-come=1#cancel" in by_address["ana@example.org"].body
    assert meeting.venue.directions_url in by_address["ana@example.org"].body
    with translation.override("vi"):
        assert "danh sách chờ" in by_address["lan@example.org"].body


@pytest.mark.parametrize(
    "meeting_kwargs",
    [
        {"status": Meeting.Status.CANCELLED},
        {"send_reminder": False},
        {"starts_at": timezone.now() - dt.timedelta(hours=1), "ends_at": timezone.now()},
        {
            "starts_at": timezone.now() + dt.timedelta(days=3),
            "ends_at": timezone.now() + dt.timedelta(days=3, hours=1),
        },
    ],
    ids=["cancelled", "reminders-off", "past", "too-far"],
)
def test_no_reminder_for_cancelled_past_or_far_meetings(meeting_kwargs):
    meeting = MeetingFactory(**{**soon(), **meeting_kwargs})
    RsvpFactory(meeting=meeting, email="ana@example.org")

    assert send_reminders() == 0


def test_reminder_link_opens_the_page_with_the_cancel_button_and_frees_the_seat(
    client, send_queued_mail
):
    meeting = MeetingFactory(capacity=2, **soon())
    ana = RsvpFactory(meeting=meeting, email="ana@example.org", language="es", party_size=2)
    waiting = RsvpFactory(meeting=meeting, status=Rsvp.Status.WAITLISTED)
    send_reminders()
    match = private_link(send_queued_mail()[0])
    language, token = match.groups()

    page = client.get(f"/{language}/rsvp/{token}/?cant-come=1")
    response = client.post(reverse("meetings:rsvp-cancel", kwargs={"token": token}))

    assert page.status_code == 200
    assert "Sí, cancelar mi reservación" in page.content.decode()
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.is_cancelled
    waiting.refresh_from_db()
    assert waiting.is_confirmed


@pytest.mark.parametrize("language", ["en", "es", "vi"])
def test_the_reminder_names_the_button_its_link_shows(client, send_queued_mail, language):
    meeting = MeetingFactory(**soon())
    RsvpFactory(meeting=meeting, email="ana@example.org", language=language)
    send_reminders()
    message = send_queued_mail()[0]
    link = re.search(
        r"https://outreach\.example\.org(/\w\w/rsvp/[\w-]{43}/\?cant-come=1)", message.body
    )

    named = re.search(r"“([^”]+)”", message.body)[1]
    page = client.get(link[1])

    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", page.content.decode())
    assert named in buttons, (named, buttons)


def test_opening_the_cant_come_link_changes_nothing(client, send_queued_mail):
    meeting = MeetingFactory(**soon())
    RsvpFactory(meeting=meeting, email="ana@example.org")
    send_reminders()
    language, token = private_link(send_queued_mail()[0]).groups()

    client.get(f"/{language}/rsvp/{token}/?cant-come=1")

    assert Rsvp.objects.get().is_confirmed


def test_send_reminders_command_reports_what_it_queued():
    from io import StringIO

    RsvpFactory(meeting=MeetingFactory(**soon()), email="ana@example.org")
    out = StringIO()

    call_command("send_reminders", stdout=out)

    assert out.getvalue().strip() == (
        "Queued 1 reminder(s), 0 follow-up question email(s) and 0 alert digest(s)."
    )


def test_follow_up_questions_go_once_after_the_meeting(client, send_queued_mail):
    ended = timezone.now() - dt.timedelta(hours=3)
    meeting = MeetingFactory(starts_at=ended - dt.timedelta(hours=1), ends_at=ended)
    RsvpFactory(meeting=meeting, email="ana@example.org", language="es")
    RsvpFactory(meeting=meeting, email="done@example.org", feedback_given=True)

    assert (ask_for_feedback(), ask_for_feedback()) == (1, 0)
    message = send_queued_mail()[0]
    language, token = private_link(message).groups()
    page = client.get(f"/{language}/rsvp/{token}/")

    assert message.to == ["ana@example.org"]
    assert "#feedback" in message.body
    assert "¿Se sintió bienvenido" in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_remind_each_party_exactly_once():
    meeting = MeetingFactory(**soon())
    for number in range(30):
        RsvpFactory(meeting=meeting, email=f"p{number}@example.org")
    counts = []

    def run():
        try:
            counts.append(send_reminders())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    from meetings.models import OutgoingEmail

    assert sum(counts) == 30
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.RSVP_REMINDER).count() == 30
    assert Rsvp.objects.filter(reminded_at__isnull=True).count() == 0
