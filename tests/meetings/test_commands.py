import datetime as dt
import io

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from meetings.models import Meeting, OutgoingEmail, Rsvp
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db

PERSONAL = {"first_name": "Rosa", "email": "rosa@example.org", "note": "Two kids"}


def ended_meeting(days_ago):
    ends = timezone.now() - dt.timedelta(days=days_ago)
    return MeetingFactory(starts_at=ends - dt.timedelta(hours=2), ends_at=ends, capacity=10)


def purge(*args):
    out = io.StringIO()
    call_command("purge_rsvp_personal_data", *args, stdout=out)
    return out.getvalue()


def test_purge_leaves_no_personal_field_of_old_rsvps():
    meeting = ended_meeting(days_ago=31)
    RsvpFactory(meeting=meeting, **PERSONAL)
    RsvpFactory(meeting=meeting, status=Rsvp.Status.WAITLISTED, **PERSONAL | {"email": "b@x.org"})

    purge()

    assert not Rsvp.objects.filter(~Q(first_name="") | ~Q(email="") | ~Q(note="")).exists()
    assert not Rsvp.objects.filter(personal_data_erased_at=None).exists()
    assert not Rsvp.objects.exclude(submission_key_hash=None).exists()


def test_purge_keeps_the_counts():
    meeting = ended_meeting(days_ago=31)
    RsvpFactory(meeting=meeting, party_size=3, needs_childcare=True, **PERSONAL)
    RsvpFactory(meeting=meeting, party_size=2, status=Rsvp.Status.WAITLISTED)
    before = Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts
    needs_before = Rsvp.objects.filter(meeting=meeting).needs_summary()

    purge()

    assert Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts == before == (3, 1)
    assert Rsvp.objects.filter(meeting=meeting).needs_summary() == needs_before


def test_purge_keeps_rsvps_of_recent_and_upcoming_meetings(settings):
    settings.RSVP_RETENTION_DAYS = 30
    recent = RsvpFactory(meeting=ended_meeting(days_ago=29), **PERSONAL)
    upcoming = RsvpFactory(**PERSONAL | {"email": "u@example.org"})

    purge()

    recent.refresh_from_db()
    upcoming.refresh_from_db()
    assert (recent.first_name, upcoming.first_name) == ("Rosa", "Rosa")


def test_purge_follows_the_retention_setting(settings):
    settings.RSVP_RETENTION_DAYS = 7
    rsvp = RsvpFactory(meeting=ended_meeting(days_ago=8), **PERSONAL)

    output = purge()

    rsvp.refresh_from_db()
    assert rsvp.email == ""
    assert output.strip() == (
        "Erased the personal data of 1 RSVP(s) of meetings that ended more than 7 day(s) ago."
    )


def test_purge_twice_changes_nothing_the_second_time():
    RsvpFactory(meeting=ended_meeting(days_ago=40), **PERSONAL)
    purge()
    after_first = list(Rsvp.objects.values())

    output = purge()

    assert list(Rsvp.objects.values()) == after_first
    assert "Erased the personal data of 0 RSVP(s)" in output


def test_purge_dry_run_changes_nothing():
    rsvp = RsvpFactory(meeting=ended_meeting(days_ago=40), **PERSONAL)

    output = purge("--dry-run")

    rsvp.refresh_from_db()
    assert rsvp.email == PERSONAL["email"]
    assert output.startswith("Would erase the personal data of 1 RSVP(s)")


def test_purge_erases_the_outbox_messages_of_old_rsvps(send_queued_mail):
    meeting = ended_meeting(days_ago=31)
    sent = RsvpFactory(meeting=meeting, **PERSONAL)
    queued = RsvpFactory(meeting=meeting, **PERSONAL | {"email": "luis@example.org"})
    OutgoingEmail.objects.create(
        kind="rsvp_confirmation", language="en", rsvp=sent, status="sent", message_id="<1@x>"
    )
    OutgoingEmail.objects.create(
        kind="rsvp_confirmation",
        language="en",
        rsvp=queued,
        recipient="luis@example.org",
        subject="You are confirmed",
        text="Hello Rosa",
        message_id="<2@x>",
    )

    purge()

    assert list(OutgoingEmail.objects.values_list("status", "recipient", "subject", "text")) == [
        ("withdrawn", "", "", ""),
        ("sent", "", "", ""),
    ]
    assert send_queued_mail() == []


def test_purge_names_old_rsvps_in_the_admin_history_by_number_only():
    meeting = ended_meeting(days_ago=31)
    old = RsvpFactory(meeting=meeting, **PERSONAL)
    recent = RsvpFactory(meeting=MeetingFactory(), **PERSONAL)
    staff = User.objects.create_user("clerk")
    for rsvp in (old, recent):
        # As Django's admin wrote them before RSVPs stopped showing names.
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(Rsvp),
            object_id=str(rsvp.pk),
            object_repr=f"Rosa (1) — {meeting}",
            action_flag=CHANGE,
            change_message='[{"changed": {"fields": ["Note"]}}]',
        )

    purge()

    assert dict(LogEntry.objects.values_list("object_id", "object_repr")) == {
        str(old.pk): f"RSVP #{old.pk}",
        str(recent.pk): f"Rosa (1) — {meeting}",
    }
