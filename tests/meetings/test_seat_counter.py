"""The confirmed-seat counter (models.MeetingSeats, kept by triggers on the RSVP table): it
equals the real sum after every kind of change, whichever code makes it, and the seat check
under the meeting's row lock reads it instead of summing the meeting's RSVPs."""

import datetime as dt
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.models import Meeting, MeetingSeats, Rsvp
from meetings.services import add_walk_in, cancel_rsvp, save_meeting, update_rsvp
from tests.factories import MeetingFactory, RsvpFactory
from tests.meetings.test_services import THREADS, rsvp_for, run_in_threads

pytestmark = pytest.mark.django_db


def counted(meeting):
    return MeetingSeats.objects.filter(meeting=meeting).values_list("seats", flat=True).first()


def real(meeting):
    return Rsvp.objects.filter(meeting=meeting, status=Rsvp.Status.CONFIRMED).aggregate(
        seats=Sum("party_size", default=0)
    )["seats"]


def test_the_counter_follows_every_kind_of_change():
    meeting = MeetingFactory(capacity=10)
    other = MeetingFactory(capacity=None)
    seen = []

    def check():
        seen.append((counted(meeting) or 0, real(meeting), counted(other) or 0, real(other)))

    first = rsvp_for(meeting, 4).rsvp  # a new RSVP through the form's service
    check()
    second = rsvp_for(meeting, 5).rsvp
    waiting = rsvp_for(meeting, 2).rsvp  # waitlisted: 9 of 10 seats taken
    check()
    update_rsvp(rsvp=second, party_size=3, language="en")  # smaller: the waitlist moves up
    check()
    cancel_rsvp(rsvp=first)
    check()
    add_walk_in(meeting=meeting, key=uuid.uuid4(), party_size=1, language="en")
    check()
    RsvpFactory(meeting=meeting, party_size=2)  # made outside the services (admin, tests)
    check()
    Rsvp.objects.filter(pk=waiting.pk).update(status=Rsvp.Status.CANCELLED)  # a bulk update
    check()
    second.meeting = other  # moved to another meeting (the admin allows it)
    second.save()
    check()
    meeting.capacity = 30
    save_meeting(meeting=meeting)
    Rsvp.objects.filter(pk=second.pk).delete()
    check()

    # (counter, real sum) of both meetings after each change.
    assert [(a, c) for a, _b, c, _d in seen] == [(b, d) for _a, b, _c, d in seen]
    assert seen[-1][1] > 0


def test_the_purge_keeps_the_counts():
    long_ago = timezone.now() - dt.timedelta(days=90)
    meeting = MeetingFactory(starts_at=long_ago, ends_at=long_ago + dt.timedelta(hours=1))
    RsvpFactory(meeting=meeting, party_size=3, first_name="Ana", email="ana@example.org")

    call_command("purge_rsvp_personal_data", verbosity=0)

    assert counted(meeting) == real(meeting) == 3


def test_the_seat_check_under_the_lock_reads_one_row_however_many_rsvps():
    def queries_of_one_rsvp(rsvps_before):
        meeting = MeetingFactory(capacity=1000)
        RsvpFactory.create_batch(rsvps_before, meeting=meeting)
        with CaptureQueriesContext(connection) as queries:
            rsvp_for(meeting)
        return [query["sql"] for query in queries.captured_queries]

    few, many = queries_of_one_rsvp(1), queries_of_one_rsvp(200)

    assert len(few) == len(many)
    # Nothing sums the meeting's RSVP rows while it holds the lock.
    assert not [sql for sql in many if "SUM(" in sql.upper() and "meetings_rsvp" in sql]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_counter_equals_the_real_sum_after_racing_rsvps_changes_and_cancellations():
    meeting = MeetingFactory(capacity=30)
    early = [rsvp_for(meeting, 2).rsvp for _ in range(10)]

    def send(size):
        return lambda: [rsvp_for(meeting, size) for _ in range(3)]

    def cancel(rsvp):
        return lambda: cancel_rsvp(rsvp=rsvp)

    def shrink(rsvp):
        return lambda: update_rsvp(rsvp=rsvp, party_size=1, language="en")

    errors = run_in_threads(
        [send(1 + n % 3) for n in range(THREADS - 10)]
        + [cancel(rsvp) for rsvp in early[:5]]
        + [shrink(rsvp) for rsvp in early[5:]]
    )

    assert errors == []
    assert counted(meeting) == real(meeting)
    assert real(meeting) <= 30
    assert Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts[0] == counted(meeting)


def test_the_triggers_are_there_after_every_migration():
    """On SQLite, Django rebuilds a table for most changes to it (a new table, the rows copied,
    the old one dropped), and the old table's triggers go with it: a later migration that
    alters meetings_rsvp must create them again (`create_triggers` of 0018_ops2_seat_counter)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'meetings_rsvp'"
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = 'meetings_rsvp'::regclass AND NOT tgisinternal"
            )
        names = {name for (name,) in cursor.fetchall()}

    assert {
        name.removesuffix("_insert").removesuffix("_delete").removesuffix("_update")
        for name in names
    } == {"meetings_rsvp_seat_counter"}
    assert len(names) == (3 if connection.vendor == "sqlite" else 1)
