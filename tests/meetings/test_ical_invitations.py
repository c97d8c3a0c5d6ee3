"""The calendar invitation (iTIP, RFC 5546) a resident's email carries, as calendar apps read it.

Three parsers (icalendar, vobject, ical.js) and the rules Gmail, Outlook and Apple Calendar
rely on to add an event and then update or remove it in place: one METHOD per object, the
same UID for every message about an RSVP, a SEQUENCE that rises with every change, DTSTAMP,
ORGANIZER in REQUEST and CANCEL, and the recipient as the ATTENDEE.
"""

import datetime as dt

import pytest
import vobject
from django.utils import translation

from meetings import ical
from meetings.ical import Method
from meetings.models import Rsvp
from meetings.services import cancel_meeting, save_meeting
from tests.factories import MeetingFactory, RsvpFactory
from tests.meetings.calendars import HOST, ical_js_calendar, next_year_at, parse, unfolded

pytestmark = pytest.mark.django_db

ANA = "ana@example.org"
NO_REPLY = "no-reply@outreach.example.org"


@pytest.fixture(autouse=True)
def _no_reply(settings):
    settings.EMAIL_NO_REPLY_ADDRESS = NO_REPLY


@pytest.fixture
def rsvp():
    meeting = MeetingFactory(
        title_en="Coffee with the police",
        title_es="Café con la policía",
        starts_at=next_year_at(7, 15, 18, 30),
        ends_at=next_year_at(7, 15, 20),
    )
    return RsvpFactory(meeting=meeting, email=ANA, first_name="Ana")


def request_for(rsvp, **kwargs):
    return ical.invitation_bytes(
        Rsvp.objects.select_related("meeting__venue").get(pk=rsvp.pk),
        method=Method.REQUEST,
        attendee=ANA,
        **kwargs,
    )


def only_event(content):
    calendar = parse(content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_request_is_an_invitation_the_resident_already_accepted(rsvp):
    calendar, event = only_event(request_for(rsvp))

    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"rsvp-{rsvp.pk}@{HOST}"
    assert int(event["SEQUENCE"]) == rsvp.meeting.sequence
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Coffee with the police"
    assert event["DTSTART"].dt == next_year_at(7, 15, 18, 30)
    assert str(event["ORGANIZER"]) == f"mailto:{NO_REPLY}"
    assert event["ORGANIZER"].params["CN"] == "Police Community Outreach"
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{ANA}"
    assert dict(attendee.params) == {
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "ACCEPTED",
        "RSVP": "FALSE",
    }
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/Chicago"]


def test_request_has_one_method_no_calendar_name_and_nothing_after_the_end(rsvp):
    content = request_for(rsvp)

    assert unfolded(content).count(b"\r\nMETHOD:") == 1
    # Outlook opens a file with X-WR-CALNAME as a calendar of its own instead of an event.
    assert b"X-WR-CALNAME" not in content
    # A stray line after END:VCALENDAR broke Google's updates (adamgibbons/ics#199).
    assert content.endswith(b"END:VCALENDAR\r\n")
    assert content.count(b"END:VCALENDAR") == 1


def test_dtstamp_is_when_the_message_was_written(rsvp):
    written = dt.datetime(2026, 12, 1, 9, 30, 15, tzinfo=dt.UTC)

    _calendar, event = only_event(request_for(rsvp, now=written))

    assert event["DTSTAMP"].dt == written


def test_request_is_in_the_active_language(rsvp):
    with translation.override("es"):
        _calendar, event = only_event(request_for(rsvp))

    assert str(event["SUMMARY"]) == "Café con la policía"
    assert event["ORGANIZER"].params["CN"] == "Acercamiento Comunitario de la Policía"


def test_a_move_keeps_the_uid_and_raises_the_sequence(rsvp):
    _calendar, first = only_event(request_for(rsvp))
    meeting = rsvp.meeting
    meeting.starts_at = next_year_at(7, 16, 18, 30)
    meeting.ends_at = next_year_at(7, 16, 20)
    save_meeting(meeting=meeting)

    _calendar, moved = only_event(request_for(rsvp))

    assert moved["UID"] == first["UID"]
    assert int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved["DTSTART"].dt == next_year_at(7, 16, 18, 30)


def test_a_change_of_the_rsvp_raises_the_sequence_too(rsvp):
    _calendar, first = only_event(request_for(rsvp))
    Rsvp.objects.filter(pk=rsvp.pk).update(calendar_sequence=1)

    _calendar, changed = only_event(request_for(rsvp))

    assert int(changed["SEQUENCE"]) == int(first["SEQUENCE"]) + 1


def test_cancel_removes_the_same_event_with_a_higher_sequence(rsvp):
    _calendar, first = only_event(request_for(rsvp))
    cancel_meeting(meeting=rsvp.meeting)

    calendar, event = only_event(
        ical.invitation_bytes(
            Rsvp.objects.select_related("meeting__venue").get(pk=rsvp.pk),
            method=Method.CANCEL,
            attendee=ANA,
        )
    )

    assert str(calendar["METHOD"]) == "CANCEL"
    assert event["UID"] == first["UID"]
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ORGANIZER"]) == f"mailto:{NO_REPLY}"
    assert str(event["ATTENDEE"]) == f"mailto:{ANA}"
    assert "DTSTAMP" in event


def test_vobject_reads_the_invitation(rsvp):
    calendar = vobject.readOne(request_for(rsvp).decode())

    assert calendar.method.value == "REQUEST"
    event = calendar.vevent
    assert event.uid.value == f"rsvp-{rsvp.pk}@{HOST}"
    assert int(event.sequence.value) == rsvp.meeting.sequence
    assert event.dtstart.value == next_year_at(7, 15, 18, 30)
    assert event.organizer.value == f"mailto:{NO_REPLY}"
    assert event.attendee.value == f"mailto:{ANA}"
    assert event.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    assert event.attendee.params["RSVP"] == ["FALSE"]


def test_ical_js_reads_the_request_and_the_cancel(rsvp, tmp_path):
    request = ical_js_calendar(request_for(rsvp), tmp_path)
    cancel_meeting(meeting=rsvp.meeting)
    cancel = ical_js_calendar(
        ical.invitation_bytes(
            Rsvp.objects.select_related("meeting__venue").get(pk=rsvp.pk),
            method=Method.CANCEL,
            attendee=ANA,
        ),
        tmp_path,
    )

    assert request["methods"] == ["REQUEST"]
    assert cancel["methods"] == ["CANCEL"]
    (before,) = request["events"]
    (after,) = cancel["events"]
    assert before["uid"] == after["uid"] == f"rsvp-{rsvp.pk}@{HOST}"
    assert after["sequence"] > before["sequence"]
    assert (before["status"], after["status"]) == ("CONFIRMED", "CANCELLED")
    assert before["start"] == f"{next_year_at(7, 15, 18, 30):%Y-%m-%dT%H:%M:%S.000Z}"
    for event in (before, after):
        assert event["organizer"] == f"mailto:{NO_REPLY}"
        assert event["attendees"] == [
            {"address": f"mailto:{ANA}", "partstat": "ACCEPTED", "rsvp": "FALSE"}
        ]
        assert event["dtstamp"] is not None


def test_feeds_never_carry_an_attendee_or_organizer(client, rsvp):
    content = client.get(f"/en/meetings/{rsvp.meeting.slug}.ics").content
    feed = client.get("/en/feeds/meetings.ics").content

    for calendar in (content, feed):
        assert b"ATTENDEE" not in calendar
        assert b"ORGANIZER" not in calendar
        assert ANA.encode() not in calendar
