"""iCalendar builders: meetings in, icalendar objects or bytes out, in the active language.

The builders are pure; two functions read the database for them: `calendar_meetings` (the
rows as CalendarMeetings, three queries) and `feed_fingerprint` (one aggregate: the ETag).

Views pick the meetings and speak HTTP (meetings/views.py); subscription links and the Atom
feed are in meetings/feeds.py. What calendar apps need, and why the code looks the way it does:
- UIDs come from the meeting's id and the site's host, so a meeting keeps its UID when its
  title or slug changes; SEQUENCE (raised by Meeting.save) tells apps a known event changed.
- Cancelled meetings stay in the feeds as STATUS:CANCELLED, with the title saying so,
  because Google Calendar hides cancelled events instead of marking them.
- VTIMEZONE: icalendar's add_missing_timezones() writes each kind of transition once with the
  later ones as a comma-separated RDATE list; ical.js (Thunderbird) and vobject read only the
  first value, so daylight-time meetings came out an hour off. We write one observance per
  transition, each with its own DTSTART and no RDATE at all, which every parser reads alike.
- Output is deterministic for the same data (DTSTAMP is the meeting's last change), so the
  ETag the views derive from the data without building the feed is a truthful strong one.
"""

import datetime as dt
import functools
import hashlib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Max, QuerySet, Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from icalendar import (
    Calendar,
    Component,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDDDTypes,
    vDuration,
    vGeo,
    vInt,
    vText,
    vUri,
)
from modeltranslation.utils import resolution_order

from meetings.formatting import spoken_list
from meetings.models import Meeting, MeetingSeries, Venue

# What we ask calendar apps to poll at (REFRESH-INTERVAL, X-PUBLISHED-TTL).
REFRESH_INTERVAL = dt.timedelta(hours=1)
PRODID = "-//Police Community Outreach//Outreach meetings//EN"
# Part of every ETag: raise it when the shape of the output changes, so caches refetch.
FEED_FORMAT = "1"

# Time zones a calendar app needs no VTIMEZONE for: icalendar writes their times with a Z.
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Zulu", "Zulu", "Universal"}
_CALENDAR_NAME_UNSAFE = re.compile(r"\s*[,;\\\r\n]+\s*")


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def safe_calendar_text(text: object) -> str:
    """NAME, X-WR-CALNAME and X-WR-CALDESC without `,` `;` `\\` or line breaks.

    Parsers disagree on how to unescape those properties, so we never need escapes there.
    """
    return _CALENDAR_NAME_UNSAFE.sub(" - ", str(text)).strip(" -")


_MISSING = object()


def _translated(obj, field, languages):
    """`obj.<field>` as modeltranslation gives it (first non-empty in `languages`), faster.

    The descriptor looks up the active language on every read; a feed reads thousands.
    """
    for code in languages:
        name = f"{field}_{code}"
        value = obj.__dict__.get(name, _MISSING)
        if value is _MISSING:  # a deferred field: let the model load it
            value = getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return ""


def _languages():
    """The active language and its fallbacks, in the order modeltranslation reads them."""
    return resolution_order(translation.get_language() or settings.LANGUAGE_CODE)


@dataclass(frozen=True, slots=True)
class CalendarMeeting:
    """A meeting as a calendar shows it: the one input of the event builders.

    Its text is in the active language (with modeltranslation's fallbacks); its venue and
    series are model instances, few and shared. `from_meeting` makes one of a Meeting;
    `calendar_meetings` reads a whole feed's worth quickly.
    """

    pk: int
    slug: str
    is_cancelled: bool
    sequence: int
    language: str
    interpretation_languages: list
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    title: str
    summary: str
    host: str
    cancellation_note: str
    venue: Venue
    series: MeetingSeries | None

    @classmethod
    def from_meeting(cls, meeting: Meeting) -> "CalendarMeeting":
        languages = _languages()
        return cls(
            pk=meeting.pk,
            slug=meeting.slug,
            is_cancelled=meeting.is_cancelled,
            sequence=meeting.sequence,
            language=meeting.language,
            interpretation_languages=meeting.interpretation_languages or [],
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            created_at=meeting.created_at,
            updated_at=meeting.updated_at,
            **{field: _translated(meeting, field, languages) for field in _TEXT_FIELDS},
            venue=meeting.venue,
            series=meeting.series if meeting.series_id else None,
        )


