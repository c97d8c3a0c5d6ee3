import datetime as dt
import hashlib
import threading
import uuid
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.db import connections
from django.utils import timezone

from meetings.models import Meeting, OutgoingEmail, Rsvp
from meetings.services import (
    MeetingChange,
    RsvpError,
    RsvpOutcome,
    cancel_meeting,
    cancel_rsvp,
    create_rsvp,
    move_meeting,
    promote_waitlist,
    publish_meeting,
    save_meeting,
    update_rsvp,
)
from meetings.tokens import hash_token
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db


def rsvp_for(meeting, party_size=1, **kwargs):
    kwargs.setdefault("language", "en")
    return create_rsvp(meeting=meeting, party_size=party_size, **kwargs)


def statuses(meeting):
    return list(meeting.rsvps.order_by("pk").values_list("party_size", "status"))


CONFIRMED, WAITLISTED, CANCELLED = (
    Rsvp.Status.CONFIRMED,
    Rsvp.Status.WAITLISTED,
    Rsvp.Status.CANCELLED,
)


# Capacity and the waitlist.


def test_rsvp_that_fits_is_confirmed():
    meeting = MeetingFactory(capacity=5)

    result = rsvp_for(meeting, 5)

    assert result.outcome == RsvpOutcome.CONFIRMED
    assert result.rsvp.status == CONFIRMED


def test_rsvp_over_capacity_is_waitlisted():
    meeting = MeetingFactory(capacity=5)
    rsvp_for(meeting, 4)

    result = rsvp_for(meeting, 2)

    assert result.outcome == RsvpOutcome.WAITLISTED
    assert statuses(meeting) == [(4, CONFIRMED), (2, WAITLISTED)]


def test_rsvp_without_capacity_is_always_confirmed():
    meeting = MeetingFactory(capacity=None)

    results = [rsvp_for(meeting, 10) for _ in range(30)]

    assert {result.outcome for result in results} == {RsvpOutcome.CONFIRMED}


def test_waitlist_place_follows_arrival_order():
    meeting = MeetingFactory(capacity=1)
    rsvp_for(meeting)

    places = [rsvp_for(meeting).rsvp.waitlist_place for _ in range(3)]

    assert places == [1, 2, 3]


def test_cancel_promotes_the_first_waitlisted_party_that_fits():
    meeting = MeetingFactory(capacity=4)
    first = rsvp_for(meeting, 4).rsvp
    rsvp_for(meeting, 2)
    rsvp_for(meeting, 2)
    rsvp_for(meeting, 1)

    cancel_rsvp(rsvp=first)

    assert statuses(meeting) == [(4, CANCELLED), (2, CONFIRMED), (2, CONFIRMED), (1, WAITLISTED)]


def test_party_too_big_for_freed_seats_keeps_its_place_while_a_smaller_one_fits():
    meeting = MeetingFactory(capacity=4)
    two = rsvp_for(meeting, 2).rsvp
    rsvp_for(meeting, 2)
    big = rsvp_for(meeting, 3).rsvp
    small = rsvp_for(meeting, 1).rsvp

    cancel_rsvp(rsvp=two)

    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, big.waitlist_place) == (WAITLISTED, 1)
    assert small.status == CONFIRMED


def test_party_at_the_front_is_promoted_first_once_enough_seats_free():
    meeting = MeetingFactory(capacity=4)
    first = rsvp_for(meeting, 2).rsvp
    second = rsvp_for(meeting, 2).rsvp
    rsvp_for(meeting, 3)
    rsvp_for(meeting, 1)
    cancel_rsvp(rsvp=first)  # the 1 moves up; the 3 waits

    cancel_rsvp(rsvp=second)

    assert statuses(meeting) == [(2, CANCELLED), (2, CANCELLED), (3, CONFIRMED), (1, CONFIRMED)]


