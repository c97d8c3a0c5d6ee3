"""Where people find the feeds (subscription links on pages) and the Atom feed."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from tests.factories import MeetingFactory, MeetingSeriesFactory, VenueFactory
from tests.meetings.calendars import (
    HOST,
    feed_url,
    next_year_at,
)

pytestmark = pytest.mark.django_db


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


@pytest.mark.parametrize("count", [1, 3])
def test_atom_feed_query_count_does_not_grow_with_meetings(
    client, django_assert_num_queries, count
):
    for _ in range(count):
        MeetingFactory(venue=VenueFactory(), series=MeetingSeriesFactory())

    # The meetings with their venues and series, in one query.
    with django_assert_num_queries(1):
        response = client.get(feed_url("feed-atom"))

    assert response.content.decode().count("<entry>") == count