_COLUMNS = (
    "pk",
    "slug",
    "status",
    "sequence",
    "language",
    "interpretation_languages",
    "starts_at",
    "ends_at",
    "created_at",
    "updated_at",
    "venue_id",
    "series_id",
)
_TEXT_FIELDS = ("title", "summary", "host", "cancellation_note")


def calendar_meetings(meetings: QuerySet[Meeting]) -> list[CalendarMeeting]:
    """The meetings of a queryset, read for a feed, in three queries whatever their number.

    Model instances cost more to make than the events built from them (Django and
    modeltranslation set up every field), so a feed reads only the columns it shows, in the
    active language and its fallbacks, and fetches the few venues and series once.
    """
    languages = _languages()
    columns = list(_COLUMNS)
    for code in languages:
        columns += [f"{field}_{code}" for field in _TEXT_FIELDS]
    rows = list(meetings.values(*columns))
    venues = Venue.objects.in_bulk({row["venue_id"] for row in rows})
    series_ids = {row["series_id"] for row in rows} - {None}
    series = MeetingSeries.objects.in_bulk(series_ids) if series_ids else {}
    cancelled = Meeting.Status.CANCELLED
    return [
        CalendarMeeting(
            pk=row["pk"],
            slug=row["slug"],
            is_cancelled=row["status"] == cancelled,
            sequence=row["sequence"],
            language=row["language"],
            interpretation_languages=row["interpretation_languages"] or [],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            **{field: _row_text(row, field, languages) for field in _TEXT_FIELDS},
            venue=venues[row["venue_id"]],
            series=series.get(row["series_id"]),
        )
        for row in rows
    ]


def _row_text(row, field, languages):
    for code in languages:
        value = row[f"{field}_{code}"]
        if value not in (None, ""):
            return value
    return ""


