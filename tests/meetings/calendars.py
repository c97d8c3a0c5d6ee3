"""Shared helpers for the calendar tests: feed addresses, parsing, and times next year."""

import datetime as dt
import zoneinfo

from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

HOST = "outreach.example.org"  # settings.SITE_URL in tests/conftest.py
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


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