def test_new_rsvp_that_fits_beside_a_waiting_big_party_is_confirmed():
    meeting = MeetingFactory(capacity=4)
    rsvp_for(meeting, 3)
    rsvp_for(meeting, 3)

    result = rsvp_for(meeting, 1)

    assert result.outcome == RsvpOutcome.CONFIRMED


def test_smaller_party_frees_seats_for_the_waitlist():
    meeting = MeetingFactory(capacity=5)
    first = rsvp_for(meeting, 5).rsvp
    rsvp_for(meeting, 2)

    update_rsvp(rsvp=first, party_size=3, language="en")

    assert statuses(meeting) == [(3, CONFIRMED), (2, CONFIRMED)]


def test_bigger_party_within_free_seats_stays_confirmed():
    meeting = MeetingFactory(capacity=5)
    first = rsvp_for(meeting, 2).rsvp

    update_rsvp(rsvp=first, party_size=5, language="en")

    assert statuses(meeting) == [(5, CONFIRMED)]


def test_bigger_party_beyond_free_seats_is_refused_and_nothing_changes():
    meeting = MeetingFactory(capacity=5)
    first = rsvp_for(meeting, 2, first_name="Rosa").rsvp
    rsvp_for(meeting, 2)

    with pytest.raises(RsvpError) as raised:
        update_rsvp(rsvp=first, party_size=4, language="es", first_name="Ana")

    assert raised.value.code == "not_enough_seats"
    first.refresh_from_db()
    assert (first.party_size, first.language, first.first_name) == (2, "en", "Rosa")


def test_waitlisted_party_that_changes_keeps_its_place():
    meeting = MeetingFactory(capacity=1)
    rsvp_for(meeting)
    first_waiting = rsvp_for(meeting, 3).rsvp
    rsvp_for(meeting, 2)

    update_rsvp(rsvp=first_waiting, party_size=4, language="en", needs_childcare=True)

    first_waiting.refresh_from_db()
    assert (first_waiting.waitlist_place, first_waiting.needs_childcare) == (1, True)


def test_raising_capacity_promotes_the_waitlist():
    meeting = MeetingFactory(capacity=2)
    rsvp_for(meeting, 2)
    rsvp_for(meeting, 2)
    rsvp_for(meeting, 3)
    meeting.capacity = 6
    meeting.save()

    promoted = promote_waitlist(meeting=meeting)

    assert [rsvp.party_size for rsvp in promoted] == [2]
    assert statuses(meeting) == [(2, CONFIRMED), (2, CONFIRMED), (3, WAITLISTED)]


def test_lowering_capacity_keeps_confirmed_seats_and_waitlists_newcomers():
    meeting = MeetingFactory(capacity=10)
    rsvp_for(meeting, 6)
    meeting.capacity = 4
    meeting.save()

    result = rsvp_for(meeting, 1)

    assert statuses(meeting) == [(6, CONFIRMED), (1, WAITLISTED)]
    assert result.outcome == RsvpOutcome.WAITLISTED


def test_waitlist_is_not_promoted_once_the_meeting_has_started():
    meeting = MeetingFactory(capacity=1)
    first = rsvp_for(meeting).rsvp
    rsvp_for(meeting)

    with time_machine.travel(meeting.starts_at + dt.timedelta(minutes=5)):
        cancel_rsvp(rsvp=first, staff=True)

    assert statuses(meeting) == [(1, CANCELLED), (1, WAITLISTED)]


# When RSVPs are taken.


