"""Planning a campaign: the dates of a series from a pattern, meetings generated as drafts,
and copies of a meeting or a whole series. Publishing and later changes go through the
services (`publish_meeting`, `save_meeting`), so calendars and RSVPs are told once."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from meetings.models import Meeting, MeetingSeries, Venue

# The most dates one pattern may make: a campaign, not a calendar for years.
MAX_DATES = 60


def pattern_dates(
    *,
    start: dt.date,
    weekdays: set[int] | None = None,
    every_weeks: int = 1,
    until: dt.date | None = None,
    count: int | None = None,
    dates: list[dt.date] | None = None,
) -> list[dt.date]:
    """The dates of a pattern, in order, from `start` on.

    Either a list of `dates`, or `weekdays` (0 is Monday) of every week or every
    `every_weeks` weeks (the week of `start` is the first), through `until` or for `count`
    dates; never more than MAX_DATES.
    """
    if dates:
        chosen = sorted({day for day in dates if day >= start})
        return chosen[: count or MAX_DATES][:MAX_DATES]
    if not weekdays or (until is None and not count):
        return []
    week_start = start - dt.timedelta(days=start.weekday())
    result: list[dt.date] = []
    day = start
    limit = min(count or MAX_DATES, MAX_DATES)
    while len(result) < limit and (until is None or day <= until):
        weeks_in = (day - week_start).days // 7
        if day.weekday() in weekdays and weeks_in % every_weeks == 0:
            result.append(day)
        day += dt.timedelta(days=1)
        if (day - start).days > 366 * 2:
            break
    return result


def booked_days(
    venue: Venue, days: Iterable[dt.date], *, exclude: Iterable[Meeting] = ()
) -> set[dt.date]:
    """Those of `days` on which the venue already has a meeting (not cancelled)."""
    days = set(days)
    if not days:
        return set()
    meetings = (
        Meeting.objects.filter(venue=venue)
        .exclude(status=Meeting.Status.CANCELLED)
        .exclude(pk__in=[meeting.pk for meeting in exclude])
    )
    return {
        meeting.local_starts_at.date()
        for meeting in meetings.select_related("venue")
        if meeting.local_starts_at.date() in days
    }


def unique_slug(base: str, *, model: type[Meeting] | type[MeetingSeries] = Meeting) -> str:
    """`base`, or `base-2`, `base-3`… whichever is free (slugs are addresses: never reused)."""
    base = slugify(base)[:90] or "meeting"
    slug, number = base, 1
    while model.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


@dataclass
class PlannedMeeting:
    """One date a pattern makes, before anything is saved (the preview)."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    venue_booked: bool


def plan(
    *, venue: Venue, days: Iterable[dt.date], start_time: dt.time, end_time: dt.time
) -> list[PlannedMeeting]:
    """The meetings `days` would make at `venue`, in its time zone, with days it is booked."""
    zone = venue.tzinfo
    booked = booked_days(venue, days)
    return [
        PlannedMeeting(
            starts_at=dt.datetime.combine(day, start_time, tzinfo=zone),
            ends_at=dt.datetime.combine(day, end_time, tzinfo=zone),
            venue_booked=day in booked,
        )
        for day in days
    ]


def _translated_copy(source, field, target, target_field=None):
    for code, _name in settings.LANGUAGES:
        setattr(target, f"{target_field or field}_{code}", getattr(source, f"{field}_{code}"))


@transaction.atomic
def generate_meetings(
    *,
    series: MeetingSeries,
    planned: list[PlannedMeeting],
    venue: Venue,
    language: str,
    interpretation_languages: list[str],
    capacity: int | None,
    host: str = "",
) -> list[Meeting]:
    """Draft meetings of `series`, one per planned date, titled like the series in every
    language. Staff publish them together (`publish_meeting`) once they look right."""
    meetings = []
    for item in planned:
        meeting = Meeting(
            series=series,
            venue=venue,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            language=language,
            interpretation_languages=list(interpretation_languages),
            capacity=capacity,
            host=host,
            status=Meeting.Status.DRAFT,
            slug=unique_slug(f"{series.slug}-{item.starts_at.date().isoformat()}"),
        )
        _translated_copy(series, "title", meeting)
        meeting.save()
        meetings.append(meeting)
    return meetings


def _copy_meeting(
    meeting: Meeting, *, starts_at: dt.datetime, series: MeetingSeries | None = None
) -> Meeting:
    copy = Meeting(
        series=series if series is not None else meeting.series,
        venue=meeting.venue,
        starts_at=starts_at,
        ends_at=starts_at + (meeting.ends_at - meeting.starts_at),
        language=meeting.language,
        interpretation_languages=list(meeting.interpretation_languages),
        capacity=meeting.capacity,
        rsvp_enabled=meeting.rsvp_enabled,
        status=Meeting.Status.DRAFT,
        slug=unique_slug(f"{meeting.slug.rsplit('-20', 1)[0]}-{starts_at.date().isoformat()}"),
    )
    for field in ("title", "summary", "description", "host"):
        _translated_copy(meeting, field, copy)
    copy.save()
    return copy


@transaction.atomic
def duplicate_meeting(meeting: Meeting, *, on: dt.date) -> Meeting:
    """A draft copy of `meeting` on another day, same local time; no RSVPs are copied."""
    starts_at = dt.datetime.combine(on, meeting.local_starts_at.time(), tzinfo=meeting.tzinfo)
    return _copy_meeting(meeting, starts_at=starts_at)


@transaction.atomic
def duplicate_series(series: MeetingSeries, *, weeks: int) -> MeetingSeries:
    """A new series with a draft copy of every meeting of `series` (cancelled ones left out),
    `weeks` weeks later, at the same local times."""
    copy = MeetingSeries(slug=unique_slug(f"{series.slug}-copy", model=MeetingSeries))
    for field in ("title", "description"):
        _translated_copy(series, field, copy)
    copy.save()
    for meeting in series.meetings.exclude(status=Meeting.Status.CANCELLED).select_related("venue"):
        local = meeting.local_starts_at
        day = local.date() + dt.timedelta(weeks=weeks)
        starts_at = dt.datetime.combine(day, local.time(), tzinfo=meeting.tzinfo)
        _copy_meeting(meeting, starts_at=starts_at, series=copy)
    return copy


def later_in_series(meeting: Meeting, *, after: dt.datetime | None = None) -> QuerySet[Meeting]:
    """The meetings of the same series after this one that a change may still move.

    "After" means after the meeting's start as it is now and, when `after` is given (its
    start before a move), after that too: a meeting moved before an earlier one of its series
    does not make that one "later". Cancelled meetings are never moved.
    """
    if meeting.series_id is None:
        return Meeting.objects.none()
    starts_after = meeting.starts_at if after is None else max(after, meeting.starts_at)
    return (
        Meeting.objects.filter(series_id=meeting.series_id, starts_at__gt=starts_after)
        .exclude(pk=meeting.pk)
        .exclude(status=Meeting.Status.CANCELLED)
        .select_related("venue")
        .order_by("starts_at")
    )


def moved_like(meeting: Meeting, *, model: Meeting) -> Meeting:
    """`meeting` given `model`'s venue, local start time and length, on its own day."""
    local_start = model.starts_at.astimezone(model.venue.tzinfo)
    day = meeting.starts_at.astimezone(meeting.venue.tzinfo).date()
    meeting.venue = model.venue
    meeting.starts_at = dt.datetime.combine(day, local_start.time(), tzinfo=model.venue.tzinfo)
    meeting.ends_at = meeting.starts_at + (model.ends_at - model.starts_at)
    return meeting
