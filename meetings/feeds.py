"""What pages offer to subscribe to (calendar feeds and one-click links) and the Atom feed
of newly announced meetings. The calendars themselves are built in meetings/ical.py."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext, pgettext

from meetings import ical
from meetings.formatting import language_name, long_date, time_range
from meetings.models import Meeting, MeetingSeries, Venue

ATOM_ITEMS = 30


@dataclass(frozen=True)
class CalendarFeed:
    """A subscribable feed: its address, the name calendar apps show, and one-click links."""

    path: str
    name: str
    description: str
    time_zone: str | None = None

    @classmethod
    def for_all(cls) -> Self:
        return cls(
            path=reverse("meetings:feed-all"),
            name=gettext("Police community meetings"),
            description=gettext(
                "Meetings between the police department and the communities it serves"
            ),
        )

    @classmethod
    def for_venue(cls, venue: Venue) -> Self:
        return cls(
            path=reverse("meetings:feed-venue", kwargs={"slug": venue.slug}),
            name=gettext("Police community meetings at %(venue)s") % {"venue": venue.name},
            description=gettext("Meetings with the police department at %(venue)s")
            % {"venue": venue.name},
            time_zone=venue.time_zone,
        )

    @classmethod
    def for_series(cls, series: MeetingSeries) -> Self:
        return cls(
            path=reverse("meetings:feed-series", kwargs={"slug": series.slug}),
            name=pgettext("calendar name", "%(series)s: police community meetings")
            % {"series": series.title},
            description=gettext("Every meeting in the series %(series)s")
            % {"series": series.title},
        )

    @classmethod
    def for_language(cls, code: str) -> Self:
        language = language_name(code)
        return cls(
            path=reverse("meetings:feed-language", kwargs={"code": code}),
            name=gettext("Police community meetings in %(language)s") % {"language": language},
            description=gettext(
                "Meetings held in %(language)s or with interpretation into %(language)s"
            )
            % {"language": language},
        )

    @property
    def calendar_options(self) -> dict[str, Any]:
        """The keyword arguments of `build_calendar` and `feed_bytes` for this feed."""
        return {"name": self.name, "description": self.description, "time_zone": self.time_zone}

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.path

    @property
    def webcal_url(self) -> str:
        """webcal:// makes browsers hand the address to the calendar app to subscribe."""
        return "webcal://" + self.url.split("://", 1)[1]

    @property
    def google_url(self) -> str:
        return "https://calendar.google.com/calendar/render?" + urlencode({"cid": self.webcal_url})

    @property
    def outlook_url(self) -> str:
        return "https://outlook.live.com/calendar/0/addfromweb?" + urlencode(
            {"url": self.url, "name": ical.safe_calendar_text(self.name)}
        )


def _page_url(meeting):
    return settings.SITE_URL + meeting.get_absolute_url()


def _google_time(value):
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def google_event_url(meeting: Meeting) -> str:
    """Google Calendar's 'add this event' form, filled in (one event, not a subscription)."""
    details = "\n\n".join(part for part in [meeting.summary, _page_url(meeting)] if part)
    return "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": ical.summary(ical.CalendarMeeting.from_meeting(meeting)),
            "dates": f"{_google_time(meeting.starts_at)}/{_google_time(meeting.ends_at)}",
            "details": details,
            "location": ical.location(meeting.venue),
            "ctz": meeting.venue.time_zone,
        }
    )


class AnnouncementsFeed(Feed):
    """Atom: the meetings most recently announced (published), newest first."""

    feed_type = Atom1Feed

    def title(self):
        return gettext("New police community meetings")

    def subtitle(self):
        return gettext("Meetings between the police department and the communities it serves")

    def link(self):
        return settings.SITE_URL + reverse("meetings:meeting-list")

    def feed_url(self):
        return settings.SITE_URL + reverse("meetings:feed-atom")

    def feed_guid(self):
        return f"tag:{ical.site_host()},2025:announcements"

    def author_name(self):
        return gettext("Police Community Outreach")

    def items(self):
        return (
            Meeting.objects.published()
            .filter(published_at__isnull=False)
            .select_related("venue", "series")
            .order_by("-published_at", "-pk")[:ATOM_ITEMS]
        )

    def item_title(self, item):
        return ical.summary(ical.CalendarMeeting.from_meeting(item))

    def item_description(self, item):
        start, end = item.local_starts_at, item.local_ends_at
        when_where = f"{long_date(start)}, {time_range(start, end)}\n{ical.location(item.venue)}"
        text = ical.description(ical.CalendarMeeting.from_meeting(item))
        # Atom1Feed writes this as type="html": escape, and keep the lines apart.
        return linebreaks(escape(when_where + "\n" + text))

    def item_link(self, item):
        return _page_url(item)

    def item_guid(self, item):
        return f"tag:{ical.site_host()},2025:meeting-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)