class EventWriter:
    """Turns CalendarMeetings into VEVENTs in the active language.

    A feed holds hundreds of meetings at a handful of venues, so the translated phrases,
    each venue's LOCATION and GEO and each series' line are worked out once per calendar,
    and the property objects they give are shared by the events (nothing mutates them).
    """

    _SLUG = "--slug--"

    def __init__(self) -> None:
        language = translation.get_language() or settings.LANGUAGE_CODE
        self.languages = resolution_order(language)
        names = {code: str(name) for code, name in settings.LANGUAGES}
        self.language_names = names
        self.held_in = {
            code: gettext("In %(language)s") % {"language": name} for code, name in names.items()
        }
        self.interpretation = gettext("Interpretation into %(languages)s")
        # Translators: the title of a cancelled meeting in calendar apps and news readers.
        self.cancelled_title = gettext("Cancelled: %(title)s")
        self.cancelled_line = gettext("This meeting is cancelled.")
        self.hosted_by = gettext("Hosted by: %(host)s")
        self.part_of = gettext("Part of: %(series)s")
        self.accessibility = gettext("Accessibility: %(notes)s")
        self.details = gettext("Details: %(url)s")
        # reverse() costs as much as building an event: fill in one address instead.
        self.url_pattern = settings.SITE_URL + reverse(
            "meetings:meeting-detail", kwargs={"slug": self._SLUG}
        )
        self.host = site_host()
        self._venues: dict[int, dict[str, Any]] = {}
        self._series_lines: dict[int, str] = {}
        self._sequences: dict[int, vInt] = {}

    def text(self, obj: Venue | MeetingSeries, field: str) -> str:
        """A venue's or series' text in the active language (they are few: no need to be quick)."""
        return _translated(obj, field, self.languages)

    def page_url(self, meeting: CalendarMeeting) -> str:
        return self.url_pattern.replace(self._SLUG, meeting.slug)

    def summary(self, meeting: CalendarMeeting) -> str:
        if meeting.is_cancelled:
            return self.cancelled_title % {"title": meeting.title}
        return meeting.title

    def location(self, venue: Venue) -> str:
        address = venue.full_address
        return ", ".join(part for part in [self.text(venue, "name"), address] if part)

    def languages_line(self, meeting: CalendarMeeting) -> str:
        """'In Spanish · Interpretation into English', as the pages say it."""
        line = self.held_in.get(meeting.language) or meeting.language
        if meeting.interpretation_languages:
            names = spoken_list(
                self.language_names.get(code, code) for code in meeting.interpretation_languages
            )
            line += " · " + self.interpretation % {"languages": names}
        return line

    def description(self, meeting: CalendarMeeting, *, url: str | None = None) -> str:
        """Plain text: what a person needs to decide to go, and the page with the rest."""
        lines = []
        if meeting.is_cancelled:
            lines.append(self.cancelled_line)
            if meeting.cancellation_note:
                lines.append(meeting.cancellation_note)
            lines.append("")
        if meeting.summary:
            lines.append(meeting.summary)
        lines.append(self.languages_line(meeting))
        if meeting.host:
            lines.append(self.hosted_by % {"host": meeting.host})
        if meeting.series is not None:
            lines.append(self._series_line(meeting.series))
        notes = self._venue(meeting.venue)["accessibility"]
        if notes:
            lines.append(notes)
        lines.append(self.details % {"url": url or self.page_url(meeting)})
        return "\n".join(lines)

    def event(self, meeting: CalendarMeeting) -> Event:
        """One VEVENT. No ORGANIZER or ATTENDEE: with them, apps e-mail the organizer."""
        venue = self._venue(meeting.venue)
        url = self.page_url(meeting)
        # The last change, not the time of the request: the same data gives the same bytes.
        changed = vDDDTypes(meeting.updated_at.astimezone(dt.UTC))
        properties = {
            "UID": vText(f"meeting-{meeting.pk}@{self.host}"),
            "DTSTAMP": changed,
            "DTSTART": vDDDTypes(meeting.starts_at.astimezone(venue["tzinfo"])),
            "DTEND": vDDDTypes(meeting.ends_at.astimezone(venue["tzinfo"])),
            "SUMMARY": vText(self.summary(meeting)),
            "DESCRIPTION": vText(self.description(meeting, url=url)),
            "LOCATION": venue["location"],
        }
        if venue["geo"] is not None:
            properties["GEO"] = venue["geo"]
        properties.update(
            {
                "URL": vUri(url),
                "STATUS": _CANCELLED if meeting.is_cancelled else _CONFIRMED,
                "SEQUENCE": self._sequence(meeting.sequence),
                "CREATED": vDDDTypes(meeting.created_at.astimezone(dt.UTC)),
                "LAST-MODIFIED": changed,
            }
        )
        # Properties are handed over whole: Component.add() would infer each type again,
        # which costs about as much as serializing (see the benchmark_feeds command).
        return Event(properties)

    def _venue(self, venue):
        known = self._venues.get(venue.pk)
        if known is None:
            has_geo = venue.latitude is not None and venue.longitude is not None
            notes = self.text(venue, "accessibility_notes")
            known = self._venues[venue.pk] = {
                # Times in a UTC venue come out with a Z and need no VTIMEZONE.
                "tzinfo": dt.UTC if venue.time_zone in _UTC_NAMES else venue.tzinfo,
                "location": vText(self.location(venue)),
                "geo": vGeo((float(venue.latitude), float(venue.longitude))) if has_geo else None,
                "accessibility": self.accessibility % {"notes": notes} if notes else "",
            }
        return known

    def _series_line(self, series):
        line = self._series_lines.get(series.pk)
        if line is None:
            line = self._series_lines[series.pk] = self.part_of % {
                "series": self.text(series, "title")
            }
        return line

    def _sequence(self, number):
        value = self._sequences.get(number)
        if value is None:
            value = self._sequences[number] = vInt(number)
        return value


_CONFIRMED = vText("CONFIRMED")
_CANCELLED = vText("CANCELLED")


def event(meeting: CalendarMeeting) -> Event:
    """One VEVENT for the meeting, in the active language."""
    return EventWriter().event(meeting)