@pytest.mark.parametrize(
    "meeting_kwargs, code",
    [
        ({"status": Meeting.Status.CANCELLED}, "meeting_cancelled"),
        ({"status": Meeting.Status.DRAFT}, "rsvps_closed"),
        ({"rsvp_enabled": False}, "rsvps_closed"),
        ({"rsvp_closes_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "rsvps_closed"),
        (
            {
                "starts_at": dt.datetime(2020, 1, 1, 18, tzinfo=dt.UTC),
                "ends_at": dt.datetime(2020, 1, 1, 19, tzinfo=dt.UTC),
            },
            "rsvps_closed",
        ),
    ],
)
def test_rsvp_to_a_meeting_not_taking_rsvps_is_refused(meeting_kwargs, code):
    meeting = MeetingFactory(**meeting_kwargs)

    with pytest.raises(RsvpError) as raised:
        rsvp_for(meeting)

    assert raised.value.code == code
    assert not Rsvp.objects.exists()


def test_staff_may_add_an_rsvp_after_the_public_rsvps_close():
    meeting = MeetingFactory(rsvp_closes_at=timezone.now() - dt.timedelta(hours=1))

    result = rsvp_for(meeting, staff=True)

    assert result.outcome == RsvpOutcome.CONFIRMED


def test_staff_may_not_add_an_rsvp_to_a_cancelled_meeting():
    meeting = MeetingFactory(status=Meeting.Status.CANCELLED)

    with pytest.raises(RsvpError):
        rsvp_for(meeting, staff=True)


def test_public_cancel_after_the_meeting_started_is_refused():
    meeting = MeetingFactory()
    rsvp = rsvp_for(meeting).rsvp

    with (
        time_machine.travel(meeting.starts_at + dt.timedelta(minutes=1)),
        pytest.raises(RsvpError) as raised,
    ):
        cancel_rsvp(rsvp=rsvp)

    assert raised.value.code == "meeting_started"


# Tokens, duplicates and cancelling.


def test_only_the_token_hash_is_stored():
    result = rsvp_for(MeetingFactory())

    stored = Rsvp.objects.filter(pk=result.rsvp.pk).values().get()
    assert stored["token_hash"] == hash_token(result.token)
    assert result.token not in [str(value) for value in stored.values()]
    assert len(result.token) >= 43  # 32 bytes from secrets, URL-safe base64


def test_same_email_makes_a_second_rsvp_and_leaves_the_first_untouched():
    meeting = MeetingFactory(capacity=10)
    first = rsvp_for(meeting, 2, email="rosa@example.org", first_name="Rosa")

    second = rsvp_for(meeting, 3, email="ROSA@example.org", needs_childcare=True)

    assert second.outcome == RsvpOutcome.CONFIRMED
    assert second.rsvp.pk != first.rsvp.pk
    assert second.token != first.token
    first.rsvp.refresh_from_db()
    assert (first.rsvp.party_size, first.rsvp.first_name, first.rsvp.needs_childcare) == (
        2,
        "Rosa",
        False,
    )
    assert Rsvp.objects.by_token(first.token).get() == first.rsvp  # its link still works
    assert statuses(meeting) == [(2, CONFIRMED), (3, CONFIRMED)]


def test_same_email_tells_the_address_it_has_two_rsvps_with_the_new_link(send_queued_mail):
    meeting = MeetingFactory()
    rsvp_for(meeting, email="rosa@example.org")
    send_queued_mail()
    mail.outbox.clear()

    second = rsvp_for(meeting, email="rosa@example.org")
    (message,) = send_queued_mail()

    assert message.to == ["rosa@example.org"]
    assert "already has an RSVP to this meeting" in message.body
    assert second.token in message.body
    assert second.shares_email is True


def test_a_fresh_email_gets_no_word_of_another_rsvp(send_queued_mail):
    meeting = MeetingFactory()
    rsvp_for(MeetingFactory(), email="rosa@example.org")  # another meeting
    mail.outbox.clear()

    result = rsvp_for(meeting, email="rosa@example.org")
    message = send_queued_mail()[-1]

    assert "already has an RSVP" not in message.body
    assert result.shares_email is False


def test_same_form_sent_twice_makes_one_rsvp_with_the_same_link():
    meeting = MeetingFactory()
    key = uuid.uuid4()

    first = rsvp_for(meeting, submission_key=key)
    second = rsvp_for(meeting, 2, submission_key=key)

    assert second.outcome == RsvpOutcome.ALREADY_SENT
    assert (second.rsvp.pk, second.token) == (first.rsvp.pk, first.token)
    assert statuses(meeting) == [(1, CONFIRMED)]


def test_same_form_sent_again_after_ten_minutes_gets_no_link():
    meeting = MeetingFactory()
    key = uuid.uuid4()
    rsvp_for(meeting, submission_key=key)

    with time_machine.travel(dt.timedelta(minutes=11)), pytest.raises(RsvpError) as refused:
        rsvp_for(meeting, submission_key=key)

    assert refused.value.code == "form_already_sent"
    assert statuses(meeting) == [(1, CONFIRMED)]


def test_the_database_keeps_no_form_key_to_rebuild_a_link_from():
    meeting = MeetingFactory()
    key = uuid.uuid4()
    result = rsvp_for(meeting, email="rosa@example.org", submission_key=key)

    row = Rsvp.objects.filter(pk=result.rsvp.pk).values().get()

    stored = " ".join(str(value) for value in row.values())
    assert key.hex not in stored
    assert str(key) not in stored
    assert result.token not in stored
    assert row["submission_key_hash"] == hashlib.sha256(key.hex.encode()).hexdigest()


def test_cancel_erases_name_email_and_note():
    rsvp = rsvp_for(MeetingFactory(), first_name="Rosa", email="r@example.org", note="Hi").rsvp

    cancel_rsvp(rsvp=rsvp)

    rsvp.refresh_from_db()
    assert (rsvp.status, rsvp.first_name, rsvp.email, rsvp.note) == (CANCELLED, "", "", "")


def test_cancelling_twice_changes_nothing_the_second_time():
    meeting = MeetingFactory(capacity=1)
    rsvp = rsvp_for(meeting).rsvp
    cancel_rsvp(rsvp=rsvp)
    rsvp_for(meeting)

    cancel_rsvp(rsvp=rsvp)

    assert statuses(meeting) == [(1, CANCELLED), (1, CONFIRMED)]


# Staff changes reach people.


def test_cancelling_a_meeting_tells_each_rsvp_with_email_once(
    send_queued_mail,
):
    meeting = MeetingFactory(capacity=1)
    RsvpFactory(meeting=meeting, email="a@example.org", language="es")
    RsvpFactory(meeting=meeting, email="b@example.org", status=WAITLISTED)
    RsvpFactory(meeting=meeting, email="")
    RsvpFactory(meeting=meeting, email="gone@example.org", status=CANCELLED)

    saved = cancel_meeting(meeting=meeting, note="Storm warning.")
    send_queued_mail()

    assert saved.told == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.org", "b@example.org"]
    assert all("STATUS:CANCELLED" in m.attachments[0].content for m in mail.outbox)
    assert all("Storm warning." in m.body for m in mail.outbox)


def test_new_time_tells_rsvps_with_the_updated_calendar(send_queued_mail):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="a@example.org")
    meeting.starts_at += dt.timedelta(hours=1)
    meeting.ends_at += dt.timedelta(hours=1)

    save_meeting(meeting=meeting)
    send_queued_mail()

    (message,) = mail.outbox
    assert "new date or time" in message.body
    assert "SEQUENCE:1" in message.attachments[0].content


def test_new_venue_tells_rsvps(send_queued_mail):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="a@example.org")
    meeting.venue = VenueFactory(name="Library")

    save_meeting(meeting=meeting)
    send_queued_mail()

    assert "moved to a new place" in mail.outbox[0].body
    assert "Library" in mail.outbox[0].body


