"""Calendar feeds and files as calendar apps read them, and the Atom feed."""

import datetime as dt
import functools
import json
import os
import shutil
import subprocess
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date
from icalendar import Calendar

from meetings import feeds
from meetings.models import Meeting, Venue
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory

pytestmark = pytest.mark.django_db

HOST = "outreach.example.org"  # settings.SITE_URL in tests/conftest.py
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
JS_DIR = Path(__file__).resolve().parents[1] / "js"


def uid(meeting):
    return f"meeting-{meeting.pk}@{HOST}"


def feed_url(name="feed-all", language="en", **kwargs):
    with translation.override(language):
        return reverse(f"meetings:{name}", kwargs=kwargs or None)


def parse(content):
    return Calendar.from_ical(content)


def events_by_uid(content):
    return {str(event["UID"]): event for event in parse(content).walk("VEVENT")}


def unfolded(content):
    return content.replace(b"\r\n ", b"")


def next_year_at(month, day, hour, minute=0, tz=CHICAGO, years_ahead=1):
    """A wall-clock time next year in `tz`: January is standard time, July daylight time."""
    year = timezone.now().year + years_ahead
    return dt.datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(dt.UTC)


def local(hour, minute=0):
    return dt.time(hour, minute)


# --- The calendar as a whole -------------------------------------------------------------


def test_feed_is_utf8_text_calendar(client):
    MeetingFactory()

    response = client.get(feed_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"


def test_feed_has_calendar_properties(client):
    MeetingFactory()

    content = client.get(feed_url()).content
    calendar = parse(content)

    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == feeds.PRODID
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["NAME"]) == "Police community meetings"
    assert str(calendar["X-WR-CALNAME"]) == "Police community meetings"
    assert str(calendar["X-WR-CALDESC"]) == (
        "Meetings between the police department and the communities it serves"
    )
    assert str(calendar["X-WR-TIMEZONE"]) == "America/Chicago"


def test_feed_refresh_hints_are_proper_durations(client):
    MeetingFactory()

    lines = unfolded(client.get(feed_url()).content).split(b"\r\n")

    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines
    assert b"X-PUBLISHED-TTL:PT1H" in lines


def test_feed_lines_end_in_crlf_without_bom(client):
    MeetingFactory(description="Line one\nLine two")

    content = client.get(feed_url()).content

    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert content.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in content.replace(b"\r\n", b"")
    assert b"\r" not in content.replace(b"\r\n", b"")