def summary(meeting: CalendarMeeting) -> str:
    """The title calendar apps show: 'Cancelled: …' when cancelled (Google hides those)."""
    return EventWriter().summary(meeting)


def location(venue: Venue) -> str:
    return EventWriter().location(venue)


def description(meeting: CalendarMeeting) -> str:
    return EventWriter().description(meeting)


@functools.lru_cache(maxsize=256)
def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `tzid` from January 1 of `first_year` to the end of `last_year`.

    One STANDARD or DAYLIGHT observance per change of offset, each with its own DTSTART
    (the moment of change in the time before it, as RFC 5545 says) and no RDATE.
    """
    tz = zoneinfo.ZoneInfo(tzid)
    start = dt.datetime(first_year, 1, 1, tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=tz).astimezone(dt.UTC)

    def state(instant):
        local = instant.astimezone(tz)
        return local.utcoffset(), bool(local.dst()), local.tzname()

    def observance(onset_utc, before, after):
        offset_to, is_daylight, name = after
        component = TimezoneDaylight() if is_daylight else TimezoneStandard()
        component.add("DTSTART", (onset_utc + before[0]).replace(tzinfo=None))
        component.add("TZOFFSETFROM", before[0])
        component.add("TZOFFSETTO", offset_to)
        component.add("TZNAME", name or str(offset_to))
        return component

    result = Timezone()
    result.add("TZID", tzid)
    current = state(start)
    result.add_component(observance(start, current, current))
    day = dt.timedelta(days=1)
    instant = start
    while instant < end:
        following = state(instant + day)
        if following != current:
            # Narrow the change down to the second: no zone changes twice in a day.
            low, high = instant, instant + day
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if state(middle) == current:
                    low = middle
                else:
                    high = middle
            result.add_component(observance(high.replace(microsecond=0), current, following))
            current = following
        instant += day
    return result


def _calendar_shell(meetings, *, name, description, time_zone):
    """The VCALENDAR's own properties and the VTIMEZONEs the meetings need; no events."""
    calendar = Calendar()
    calendar["VERSION"] = vText("2.0")
    calendar["PRODID"] = vText(PRODID)
    calendar["CALSCALE"] = vText("GREGORIAN")
    calendar["METHOD"] = vText("PUBLISH")
    if name is not None:
        name = safe_calendar_text(name)
        calendar["NAME"] = vText(name)
        calendar["X-WR-CALNAME"] = vText(name)
        if description is not None:
            description = safe_calendar_text(description)
            calendar["DESCRIPTION"] = vText(description)
            calendar["X-WR-CALDESC"] = vText(description)
        calendar["X-WR-TIMEZONE"] = vText(time_zone or settings.TIME_ZONE)
        # Calendar.new(refresh_interval=...) leaves out VALUE=DURATION, and a timedelta
        # added as X-PUBLISHED-TTL comes out as "1:00:00": write both as durations.
        calendar["REFRESH-INTERVAL"] = vDuration(REFRESH_INTERVAL, params={"VALUE": "DURATION"})
        calendar["X-PUBLISHED-TTL"] = vDuration(REFRESH_INTERVAL)

    years: dict[str, tuple[int, int]] = {}
    for meeting in meetings:
        venue = meeting.venue
        if venue.time_zone in _UTC_NAMES:
            continue
        first, last = years.get(venue.time_zone, (9999, 0))
        years[venue.time_zone] = (
            min(first, meeting.starts_at.astimezone(venue.tzinfo).year),
            max(last, meeting.ends_at.astimezone(venue.tzinfo).year),
        )
    # VTIMEZONEs come before the events that use them.
    for tzid in sorted(years):
        calendar.add_component(vtimezone(tzid, *years[tzid]))
    return calendar


