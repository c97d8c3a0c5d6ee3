import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone, translation

from meetings.models import Meeting, Rsvp, Venue
from tests.factories import MeetingFactory, RsvpFactory, VenueFactory

pytestmark = pytest.mark.django_db


def test_published_excludes_drafts_and_keeps_cancelled():
    published = MeetingFactory(status=Meeting.Status.PUBLISHED)
    cancelled = MeetingFactory(status=Meeting.Status.CANCELLED)
    MeetingFactory(status=Meeting.Status.DRAFT)

    assert set(Meeting.objects.published()) == {published, cancelled}


def test_upcoming_keeps_meetings_not_yet_ended_soonest_first():
    now = timezone.now()
    later = MeetingFactory(starts_at=now + dt.timedelta(days=2))
    sooner = MeetingFactory(starts_at=now + dt.timedelta(days=1))
    ongoing = MeetingFactory(starts_at=now - dt.timedelta(minutes=30))
    MeetingFactory(starts_at=now - dt.timedelta(days=1))

    assert list(Meeting.objects.upcoming()) == [ongoing, sooner, later]


def test_past_keeps_ended_meetings_latest_first():
    now = timezone.now()
    older = MeetingFactory(starts_at=now - dt.timedelta(days=3))
    recent = MeetingFactory(starts_at=now - dt.timedelta(days=1))
    MeetingFactory(starts_at=now + dt.timedelta(days=1))

    assert list(Meeting.objects.past()) == [recent, older]


def test_in_language_matches_held_in_or_interpretation():
    spanish = MeetingFactory(language="es")
    interpreted = MeetingFactory(language="en", interpretation_languages=["es", "vi"])
    MeetingFactory(language="en", interpretation_languages=["vi"])

    assert set(Meeting.objects.in_language("es")) == {spanish, interpreted}


def test_search_finds_text_in_any_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")
    MeetingFactory(title_en="Other")

    assert list(Meeting.objects.search("asamblea")) == [meeting]


def test_with_seat_counts_sums_confirmed_parties_and_counts_waitlist():
    meeting = MeetingFactory(capacity=10)
    RsvpFactory(meeting=meeting, party_size=3)
    RsvpFactory(meeting=meeting, party_size=4)
    RsvpFactory(meeting=meeting, party_size=2, status=Rsvp.Status.WAITLISTED)
    RsvpFactory(meeting=meeting, party_size=5, status=Rsvp.Status.CANCELLED)
    empty = MeetingFactory()

    counted = {m.pk: m for m in Meeting.objects.with_seat_counts()}

    assert (counted[meeting.pk].confirmed_seats, counted[meeting.pk].waitlist_count) == (7, 1)
    assert (counted[empty.pk].confirmed_seats, counted[empty.pk].waitlist_count) == (0, 0)
    assert counted[meeting.pk].seats_left == 3


def test_seats_left_is_none_without_capacity():
    meeting = MeetingFactory(capacity=None)

    assert meeting.seats_left is None
    assert not meeting.is_full


def test_meeting_is_full_when_confirmed_seats_reach_capacity():
    meeting = MeetingFactory(capacity=4)
    RsvpFactory(meeting=meeting, party_size=4)

    assert Meeting.objects.with_seat_counts().get(pk=meeting.pk).is_full


@pytest.mark.parametrize(
    "field, value",
    [("starts_at", timezone.now() + dt.timedelta(hours=1)), ("title", "Moved title")],
)
def test_calendar_visible_change_raises_sequence(field, value):
    meeting = MeetingFactory()
    meeting = Meeting.objects.get(pk=meeting.pk)
    if field == "starts_at":
        meeting.ends_at = value + dt.timedelta(hours=1)

    setattr(meeting, field, value)
    meeting.save()

    assert Meeting.objects.get(pk=meeting.pk).sequence == 1


def test_venue_change_raises_sequence():
    meeting = Meeting.objects.get(pk=MeetingFactory().pk)

    meeting.venue = VenueFactory()
    meeting.save()

    assert Meeting.objects.get(pk=meeting.pk).sequence == 1


def test_saving_without_calendar_change_keeps_sequence():
    meeting = Meeting.objects.get(pk=MeetingFactory().pk)

    meeting.capacity = 50
    meeting.save()

    assert Meeting.objects.get(pk=meeting.pk).sequence == 0


def test_cancel_marks_cancelled_and_raises_sequence():
    meeting = Meeting.objects.get(pk=MeetingFactory().pk)

    meeting.cancel(note="Moved to next week")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.sequence == 1
    assert meeting.cancellation_note == "Moved to next week"


def test_publish_sets_first_published_time_once():
    meeting = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    meeting.publish()
    first = meeting.published_at
    meeting.publish()

    assert first is not None
    assert meeting.published_at == first


def test_ends_before_start_is_refused_by_the_database():
    meeting = MeetingFactory.build(venue=VenueFactory())
    meeting.ends_at = meeting.starts_at - dt.timedelta(minutes=1)

    with pytest.raises(IntegrityError):
        meeting.save()


