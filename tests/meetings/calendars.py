"""Shared helpers for the calendar tests: feed addresses, parsing, and times next year."""

import datetime as dt
import json
import os
import shutil
import subprocess
import zoneinfo
from pathlib import Path

import pytest
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


JS_DIR = Path(__file__).resolve().parents[1] / "js"


def ical_js_calendar(content, tmp_path):
    """The calendar as ical.js (Thunderbird's parser) reads it: tests/js/parse_ics.mjs's JSON,
    or a skip where node or ical.js is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the ical.js (Thunderbird parser) check needs it")
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js is not installed (run `make npm-deps`)")
    path = tmp_path / "calendar.ics"
    path.write_bytes(content)
    # A zone far from the meetings': a time read as floating would come out wrong.
    result = subprocess.run(  # noqa: S603
        [node, str(JS_DIR / "parse_ics.mjs"), str(path)],
        capture_output=True,
        check=True,
        env={**os.environ, "TZ": "Asia/Tokyo"},
    )
    return json.loads(result.stdout)
