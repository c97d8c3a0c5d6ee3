"""The calendar feed and file views: which meetings, HTTP caching, query counts."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.http import http_date

from meetings.models import Meeting
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory
from tests.meetings.calendars import (
    events_by_uid,
    feed_url,
    parse,
    uid,
)

pytestmark = pytest.mark.django_db


# --- Which meetings ----------------------------------------------------------------------


def test_feed_omits_drafts(client):
    published = MeetingFactory()
    MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    events = events_by_uid(client.get(feed_url()).content)

    assert list(events) == [uid(published)]


def test_feed_covers_meetings_from_90_days_back(client):
    now = timezone.now()
    recent = MeetingFactory(starts_at=now - dt.timedelta(days=89))
    MeetingFactory(starts_at=now - dt.timedelta(days=91))
    upcoming = MeetingFactory(starts_at=now + dt.timedelta(days=400))

    events = events_by_uid(client.get(feed_url()).content)

    assert set(events) == {uid(recent), uid(upcoming)}


def test_cancelled_meeting_stays_in_feed(client):
    meeting = MeetingFactory(title="Town hall")
    meeting.cancel(note="The gym is flooded.")

    event = events_by_uid(client.get(feed_url()).content)[uid(meeting)]

    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == "Cancelled: Town hall"
    assert str(event["DESCRIPTION"]).startswith("This meeting is cancelled.\nThe gym is flooded.\n")


def test_venue_feed_has_only_that_venues_meetings(client):
    venue = VenueFactory(name="Library")
    here = MeetingFactory(venue=venue)
    MeetingFactory()

    content = client.get(feed_url("feed-venue", slug=venue.slug)).content

    assert list(events_by_uid(content)) == [uid(here)]
    assert str(parse(content)["X-WR-CALNAME"]) == "Police community meetings at Library"


def test_venue_feed_uses_venue_time_zone_for_calendar(client):
    venue = VenueFactory(time_zone="America/Los_Angeles")
    MeetingFactory(venue=venue)

    calendar = parse(client.get(feed_url("feed-venue", slug=venue.slug)).content)

    assert str(calendar["X-WR-TIMEZONE"]) == "America/Los_Angeles"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Los_Angeles"]


def test_series_feed_has_only_that_series_meetings(client):
    series = MeetingSeriesFactory(title="Sessions with the Chief")
    in_series = MeetingFactory(series=series)
    MeetingFactory()

    content = client.get(feed_url("feed-series", slug=series.slug)).content

    assert list(events_by_uid(content)) == [uid(in_series)]
    assert str(parse(content)["X-WR-CALNAME"]) == (
        "Sessions with the Chief: police community meetings"
    )


def test_language_feed_has_meetings_held_in_or_interpreted_into_it(client):
    held_in = MeetingFactory(language="vi")
    interpreted = MeetingFactory(language="en", interpretation_languages=["es", "vi"])
    MeetingFactory(language="en", interpretation_languages=["es"])

    content = client.get(feed_url("feed-language", code="vi")).content

    assert set(events_by_uid(content)) == {uid(held_in), uid(interpreted)}
    assert str(parse(content)["X-WR-CALNAME"]) == "Police community meetings in Vietnamese"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("feed-venue", {"slug": "no-such-venue"}),
        ("feed-series", {"slug": "no-such-series"}),
        ("feed-language", {"code": "xx"}),
        ("meeting-ics", {"slug": "no-such-meeting"}),
    ],
)
def test_unknown_feed_is_404(client, name, kwargs):
    response = client.get(feed_url(name, **kwargs))

    assert response.status_code == 404


def test_venue_without_meetings_gives_empty_feed(client):
    venue = VenueFactory()

    response = client.get(feed_url("feed-venue", slug=venue.slug))

    assert response.status_code == 200
    assert parse(response.content).walk("VEVENT") == []


# --- HTTP ------------------------------------------------------------------------------------


def test_feed_has_strong_etag_last_modified_and_public_cache_control(client):
    meeting = MeetingFactory()

    response = client.get(feed_url())

    assert response["ETag"].startswith('"')
    assert response["Last-Modified"] == http_date(meeting.updated_at.timestamp())
    assert response["Cache-Control"] == "public, max-age=900"


def test_feed_answers_304_to_matching_etag_without_a_query(client, django_assert_num_queries):
    MeetingFactory.create_batch(3)
    etag = client.get(feed_url())["ETag"]

    with django_assert_num_queries(0):
        response = client.get(feed_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_feed_answers_304_to_if_modified_since(client):
    MeetingFactory()
    last_modified = client.get(feed_url())["Last-Modified"]

    response = client.get(feed_url(), HTTP_IF_MODIFIED_SINCE=last_modified)

    assert response.status_code == 304


def test_feed_etag_changes_when_a_meeting_changes(client):
    meeting = MeetingFactory(title="Town hall")
    etag = client.get(feed_url())["ETag"]

    meeting.title = "Town hall (new room)"
    meeting.save()
    response = client.get(feed_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag


def test_feed_etag_changes_when_the_venue_changes(client):
    meeting = MeetingFactory(venue=VenueFactory(name="Old name", street_address="1 Elm St"))
    etag = client.get(feed_url())["ETag"]

    meeting.venue.name = "New name"
    meeting.venue.save()
    response = client.get(feed_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    event = events_by_uid(response.content)[uid(meeting)]
    assert str(event["LOCATION"]) == "New name, 1 Elm St, Dallas, TX 75201"


def test_feed_etag_differs_by_language(client):
    MeetingFactory()

    english = client.get(feed_url(language="en"))["ETag"]
    spanish = client.get(feed_url(language="es"))["ETag"]

    assert english != spanish


def test_feed_answers_head(client):
    MeetingFactory()
    get = client.get(feed_url())

    response = client.head(feed_url())

    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == get["ETag"]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"


def test_feed_refuses_post(client):
    response = client.post(feed_url())

    assert response.status_code == 405


def test_feed_same_bytes_for_same_data(client):
    MeetingFactory.create_batch(3)

    first = client.get(feed_url()).content
    second = client.get(feed_url()).content

    assert first == second


def create_meetings(count):
    venue = VenueFactory()
    series = MeetingSeriesFactory()
    start = timezone.now() + dt.timedelta(days=1)
    Meeting.objects.bulk_create(
        Meeting(
            venue=venue,
            series=series if n % 2 else None,
            title=f"Meeting {n}",
            slug=f"bulk-meeting-{n}",
            starts_at=start + dt.timedelta(hours=n),
            ends_at=start + dt.timedelta(hours=n, minutes=90),
            status=Meeting.Status.PUBLISHED,
            published_at=start,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("count", [5, 500])
def test_feed_query_count_does_not_grow_with_meetings(client, django_assert_num_queries, count):
    create_meetings(count)

    # Fingerprint, meetings, venues, series.
    with django_assert_num_queries(4):
        response = client.get(feed_url())

    assert len(parse(response.content).walk("VEVENT")) == count


@pytest.mark.parametrize("count", [5, 500])
def test_venue_feed_query_count_does_not_grow_with_meetings(
    client, django_assert_num_queries, count
):
    create_meetings(count)
    venue = Meeting.objects.first().venue

    with django_assert_num_queries(5):
        response = client.get(feed_url("feed-venue", slug=venue.slug))

    assert response.status_code == 200
    assert len(parse(response.content).walk("VEVENT")) == count  # all at the one venue


# --- One meeting's file ----------------------------------------------------------------------


def test_meeting_file_is_an_attachment_with_one_event(client):
    meeting = MeetingFactory(slug="town-hall")

    response = client.get(feed_url("meeting-ics", slug="town-hall"))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="town-hall.ics"'
    assert list(events_by_uid(response.content)) == [uid(meeting)]


def test_meeting_file_does_not_open_as_a_separate_calendar(client):
    meeting = MeetingFactory()

    calendar = parse(client.get(feed_url("meeting-ics", slug=meeting.slug)).content)

    assert "X-WR-CALNAME" not in calendar
    assert "NAME" not in calendar
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_meeting_file_of_cancelled_meeting_says_cancelled(client):
    meeting = MeetingFactory()
    meeting.cancel()

    event = events_by_uid(client.get(feed_url("meeting-ics", slug=meeting.slug)).content)[
        uid(meeting)
    ]

    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_meeting_file_of_draft_is_404(client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)

    response = client.get(feed_url("meeting-ics", slug=meeting.slug))

    assert response.status_code == 404


def test_meeting_file_answers_304_to_matching_etag(client):
    meeting = MeetingFactory()
    etag = client.get(feed_url("meeting-ics", slug=meeting.slug))["ETag"]

    response = client.get(feed_url("meeting-ics", slug=meeting.slug), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