def test_zero_capacity_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        MeetingFactory(capacity=0)


@pytest.mark.parametrize("party_size", [0, 11])
def test_party_size_out_of_range_is_refused_by_the_database(party_size):
    with pytest.raises(IntegrityError):
        RsvpFactory(party_size=party_size)


def test_rsvp_text_names_nobody():
    rsvp = RsvpFactory(first_name="Esperanza", email="esperanza@example.org", note="Ring twice")

    assert str(rsvp) == f"RSVP #{rsvp.pk}"


def test_rsvps_without_email_do_not_clash():
    meeting = MeetingFactory()
    RsvpFactory(meeting=meeting, email="")
    RsvpFactory(meeting=meeting, email="")

    assert meeting.rsvps.count() == 2


def test_local_times_use_the_venue_time_zone():
    venue = VenueFactory(time_zone="America/Los_Angeles")
    meeting = MeetingFactory(venue=venue, starts_at=dt.datetime(2025, 2, 12, 2, 30, tzinfo=dt.UTC))

    assert meeting.local_starts_at.isoformat() == "2025-02-11T18:30:00-08:00"
    assert meeting.local_date == dt.date(2025, 2, 11)


def test_translated_title_falls_back_to_english():
    meeting = MeetingFactory(title_en="Town hall", title_es="")

    with translation.override("es"):
        assert meeting.title == "Town hall"


def test_translated_title_uses_reader_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea")

    with translation.override("es"):
        assert meeting.title == "Asamblea"


def test_directions_link_points_to_a_map_site_with_the_address():
    venue = VenueFactory.build(
        name="Library", street_address="1 Main St", city="Dallas", postal_code="75201"
    )

    assert venue.full_address == "1 Main St, Dallas, TX 75201"
    assert venue.directions_url.startswith("https://www.openstreetmap.org/search?query=")
    assert "1+Main+St" in venue.directions_url


def test_renaming_a_venue_in_any_language_raises_its_meetings_sequence():
    meeting = MeetingFactory()
    venue = Venue.objects.get(pk=meeting.venue_id)
    before = Meeting.objects.get(pk=meeting.pk).updated_at

    venue.name_vi = "Thư viện"
    venue.save()

    meeting = Meeting.objects.get(pk=meeting.pk)
    assert meeting.sequence == 1
    assert meeting.updated_at > before  # the feeds' Last-Modified moves too


def test_saving_an_unchanged_venue_keeps_its_meetings_sequence():
    meeting = MeetingFactory()
    venue = Venue.objects.get(pk=meeting.venue_id)

    venue.save()

    assert Meeting.objects.get(pk=meeting.pk).sequence == 0


def test_in_feed_window_keeps_published_and_cancelled_from_90_days_back():
    now = timezone.now()
    recent = MeetingFactory(starts_at=now - dt.timedelta(days=89))
    MeetingFactory(starts_at=now - dt.timedelta(days=91))
    cancelled = MeetingFactory()
    cancelled.cancel()
    MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    kept = set(Meeting.objects.in_feed_window(now=now))

    assert kept == {recent, cancelled}


def test_visible_to_shows_drafts_to_staff_only(django_user_model):
    published = MeetingFactory()
    draft = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)
    staff = django_user_model(username="staff", is_staff=True)
    resident = django_user_model(username="resident")

    assert set(Meeting.objects.visible_to(staff)) == {published, draft}
    assert set(Meeting.objects.visible_to(resident)) == {published}


def test_saving_a_meeting_out_of_draft_stamps_published_at_once():
    meeting = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    meeting.publish()
    first = meeting.published_at
    meeting.cancel()
    meeting.status = Meeting.Status.PUBLISHED
    meeting.save()

    meeting.refresh_from_db()
    assert first is not None
    assert meeting.published_at == first


def test_cancel_saves_only_what_it_changes():
    meeting = MeetingFactory(title="Town hall")
    Meeting.objects.filter(pk=meeting.pk).update(title_en="Renamed elsewhere")

    meeting.cancel(note="Flooded.")

    meeting.refresh_from_db()
    assert (meeting.status, meeting.cancellation_note) == (Meeting.Status.CANCELLED, "Flooded.")
    assert meeting.title == "Renamed elsewhere"


@pytest.mark.parametrize(
    ("status", "starts_in", "can_change", "can_cancel"),
    [
        (Rsvp.Status.CONFIRMED, dt.timedelta(days=1), True, True),
        (Rsvp.Status.CANCELLED, dt.timedelta(days=1), False, False),
        (Rsvp.Status.WAITLISTED, -dt.timedelta(minutes=10), False, False),
    ],
)
def test_rsvp_may_be_changed_and_cancelled_until_the_meeting_starts(
    status, starts_in, can_change, can_cancel
):
    starts = timezone.now() + starts_in
    meeting = MeetingFactory.build(starts_at=starts, ends_at=starts + dt.timedelta(hours=1))
    rsvp = RsvpFactory.build(meeting=meeting, status=status)

    assert (rsvp.can_be_changed, rsvp.can_be_cancelled) == (can_change, can_cancel)
