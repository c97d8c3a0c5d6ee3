"""The meeting page's schema.org Event, read out of the HTML by extruct (the parser search
crawlers' toolchains use) and checked against the rules of Google's Event rich result
(developers.google.com/search/docs/appearance/structured-data/event): the required
properties, and the recommended ones we promise (status, attendance mode, language, offers)."""

import datetime as dt

import extruct
import pytest
from django.utils import timezone

from meetings.models import Meeting
from tests.factories import MeetingFactory, RsvpFactory

pytestmark = pytest.mark.django_db

SCHEMA = "https://schema.org/"
EVENT_STATUSES = {
    SCHEMA + name
    for name in (
        "EventScheduled",
        "EventRescheduled",
        "EventCancelled",
        "EventPostponed",
        "EventMovedOnline",
    )
}
AVAILABILITIES = {
    SCHEMA + name
    for name in ("InStock", "LimitedAvailability", "SoldOut", "PreOrder", "OutOfStock")
}


def event_of(client, meeting, language="en"):
    response = client.get(f"/{language}/meetings/{meeting.slug}/")
    assert response.status_code == 200
    data = extruct.extract(
        response.content.decode(), base_url="https://outreach.example.org", syntaxes=["json-ld"]
    )["json-ld"]
    events = [item for item in data if item.get("@type") == "Event"]
    assert len(events) == 1, data
    event = events[0]
    check_google_event_rules(event)
    return event


def _is_iso_with_offset(value):
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None


def check_google_event_rules(event):
    """Google's required properties, and the form of the recommended ones we send."""
    assert event["@context"].rstrip("/") in ("https://schema.org", "http://schema.org")
    assert event["name"]
    assert _is_iso_with_offset(event["startDate"])
    location = event["location"]
    assert location["@type"] == "Place"
    assert location["name"]
    address = location["address"]
    assert address["@type"] == "PostalAddress"
    assert address["streetAddress"] and address["addressLocality"] and address["addressRegion"]
    assert address["addressCountry"]
    if "endDate" in event:
        assert _is_iso_with_offset(event["endDate"])
        assert event["endDate"] > event["startDate"]
    assert event["eventStatus"] in EVENT_STATUSES
    assert event["eventAttendanceMode"] == SCHEMA + "OfflineEventAttendanceMode"
    assert event["inLanguage"] in ("en", "es", "vi")
    if event["eventStatus"] == SCHEMA + "EventRescheduled":
        assert _is_iso_with_offset(event["previousStartDate"])
    else:
        assert "previousStartDate" not in event
    if "offers" in event:
        offer = event["offers"]
        assert offer["@type"] == "Offer"
        assert offer["availability"] in AVAILABILITIES
        assert offer["price"] == "0"
        assert offer["priceCurrency"] == "USD"
        assert offer["url"].startswith("https://")
        assert _is_iso_with_offset(offer["validFrom"])
    assert event["organizer"]["name"]


def test_scheduled_meeting_with_free_seats(client):
    meeting = MeetingFactory(capacity=50, language="es")
    RsvpFactory(meeting=meeting, party_size=5)
    event = event_of(client, meeting, "es")
    assert event["eventStatus"] == SCHEMA + "EventScheduled"
    assert event["inLanguage"] == "es"
    assert event["offers"]["availability"] == SCHEMA + "InStock"
    assert event["offers"]["url"] == f"https://outreach.example.org/es/meetings/{meeting.slug}/"


def test_few_seats_left_is_limited_and_none_is_sold_out(client, settings):
    settings.PAGE_CACHE_SECONDS = 0  # each look is a new page
    meeting = MeetingFactory(capacity=10)
    RsvpFactory(meeting=meeting, party_size=8)
    assert event_of(client, meeting)["offers"]["availability"] == SCHEMA + "LimitedAvailability"
    RsvpFactory(meeting=meeting, party_size=2)
    assert event_of(client, meeting)["offers"]["availability"] == SCHEMA + "SoldOut"


def test_no_capacity_limit_is_in_stock(client):
    event = event_of(client, MeetingFactory(capacity=None))
    assert event["offers"]["availability"] == SCHEMA + "InStock"


def test_moved_meeting_is_rescheduled_with_its_previous_start(client):
    meeting = MeetingFactory()
    first_start = meeting.starts_at
    meeting = Meeting.objects.get(pk=meeting.pk)
    meeting.starts_at += dt.timedelta(hours=2)
    meeting.ends_at += dt.timedelta(hours=2)
    meeting.save()
    event = event_of(client, meeting)
    assert event["eventStatus"] == SCHEMA + "EventRescheduled"
    assert dt.datetime.fromisoformat(event["previousStartDate"]) == first_start
    assert dt.datetime.fromisoformat(event["startDate"]) == meeting.starts_at


def test_moving_a_draft_is_no_reschedule(client):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT, published_at=None)
    meeting = Meeting.objects.get(pk=meeting.pk)
    meeting.starts_at += dt.timedelta(days=1)
    meeting.ends_at += dt.timedelta(days=1)
    meeting.save()
    meeting.publish()
    assert event_of(client, meeting)["eventStatus"] == SCHEMA + "EventScheduled"


def test_cancelled_meeting_keeps_its_date_and_offers_nothing(client):
    meeting = MeetingFactory()
    meeting.cancel()
    event = event_of(client, meeting)
    assert event["eventStatus"] == SCHEMA + "EventCancelled"
    assert dt.datetime.fromisoformat(event["startDate"]) == meeting.starts_at
    assert "offers" not in event


def test_closed_rsvps_offer_nothing_but_drop_in_does(client):
    closed = MeetingFactory(rsvp_closes_at=timezone.now() - dt.timedelta(hours=1))
    assert "offers" not in event_of(client, closed)
    drop_in = MeetingFactory(rsvp_enabled=False)
    assert event_of(client, drop_in)["offers"]["availability"] == SCHEMA + "InStock"