def test_feed_is_not_compressed(client):
    MeetingFactory()

    response = client.get(feed_url(), HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in response
    assert response.content.startswith(b"BEGIN:VCALENDAR")


# --- Each event ----------------------------------------------------------------------------


def test_event_has_every_property_calendar_apps_use(client):
    venue = VenueFactory(
        name="Oak Cliff Recreation Center",
        street_address="100 Sample Street",
        postal_code="75208",
        latitude=Decimal("32.745000"),
        longitude=Decimal("-96.827000"),
        accessibility_notes="Ramp at the main entrance.",
    )
    series = MeetingSeriesFactory(title="Sessions with the Chief")
    meeting = MeetingFactory(
        venue=venue,
        series=series,
        title="Community conversation",
        summary="Questions and answers.",
        host="Interim Chief of Police",
        language="es",
        interpretation_languages=["en"],
        starts_at=next_year_at(7, 15, 18, 30),
        ends_at=next_year_at(7, 15, 20),
    )

    event = events_by_uid(client.get(feed_url()).content)[uid(meeting)]

    assert event.start == meeting.starts_at.astimezone(CHICAGO)
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event.end == meeting.ends_at.astimezone(CHICAGO)
    assert str(event["SUMMARY"]) == "Community conversation"
    assert str(event["DESCRIPTION"]) == (
        "Questions and answers.\n"
        "In Spanish · Interpretation into English\n"
        "Hosted by: Interim Chief of Police\n"
        "Part of: Sessions with the Chief\n"
        "Accessibility: Ramp at the main entrance.\n"
        f"Details: https://{HOST}/en/meetings/{meeting.slug}/"
    )
    assert str(event["LOCATION"]) == (
        "Oak Cliff Recreation Center, 100 Sample Street, Dallas, TX 75208"
    )
    assert (event["GEO"].latitude, event["GEO"].longitude) == (32.745, -96.827)
    assert str(event["URL"]) == f"https://{HOST}/en/meetings/{meeting.slug}/"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == meeting.sequence
    assert event["CREATED"].dt == meeting.created_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == meeting.updated_at.replace(microsecond=0)
    assert event["DTSTAMP"].dt == meeting.updated_at.replace(microsecond=0)


def test_event_without_coordinates_has_no_geo(client):
    meeting = MeetingFactory(venue=VenueFactory(latitude=None, longitude=None))

    event = events_by_uid(client.get(feed_url()).content)[uid(meeting)]

    assert "GEO" not in event


def test_event_has_no_organizer_or_attendee(client):
    MeetingFactory(host="Interim Chief of Police")

    content = unfolded(client.get(feed_url()).content)

    assert b"ORGANIZER" not in content
    assert b"ATTENDEE" not in content


def test_event_uid_comes_from_id_and_site_host_not_slug(client, settings):
    meeting = MeetingFactory(slug="town-hall")
    settings.SITE_URL = "https://calendar.example.net"

    events = events_by_uid(client.get(feed_url()).content)

    assert list(events) == [f"meeting-{meeting.pk}@calendar.example.net"]


def test_feed_text_follows_language_prefix(client):
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")

    event = events_by_uid(client.get(feed_url(language="es")).content)[uid(meeting)]

    assert str(event["SUMMARY"]) == "Asamblea comunitaria"
    assert str(event["URL"]) == f"https://{HOST}/es/meetings/{meeting.slug}/"


def test_feed_text_falls_back_to_english(client):
    meeting = MeetingFactory(title_en="Town hall", title_vi="")

    event = events_by_uid(client.get(feed_url(language="vi")).content)[uid(meeting)]

    assert str(event["SUMMARY"]) == "Town hall"


def test_meeting_event_builds_in_the_given_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")

    event = feeds.meeting_event(meeting, language="es")

    assert str(event["SUMMARY"]) == "Asamblea comunitaria"


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


# --- Changes reach subscribers ---------------------------------------------------------------


def test_feed_snapshots_keep_uids_and_raise_sequence_through_changes(client):
    kept = MeetingFactory(title="Unchanged")
    edited = MeetingFactory(title="Town hall")
    moved = MeetingFactory(title="Coffee with the chief")
    cancelled = MeetingFactory(title="Safety walk")
    before = events_by_uid(client.get(feed_url()).content)

    edited.title = "Town hall: schools and safety"
    edited.save()
    moved.starts_at += dt.timedelta(days=1, hours=2)
    moved.ends_at += dt.timedelta(days=1, hours=2)
    moved.save()
    cancelled.cancel()
    draft = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)
    after = events_by_uid(client.get(feed_url()).content)

    assert set(after) == set(before) == {uid(m) for m in (kept, edited, moved, cancelled)}
    assert uid(draft) not in after
    assert after[uid(kept)]["SEQUENCE"] == before[uid(kept)]["SEQUENCE"]
    for meeting in (edited, moved, cancelled):
        assert after[uid(meeting)]["SEQUENCE"] > before[uid(meeting)]["SEQUENCE"]
    assert str(after[uid(edited)]["SUMMARY"]) == "Town hall: schools and safety"
    assert after[uid(moved)].start == moved.starts_at.astimezone(CHICAGO)
    assert str(after[uid(cancelled)]["STATUS"]) == "CANCELLED"
    assert str(after[uid(kept)]["STATUS"]) == "CONFIRMED"