def build_calendar(
    meetings: Iterable[CalendarMeeting],
    *,
    name: object | None = None,
    description: object | None = None,
    time_zone: str | None = None,
) -> Calendar:
    """A VCALENDAR with one VEVENT per meeting (active language), ready for `to_ical()`.

    `name` and `description` make it a subscribable calendar (NAME, X-WR-CALNAME,
    X-WR-CALDESC, refresh hints). Leave them out for a single meeting's file: Outlook opens
    a file with X-WR-CALNAME as a separate calendar instead of adding the event.
    `time_zone` (X-WR-TIMEZONE) defaults to settings.TIME_ZONE.
    """
    meetings = list(meetings)
    calendar = _calendar_shell(meetings, name=name, description=description, time_zone=time_zone)
    writer = EventWriter()
    calendar.subcomponents.extend(writer.event(meeting) for meeting in meetings)
    return calendar


def calendar_bytes(calendar: Component) -> bytes:
    """The calendar as sent: UTF-8 without a byte-order mark, CRLF, folded at 75 octets."""
    return calendar.to_ical(sorted=False)


_END = b"END:VCALENDAR\r\n"


def feed_bytes(
    meetings: Iterable[CalendarMeeting],
    *,
    name: object | None = None,
    description: object | None = None,
    time_zone: str | None = None,
) -> bytes:
    """`calendar_bytes(build_calendar(...))`, byte for byte, built one event at a time.

    Each event is serialized as soon as it is built, so its objects die young: a feed of
    a thousand meetings never holds a thousand events, and Python's garbage collector
    has no pile of them to walk again and again (a third of the time, otherwise).
    """
    meetings = list(meetings)
    shell = calendar_bytes(
        _calendar_shell(meetings, name=name, description=description, time_zone=time_zone)
    )
    assert shell.endswith(_END)
    writer = EventWriter()
    parts = [shell[: -len(_END)]]
    parts.extend(calendar_bytes(writer.event(meeting)) for meeting in meetings)
    parts.append(_END)
    return b"".join(parts)


def meeting_calendar_bytes(meeting: Meeting) -> bytes:
    """A complete .ics file with the one meeting, in the active language (also when cancelled)."""
    return feed_bytes([CalendarMeeting.from_meeting(meeting)])


def personal_calendar_bytes(meeting: Meeting, *, private_url: str) -> bytes:
    """One meeting's file for the person who RSVPed: its description also carries their
    private link, so the calendar app keeps it for them. Only this file, served behind that
    link, ever carries it: feeds and the public .ics never do."""
    calendar = build_calendar([CalendarMeeting.from_meeting(meeting)])
    event = calendar.walk("VEVENT")[0]
    line = gettext("Your RSVP, to see, change or cancel it (private link, do not share): %(url)s")
    event["DESCRIPTION"] = vText(f"{event['DESCRIPTION']}\n\n{line % {'url': private_url}}")
    return calendar_bytes(calendar)


def feed_fingerprint(
    meetings: QuerySet[Meeting], *, extra: Iterable[object] = ()
) -> tuple[str, dt.datetime | None, int]:
    """(strong ETag, Last-Modified or None, count) for a feed of `meetings`, unbuilt.

    One grouped query: per venue and series, the count, id sum and latest change of the
    meetings, with the venue and series text the events show (venues and series have no
    timestamp of their own). The active language, the site address and `extra` (the
    calendar's name and description) are part of it too.
    """
    text_fields = []
    for code, _name in settings.LANGUAGES:
        text_fields += [
            f"venue__name_{code}",
            f"venue__accessibility_notes_{code}",
            f"series__title_{code}",
        ]
    rows = (
        meetings.order_by()
        .values(
            "venue_id",
            "series_id",
            "venue__street_address",
            "venue__city",
            "venue__state",
            "venue__postal_code",
            "venue__latitude",
            "venue__longitude",
            "venue__time_zone",
            *text_fields,
        )
        .annotate(count=Count("pk"), id_sum=Sum("pk"), last=Max("updated_at"))
    )
    rows = sorted(rows, key=lambda row: (row["venue_id"], row["series_id"] or 0))
    digest = hashlib.sha256()
    for part in (FEED_FORMAT, translation.get_language(), settings.SITE_URL, *extra):
        digest.update(repr(part).encode() + b"\0")
    for row in rows:
        digest.update(repr(sorted(row.items())).encode() + b"\0")
    last_modified = max((row["last"] for row in rows), default=None)
    count = sum(row["count"] for row in rows)
    return digest.hexdigest()[:32], last_modified, count
