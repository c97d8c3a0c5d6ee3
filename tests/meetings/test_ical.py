"""Calendars as calendar apps read them: properties, events, text, time zones, parsers."""

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
from django.utils import translation

from meetings import ical
from meetings.models import Meeting, Venue
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory
from tests.meetings.calendars import (
    CHICAGO,
    HOST,
    events_by_uid,
    feed_url,
    next_year_at,
    parse,
    uid,
    unfolded,
)

pytestmark = pytest.mark.django_db

JS_DIR = Path(__file__).resolve().parents[1] / "js"


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
    assert str(calendar["PRODID"]) == ical.PRODID
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


def test_feed_is_plain_unless_the_client_takes_gzip(client):
    """Compressed only for a client that says so (issue 19.4; tests/meetings/test_caching_builds.py)."""
    MeetingFactory()

    response = client.get(feed_url(), HTTP_ACCEPT_ENCODING="deflate, br")

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


def test_event_is_built_in_the_active_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")

    with translation.override("es"):
        event = ical.event(ical.CalendarMeeting.from_meeting(meeting))

    assert str(event["SUMMARY"]) == "Asamblea comunitaria"


def test_calendar_meetings_read_the_same_as_from_meeting():
    meeting = MeetingFactory(
        title_en="Town hall",
        title_es="Asamblea comunitaria",
        host_en="Chief",
        series=MeetingSeriesFactory(),
    )
    meeting.cancel(note="Flooded.")

    with translation.override("es"):
        read = ical.calendar_meetings(Meeting.objects.filter(pk=meeting.pk))
        made = ical.CalendarMeeting.from_meeting(Meeting.objects.get(pk=meeting.pk))

    assert read == [made]
    assert (made.title, made.host, made.is_cancelled) == ("Asamblea comunitaria", "Chief", True)


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

    component = ical.vtimezone("America/Chicago", 2027, 2027)

    assert observances(component) == [
        ("STANDARD", dt.datetime(2027, 1, 1), -6 * hours, -6 * hours, "CST"),
        ("DAYLIGHT", dt.datetime(2027, 3, 14, 2), -6 * hours, -5 * hours, "CDT"),
        ("STANDARD", dt.datetime(2027, 11, 7, 2), -5 * hours, -6 * hours, "CST"),
    ]
    assert "RDATE" not in component.to_ical().decode()


@pytest.mark.parametrize("tzid", ["Australia/Sydney", "Europe/Berlin", "Asia/Ho_Chi_Minh"])
def test_vtimezone_changes_at_the_moments_the_zone_changes(tzid):
    zone = zoneinfo.ZoneInfo(tzid)

    component = ical.vtimezone(tzid, 2026, 2028)

    for _name, start, offset_from, offset_to, _tzname in observances(component)[1:]:
        moment = (start - offset_from).replace(tzinfo=dt.UTC)
        assert (moment - dt.timedelta(seconds=1)).astimezone(zone).utcoffset() == offset_from
        assert moment.astimezone(zone).utcoffset() == offset_to


def test_feed_has_no_rdate_lists(client, standard_and_daylight_meetings):
    content = client.get(feed_url()).content

    assert b"RDATE" not in content


# --- Builders -----------------------------------------------------------------------------------


def test_meeting_calendar_bytes_is_a_complete_calendar_for_a_cancelled_meeting():
    meeting = MeetingFactory(title="Town hall")
    meeting.cancel()

    content = ical.meeting_calendar_bytes(meeting)

    calendar = parse(content)
    assert content.startswith(b"BEGIN:VCALENDAR\r\n")
    assert [str(event["UID"]) for event in calendar.walk("VEVENT")] == [uid(meeting)]
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]


def test_meeting_calendar_bytes_uses_active_language():
    meeting = MeetingFactory(title_en="Town hall", title_es="Asamblea comunitaria")

    with translation.override("es"):
        content = ical.meeting_calendar_bytes(meeting)

    assert str(parse(content).walk("VEVENT")[0]["SUMMARY"]) == "Asamblea comunitaria"


def test_feed_bytes_equal_the_built_calendar():
    meetings = [ical.CalendarMeeting.from_meeting(m) for m in MeetingFactory.create_batch(3)]

    streamed = ical.feed_bytes(meetings, name="Meetings", description="All of them")

    built = ical.build_calendar(meetings, name="Meetings", description="All of them")
    assert streamed == ical.calendar_bytes(built)


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

    def summary(m):
        # Written out here, not asked of the code under test: Spanish, English fallback.
        title = m.title_es or m.title_en
        return f"Cancelada: {title}" if m.is_cancelled else title

    def location(venue):
        return f"{venue.name}, {venue.street_address}, Dallas, TX 75201"

    expected = {
        uid(m): {
            "start": iso(m.starts_at),
            "end": iso(m.ends_at),
            "summary": summary(m),
            "location": location(m.venue),
            "status": "CANCELLED" if m.is_cancelled else "CONFIRMED",
            "sequence": m.sequence,
        }
        for m in standard_and_daylight_meetings
    }
    assert {
        key: {field: event[field] for field in expected[key]} for key, event in events.items()
    } == expected
    assert events[uid(standard_and_daylight_meetings[0])]["summary"] == "Chicago 1 +1 en español"
    assert events[uid(standard_and_daylight_meetings[-1])]["summary"] == "Cancelada: Sydney 7 +3"


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