def test_venue_address_edit_reaches_subscribers_of_its_meetings(client):
    venue = VenueFactory(name="Library", street_address="1 Elm St")
    here = MeetingFactory(venue=venue)
    elsewhere = MeetingFactory()
    before = events_by_uid(client.get(feed_url()).content)

    venue = Venue.objects.get(pk=venue.pk)
    venue.street_address = "200 Oak Ave"
    venue.save()
    after = events_by_uid(client.get(feed_url()).content)

    assert "200 Oak Ave" in str(after[uid(here)]["LOCATION"])
    assert after[uid(here)]["SEQUENCE"] > before[uid(here)]["SEQUENCE"]
    assert after[uid(elsewhere)]["SEQUENCE"] == before[uid(elsewhere)]["SEQUENCE"]


def test_venue_edit_that_calendars_do_not_show_keeps_sequence(client):
    venue = VenueFactory(directions_notes="Park behind the church.")
    meeting = MeetingFactory(venue=venue)
    before = events_by_uid(client.get(feed_url()).content)[uid(meeting)]

    venue = Venue.objects.get(pk=venue.pk)
    venue.directions_notes = "Park on the street."
    venue.save()
    after = events_by_uid(client.get(feed_url()).content)[uid(meeting)]

    assert after["SEQUENCE"] == before["SEQUENCE"]


# --- Text: folding and escaping --------------------------------------------------------------

LONG_SPANISH = (
    "Conversación comunitaria con el Jefe de Policía interino: preguntas sobre seguridad, "
    "escuelas, tráfico y la relación entre la policía y las familias inmigrantes del barrio"
)
LONG_VIETNAMESE = (
    "Trò chuyện cộng đồng với Cảnh sát trưởng lâm thời: hỏi đáp về an toàn, trường học, "
    "giao thông và mối quan hệ giữa cảnh sát với các gia đình nhập cư trong khu phố"
)


@pytest.mark.parametrize(("language", "title"), [("es", LONG_SPANISH), ("vi", LONG_VIETNAMESE)])
def test_feed_folds_long_lines_at_75_octets_between_characters(client, language, title):
    venue = VenueFactory(**{f"accessibility_notes_{language}": title + " " + title})
    meeting = MeetingFactory(
        venue=venue, **{f"title_{language}": title, f"summary_{language}": title}
    )

    content = client.get(feed_url(language=language)).content

    for line in content.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # a character split across two lines would not decode
    event = events_by_uid(content)[uid(meeting)]
    assert str(event["SUMMARY"]) == title
    assert str(event["DESCRIPTION"]).startswith(title + "\n")
    assert f"{title} {title}\n" in str(event["DESCRIPTION"])


def test_feed_escapes_commas_semicolons_backslashes_and_newlines(client):
    venue = VenueFactory(name="Hall A, Room 5; East\\Wing", street_address="", postal_code="")
    meeting = MeetingFactory(
        venue=venue, title="Safety, schools; and C:\\answers", summary="First line\nSecond line"
    )

    content = client.get(feed_url()).content
    raw = unfolded(content)
    event = events_by_uid(content)[uid(meeting)]

    assert b"SUMMARY:Safety\\, schools\\; and C:\\\\answers\r\n" in raw
    assert b"DESCRIPTION:First line\\nSecond line\\n" in raw
    assert b"LOCATION:Hall A\\, Room 5\\; East\\\\Wing\\, Dallas\\, TX\r\n" in raw
    assert str(event["SUMMARY"]) == "Safety, schools; and C:\\answers"
    assert str(event["DESCRIPTION"]).startswith("First line\nSecond line\n")
    assert str(event["LOCATION"]) == "Hall A, Room 5; East\\Wing, Dallas, TX"


def test_calendar_name_has_no_characters_parsers_unescape_differently(client):
    venue = VenueFactory(name="Hall A, Room 5; East\\Wing")
    MeetingFactory(venue=venue)

    lines = unfolded(client.get(feed_url("feed-venue", slug=venue.slug)).content).split(b"\r\n")

    expected = "Police community meetings at Hall A - Room 5 - East - Wing"
    assert f"NAME:{expected}".encode() in lines
    assert f"X-WR-CALNAME:{expected}".encode() in lines
    assert b"X-WR-CALDESC:Meetings with the police department at Hall A - Room 5 - East - Wing" in (
        lines
    )