def test_change_of_description_tells_nobody(send_queued_mail):
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="a@example.org")
    meeting.description = "Bring questions."

    saved = save_meeting(meeting=meeting)
    send_queued_mail()

    assert (saved.told, mail.outbox) == (0, [])


def test_reinstating_a_cancelled_meeting_says_it_goes_ahead_after_all(
    send_queued_mail,
):
    meeting = MeetingFactory(title="Town hall")
    RsvpFactory(meeting=meeting, email="a@example.org")
    cancel_meeting(meeting=meeting)
    send_queued_mail()
    mail.outbox.clear()
    meeting.status = Meeting.Status.PUBLISHED

    saved = save_meeting(meeting=meeting)
    (message,) = send_queued_mail()
    assert saved.told == 1
    assert message.subject == "Going ahead after all: Town hall"
    assert "Good news: this meeting is going ahead after all." in message.body
    assert "STATUS:CONFIRMED" in message.attachments[0].content


def test_cancelling_a_meeting_that_has_ended_tells_nobody(send_queued_mail):
    meeting = MeetingFactory(
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2) + dt.timedelta(hours=1),
    )
    RsvpFactory(meeting=meeting, email="a@example.org")

    saved = cancel_meeting(meeting=meeting)
    send_queued_mail()

    assert (saved.told, mail.outbox) == (0, [])


