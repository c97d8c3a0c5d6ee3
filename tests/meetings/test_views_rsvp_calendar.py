"""The private page's calendar file: the same event as the emailed invitation, and only for a
party that has a seat (a waitlisted party's calendar never says they are going)."""

import pytest
from icalendar import Calendar

from meetings import ical
from meetings.models import Rsvp
from meetings.services import cancel_rsvp
from tests.factories import MeetingFactory, RsvpFactory
from tests.meetings.test_views_rsvp import post_rsvp, token_from, url

pytestmark = pytest.mark.django_db


def test_personal_file_is_the_invitations_event(client):
    meeting = MeetingFactory()
    token = token_from(post_rsvp(client, meeting, email="ana@example.org"))
    rsvp = Rsvp.objects.get()

    (event,) = Calendar.from_ical(client.get(url("rsvp-calendar", token=token)).content).walk(
        "VEVENT"
    )
    invitation = Calendar.from_ical(
        ical.invitation_bytes(rsvp, method=ical.Method.REQUEST, attendee="ana@example.org")
    ).walk("VEVENT")[0]

    assert event["UID"] == invitation["UID"] == f"rsvp-{rsvp.pk}@outreach.example.org"
    assert int(event["SEQUENCE"]) == int(invitation["SEQUENCE"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_a_waitlisted_party_gets_no_calendar_file_and_the_page_says_why(client):
    meeting = MeetingFactory(capacity=2)
    RsvpFactory(meeting=meeting, party_size=2)
    token = token_from(post_rsvp(client, meeting, email="ana@example.org"))

    page = client.get(url("rsvp-manage", token=token)).content.decode()
    response = client.get(url("rsvp-calendar", token=token))

    assert "You are on the waitlist, number 1 in line." in page
    assert url("rsvp-calendar", token=token) not in page
    assert "Add to my calendar" not in page
    assert "Nothing goes in your calendar while you are on the waitlist." in page
    assert "the email that confirms you brings the calendar invitation" in page
    assert response.status_code == 302
    assert response["Location"] == url("rsvp-manage", token=token)


def test_a_promoted_party_is_offered_the_calendar_file(client):
    meeting = MeetingFactory(capacity=2)
    first = RsvpFactory(meeting=meeting, party_size=2)
    token = token_from(post_rsvp(client, meeting))
    cancel_rsvp(rsvp=first)

    page = client.get(url("rsvp-manage", "es", token=token)).content.decode()
    response = client.get(url("rsvp-calendar", "es", token=token))

    assert url("rsvp-calendar", "es", token=token) in page
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["STATUS"]) == "CONFIRMED"