# --- Time zones ------------------------------------------------------------------------------


def observances(timezone_component):
    return [
        (
            sub.name,
            sub["DTSTART"].dt,
            sub["TZOFFSETFROM"].td,
            sub["TZOFFSETTO"].td,
            str(sub["TZNAME"]),
        )
        for sub in timezone_component.subcomponents
    ]


def test_vtimezone_has_one_observance_per_change():
    hours = dt.timedelta(hours=1)

    component = feeds.vtimezone("America/Chicago", 2027, 2027)

    assert observances(component) == [
        ("STANDARD", dt.datetime(2027, 1, 1), -6 * hours, -6 * hours, "CST"),
        ("DAYLIGHT", dt.datetime(2027, 3, 14, 2), -6 * hours, -5 * hours, "CDT"),
        ("STANDARD", dt.datetime(2027, 11, 7, 2), -5 * hours, -6 * hours, "CST"),
    ]
    assert "RDATE" not in component.to_ical().decode()


@pytest.mark.parametrize("tzid", ["Australia/Sydney", "Europe/Berlin", "Asia/Ho_Chi_Minh"])
def test_vtimezone_changes_at_the_moments_the_zone_changes(tzid):
    zone = zoneinfo.ZoneInfo(tzid)

    component = feeds.vtimezone(tzid, 2026, 2028)

    for _name, start, offset_from, offset_to, _tzname in observances(component)[1:]:
        moment = (start - offset_from).replace(tzinfo=dt.UTC)
        assert (moment - dt.timedelta(seconds=1)).astimezone(zone).utcoffset() == offset_from
        assert moment.astimezone(zone).utcoffset() == offset_to


def test_feed_has_no_rdate_lists(client, standard_and_daylight_meetings):
    content = client.get(feed_url()).content

    assert b"RDATE" not in content


# --- HTTP ------------------------------------------------------------------------------------


def test_feed_has_strong_etag_last_modified_and_public_cache_control(client):
    meeting = MeetingFactory()

    response = client.get(feed_url())

    assert response["ETag"].startswith('"')
    assert response["Last-Modified"] == http_date(meeting.updated_at.timestamp())
    assert response["Cache-Control"] == "public, max-age=900"


def test_feed_answers_304_to_matching_etag_with_one_query(client, django_assert_num_queries):
    MeetingFactory.create_batch(3)
    etag = client.get(feed_url())["ETag"]

    with django_assert_num_queries(1):
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
    meeting = MeetingFactory()
    etag = client.get(feed_url())["ETag"]

    meeting.venue.name = "New name"
    meeting.venue.save()
    response = client.get(feed_url(), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200


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
        client.get(feed_url("feed-venue", slug=venue.slug))


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


def test_meeting_calendar_bytes_is_a_complete_calendar_for_a_cancelled_meeting():
    meeting = MeetingFactory(title="Town hall")
    meeting.cancel()

    content = feeds.meeting_calendar_bytes(meeting)

    calendar = parse(content)
    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert [str(event["UID"]) for event in calendar.walk("VEVENT")] == [uid(meeting)]
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]


def test_meeting_calendar_bytes_uses_active_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")

    with translation.override("es"):
        content = feeds.meeting_calendar_bytes(meeting)

    assert str(parse(content).walk("VEVENT")[0]["SUMMARY"]) == "Asamblea comunitaria"


def test_feed_bytes_equal_the_built_calendar():
    meetings = MeetingFactory.create_batch(3)

    streamed = feeds.feed_bytes(meetings, name="Meetings", description="All of them")

    built = feeds.build_calendar(meetings, name="Meetings", description="All of them")
    assert streamed == feeds.calendar_bytes(built)