def test_publishing_a_draft_tells_nobody_and_stamps_published_at(
    send_queued_mail,
):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)
    RsvpFactory(meeting=meeting, email="a@example.org")

    saved = publish_meeting(meeting=meeting)
    send_queued_mail()

    meeting.refresh_from_db()
    assert (saved.told, mail.outbox) == (0, [])
    assert meeting.is_published
    assert meeting.published_at is not None


def test_saving_a_meeting_with_more_seats_promotes_the_waitlist():
    meeting = MeetingFactory(capacity=1)
    rsvp_for(meeting)
    waiting = rsvp_for(meeting).rsvp
    meeting.capacity = 2

    saved = save_meeting(meeting=meeting)

    assert [rsvp.pk for rsvp in saved.promoted] == [waiting.pk]
    assert statuses(meeting) == [(1, CONFIRMED), (1, CONFIRMED)]


# Concurrency, on PostgreSQL: threads with their own connections race for the row lock.


def run_in_threads(functions):
    """Run the functions at once, each in its own thread and database connection."""
    barrier = threading.Barrier(len(functions))
    errors = []

    def run(function):
        try:
            barrier.wait()
            function()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# PostgreSQL allows 100 connections, shared with other test runs: 40 threads each send
# 3 RSVPs, 120 racing RSVPs in all.
THREADS, RSVPS_PER_THREAD = 40, 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rsvps_never_exceed_capacity_and_none_is_lost():
    meeting = MeetingFactory(capacity=20)

    def send_rsvps():
        for _ in range(RSVPS_PER_THREAD):
            rsvp_for(meeting, submission_key=uuid.uuid4())

    errors = run_in_threads([send_rsvps] * THREADS)

    assert errors == []
    confirmed, waitlisted = Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts
    assert confirmed == 20
    assert waitlisted == THREADS * RSVPS_PER_THREAD - 20
    assert Rsvp.objects.filter(meeting=meeting).count() == THREADS * RSVPS_PER_THREAD


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_mixed_party_sizes_never_exceed_capacity():
    meeting = MeetingFactory(capacity=20)

    def send_rsvps(size):
        return lambda: [rsvp_for(meeting, size) for _ in range(RSVPS_PER_THREAD)]

    errors = run_in_threads([send_rsvps(1 + n % 4) for n in range(THREADS)])

    assert errors == []
    confirmed = sum(
        Rsvp.objects.filter(meeting=meeting).confirmed().values_list("party_size", flat=True)
    )
    waiting = Rsvp.objects.filter(meeting=meeting).waitlisted()
    assert confirmed <= 20
    # First fit: nobody waits who would fit in the seats left.
    assert all(rsvp.party_size > 20 - confirmed for rsvp in waiting)
    assert Rsvp.objects.filter(meeting=meeting).count() == THREADS * RSVPS_PER_THREAD


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cancellations_racing_new_rsvps_keep_capacity_and_promote():
    meeting = MeetingFactory(capacity=20)
    confirmed = [rsvp_for(meeting).rsvp for _ in range(20)]
    waiting = [rsvp_for(meeting).rsvp for _ in range(10)]
    to_cancel = confirmed[:15] + waiting[:5]

    def cancel(rsvp):
        return lambda: cancel_rsvp(rsvp=rsvp)

    def send():
        rsvp_for(meeting)

    errors = run_in_threads([cancel(rsvp) for rsvp in to_cancel] + [send] * 20)

    assert errors == []
    rsvps = Rsvp.objects.filter(meeting=meeting)
    assert rsvps.count() == 30 + 20
    assert rsvps.filter(status=CANCELLED).count() == 20
    # 30 active parties of one for 20 seats: exactly 20 confirmed, the other 10 waiting.
    assert Meeting.objects.with_seat_counts().get(pk=meeting.pk).seat_counts == (20, 10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_from_many_threads_makes_one_rsvp():
    meeting = MeetingFactory(capacity=20)
    key = uuid.uuid4()
    tokens = []

    def send():
        tokens.append(rsvp_for(meeting, submission_key=key).token)

    errors = run_in_threads([send] * 10)

    assert errors == []
    assert Rsvp.objects.filter(meeting=meeting).count() == 1
    assert len(set(tokens)) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_email_from_many_threads_makes_an_rsvp_each_and_tells_all_but_the_first():
    meeting = MeetingFactory(capacity=20)

    def send():
        rsvp_for(meeting, email="rosa@example.org", submission_key=uuid.uuid4())

    errors = run_in_threads([send] * 10)

    assert errors == []
    assert Rsvp.objects.filter(meeting=meeting).count() == 10
    # Under the meeting's lock each one sees those before it: only the first is not told.
    told = [email.context.get("same_email") for email in OutgoingEmail.objects.order_by("pk")]
    assert told == [False] + [True] * 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_form_from_many_threads_makes_one_rsvp():
    meeting = MeetingFactory(capacity=20)
    key = uuid.uuid4()

    def send():
        rsvp_for(meeting, email="rosa@example.org", submission_key=key)

    errors = run_in_threads([send] * 10)

    assert errors == []
    assert Rsvp.objects.filter(meeting=meeting).count() == 1


# Moving this and all later meetings of a series (services.move_meeting)


@pytest.fixture
def weekly_series():
    """Three published weekly meetings at 19:00 in Chicago, each with one RSVP with an email;
    returns them freshly read (as staff's form would), soonest first."""
    series = MeetingSeriesFactory()
    venue = VenueFactory(name="Old library")
    first_day = timezone.localdate() + dt.timedelta(days=14)
    tz = zoneinfo.ZoneInfo("America/Chicago")
    for week in range(3):
        starts_at = dt.datetime.combine(first_day + dt.timedelta(weeks=week), dt.time(19), tz)
        meeting = MeetingFactory(
            series=series,
            venue=venue,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
        )
        RsvpFactory(meeting=meeting, email=f"week{week}@example.org")
    return list(Meeting.objects.filter(series=series).order_by("starts_at"))


def local_start(meeting):
    meeting.refresh_from_db()
    return meeting.local_starts_at.strftime("%a %H:%M")


def told_addresses(send_queued_mail):
    return sorted(address for message in send_queued_mail() for address in message.to)


def test_moving_a_meeting_with_later_moves_each_later_one_on_its_own_day_and_sums_the_counts(
    weekly_series, send_queued_mail
):
    first, second, third = weekly_series
    days = [local_start(meeting)[:3] for meeting in weekly_series]
    second.starts_at += dt.timedelta(minutes=30)
    second.ends_at += dt.timedelta(minutes=30)

    saved = move_meeting(meeting=second, with_later=True)

    assert [local_start(meeting) for meeting in weekly_series] == [
        f"{days[0]} 19:00",
        f"{days[1]} 19:30",
        f"{days[2]} 19:30",
    ]
    assert saved.moved_later == [third]
    assert saved.changes == {MeetingChange.TIME}
    # Both moved meetings' RSVPs are told, and the result says so.
    assert saved.told == 2
    assert told_addresses(send_queued_mail) == ["week1@example.org", "week2@example.org"]


def test_without_later_only_this_meeting_moves(weekly_series, send_queued_mail):
    _first, second, third = weekly_series
    second.starts_at += dt.timedelta(minutes=30)
    second.ends_at += dt.timedelta(minutes=30)
    second.venue = VenueFactory(name="New library")

    saved = move_meeting(meeting=second, with_later=False)

    third.refresh_from_db()
    assert (local_start(third)[4:], third.venue.name) == ("19:00", "Old library")
    assert (saved.moved_later, saved.told) == ([], 1)
    assert told_addresses(send_queued_mail) == ["week1@example.org"]


def test_a_new_venue_alone_moves_the_later_meetings_to_it(weekly_series, send_queued_mail):
    first, second, third = weekly_series
    new_venue = VenueFactory(name="New library")
    second.venue = new_venue

    saved = move_meeting(meeting=second, with_later=True)

    venues = [Meeting.objects.get(pk=meeting.pk).venue.name for meeting in weekly_series]
    assert venues == ["Old library", "New library", "New library"]
    assert local_start(third)[4:] == "19:00"
    assert (saved.changes, saved.told) == ({MeetingChange.VENUE}, 2)
    assert told_addresses(send_queued_mail) == ["week1@example.org", "week2@example.org"]


def test_cancelled_later_meetings_stay_where_they_were_and_tell_nobody(
    weekly_series, send_queued_mail
):
    _first, second, third = weekly_series
    cancel_meeting(meeting=third)
    send_queued_mail()
    mail.outbox.clear()
    second = Meeting.objects.get(pk=second.pk)
    second.venue = VenueFactory(name="New library")

    saved = move_meeting(meeting=second, with_later=True)

    third.refresh_from_db()
    assert (third.venue.name, third.status) == ("Old library", Meeting.Status.CANCELLED)
    assert (saved.moved_later, saved.told) == ([], 1)
    assert told_addresses(send_queued_mail) == ["week1@example.org"]


def test_a_meeting_moved_before_an_earlier_one_moves_no_earlier_meeting(
    weekly_series, send_queued_mail
):
    _first, second, third = weekly_series
    second_start = local_start(second)
    # The third meeting moves to the day before the second one: the second is not "later".
    third.starts_at -= dt.timedelta(days=8)
    third.ends_at -= dt.timedelta(days=8)
    third.venue = VenueFactory(name="New library")

    saved = move_meeting(meeting=third, with_later=True)

    second.refresh_from_db()
    assert (local_start(second), second.venue.name) == (second_start, "Old library")
    assert (saved.moved_later, saved.told) == ([], 1)
    assert told_addresses(send_queued_mail) == ["week2@example.org"]


def test_the_waitlist_promoted_in_every_moved_meeting_is_summed(weekly_series):
    _first, second, third = weekly_series
    # The third meeting is full, with a waitlist; its capacity was raised without a save.
    Meeting.objects.filter(pk=third.pk).update(capacity=1)
    waiting = RsvpFactory(meeting=third, status=Rsvp.Status.WAITLISTED, email="wait@example.org")
    Meeting.objects.filter(pk=third.pk).update(capacity=5)
    second.venue = VenueFactory(name="New library")

    saved = move_meeting(meeting=second, with_later=True)

    assert saved.promoted == [waiting]
    waiting.refresh_from_db()
    assert waiting.status == Rsvp.Status.CONFIRMED