# --- Where people find the feeds ------------------------------------------------------------


def test_listing_offers_subscription_and_autodiscovery(client):
    MeetingFactory()

    html = client.get(reverse("meetings:meeting-list")).content.decode()

    https = f"https://{HOST}/en/feeds/meetings.ics"
    assert (
        f'<link rel="alternate" type="text/calendar" title="Police community meetings" '
        f'href="{https}">'
    ) in html
    assert f'href="webcal://{HOST}/en/feeds/meetings.ics"' in html
    assert f'value="{https}"' in html
    assert (
        "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F"
        "outreach.example.org%2Fen%2Ffeeds%2Fmeetings.ics"
    ) in html
    assert (
        "https://outlook.live.com/calendar/0/addfromweb?url=https%3A%2F%2F"
        "outreach.example.org%2Fen%2Ffeeds%2Fmeetings.ics&amp;name=Police+community+meetings"
    ) in html


def test_listing_advertises_atom_feed(client):
    html = client.get(reverse("meetings:meeting-list")).content.decode()

    assert (
        f'type="application/atom+xml" title="New police community meetings" '
        f'href="https://{HOST}/en/feeds/announcements.atom"'
    ) in html


def test_venue_page_offers_venue_feed(client):
    venue = VenueFactory()

    html = client.get(venue.get_absolute_url()).content.decode()

    assert f'type="text/calendar" title="Police community meetings at {venue.name}"' in html
    assert f'href="webcal://{HOST}/en/feeds/venues/{venue.slug}.ics"' in html


def test_series_page_offers_series_feed(client):
    series = MeetingSeriesFactory()

    html = client.get(series.get_absolute_url()).content.decode()

    assert f'href="https://{HOST}/en/feeds/series/{series.slug}.ics"' in html
    assert f'href="webcal://{HOST}/en/feeds/series/{series.slug}.ics"' in html


def test_meeting_page_offers_calendar_file_and_google_event(client):
    meeting = MeetingFactory(
        title="Town hall",
        starts_at=next_year_at(7, 15, 18, 30),
        ends_at=next_year_at(7, 15, 20),
    )
    year = meeting.starts_at.year

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert f'href="/en/meetings/{meeting.slug}.ics"' in html
    assert (
        "https://calendar.google.com/calendar/render?action=TEMPLATE&amp;text=Town+hall"
        f"&amp;dates={year}0715T233000Z%2F{year}0716T010000Z"
    ) in html
    assert f'href="webcal://{HOST}/en/feeds/meetings.ics"' in html


def test_meeting_page_in_a_series_offers_series_feed(client):
    meeting = MeetingFactory(series=MeetingSeriesFactory())

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert f'<link rel="alternate" type="text/calendar" title="{meeting.series.title}: ' in html
    assert f"/en/feeds/series/{meeting.series.slug}.ics" in html


def test_cancelled_meeting_page_offers_no_google_event(client):
    meeting = MeetingFactory()
    meeting.cancel()

    html = client.get(meeting.get_absolute_url()).content.decode()

    assert f'href="/en/meetings/{meeting.slug}.ics"' in html
    assert "action=TEMPLATE" not in html


# --- Atom -------------------------------------------------------------------------------------


def test_atom_feed_lists_announced_meetings_newest_first(client):
    now = timezone.now()
    older = MeetingFactory(title="Older", published_at=now - dt.timedelta(days=2))
    newer = MeetingFactory(title="Newer", published_at=now - dt.timedelta(days=1))
    MeetingFactory(title="Draft", status=Meeting.Status.DRAFT, published_at=None)

    response = client.get(feed_url("feed-atom"))

    body = response.content.decode()
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert body.index("<title>Newer</title>") < body.index("<title>Older</title>")
    assert "Draft" not in body
    assert f"<id>tag:{HOST},2025:meeting-{newer.pk}</id>" in body
    assert f'href="https://{HOST}/en/meetings/{older.slug}/"' in body


def test_atom_feed_marks_cancelled_meetings(client):
    meeting = MeetingFactory(title="Town hall")
    meeting.cancel()

    body = client.get(feed_url("feed-atom")).content.decode()

    assert "<title>Cancelled: Town hall</title>" in body


# --- Independent parsers ----------------------------------------------------------------------


@pytest.fixture
def standard_and_daylight_meetings():
    """Meetings in standard (January) and daylight (July) time, north and south of the
    equator, over three years: enough daylight-saving changes that a VTIMEZONE listing
    them as one RDATE per kind would have lists (the values parsers skip)."""
    sydney = VenueFactory(time_zone="Australia/Sydney")
    meetings = []
    for ahead in (1, 2, 3):
        for month, day in [(1, 14), (7, 15)]:
            at = functools.partial(next_year_at, month, day, years_ahead=ahead)
            meetings.append(
                MeetingFactory(
                    title_en=f"Chicago {month} +{ahead}",
                    title_es=f"Chicago {month} +{ahead} en español",
                    starts_at=at(18, 30),
                    ends_at=at(20),
                )
            )
            meetings.append(
                MeetingFactory(
                    venue=sydney,
                    title_en=f"Sydney {month} +{ahead}",
                    starts_at=at(9, tz=sydney.tzinfo),
                    ends_at=at(10, 30, tz=sydney.tzinfo),
                )
            )
    meetings[-1].cancel()
    return meetings


def ical_js_events(content, tmp_path):
    """Events as ical.js reads them, or a skip where node is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ical.js (Thunderbird parser) check needs it")
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot install ical.js (run `make npm-deps`)")
        subprocess.run(  # noqa: S603
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, capture_output=True
        )
    path = tmp_path / "feed.ics"
    path.write_bytes(content)
    # A zone far from the meetings': a time read as floating would come out wrong.
    result = subprocess.run(  # noqa: S603
        [node, str(JS_DIR / "parse_ics.mjs"), str(path)],
        capture_output=True,
        check=True,
        env={**os.environ, "TZ": "Asia/Tokyo"},
    )
    return {event["uid"]: event for event in json.loads(result.stdout)["events"]}


def iso(value):
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_ical_js_reads_feed_times_and_text_as_stored(
    client, tmp_path, standard_and_daylight_meetings
):
    content = client.get(feed_url(language="es")).content

    events = ical_js_events(content, tmp_path)

    with translation.override("es"):
        expected = {
            uid(m): {
                "start": iso(m.starts_at),
                "end": iso(m.ends_at),
                "summary": feeds.meeting_summary(m),
                "location": feeds.meeting_location(m),
                "status": "CANCELLED" if m.is_cancelled else "CONFIRMED",
                "sequence": m.sequence,
            }
            for m in standard_and_daylight_meetings
        }
    assert {
        key: {field: event[field] for field in expected[key]} for key, event in events.items()
    } == expected
    assert events[uid(standard_and_daylight_meetings[0])]["summary"] == "Chicago 1 +1 en español"


def test_ical_js_reads_meeting_file(client, tmp_path, standard_and_daylight_meetings):
    meeting = standard_and_daylight_meetings[1]  # Sydney in January: daylight time there

    events = ical_js_events(
        client.get(feed_url("meeting-ics", slug=meeting.slug)).content, tmp_path
    )

    assert (events[uid(meeting)]["start"], events[uid(meeting)]["end"]) == (
        iso(meeting.starts_at),
        iso(meeting.ends_at),
    )


def test_vobject_reads_feed_times_as_stored(client, standard_and_daylight_meetings):
    vobject = pytest.importorskip("vobject")

    calendar = vobject.readOne(client.get(feed_url()).content.decode())

    read = {
        event.uid.value: (event.dtstart.value.astimezone(dt.UTC), event.status.value)
        for event in calendar.vevent_list
    }
    assert read == {
        uid(m): (m.starts_at, "CANCELLED" if m.is_cancelled else "CONFIRMED")
        for m in standard_and_daylight_meetings
    }
