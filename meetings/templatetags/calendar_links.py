"""Calendar links for pages: the feed a page offers, and 'add this meeting' links."""

from django import template

from meetings import feeds

register = template.Library()


@register.simple_tag
def calendar_feed(*, venue=None, series=None):
    """The feed a page offers to subscribe to: its venue's or series', else all meetings.

    `{% calendar_feed venue=venue as feed %}` gives feed.url, feed.webcal_url,
    feed.google_url, feed.outlook_url and feed.name (the name calendar apps show).
    """
    if venue is not None:
        return feeds.CalendarFeed.for_venue(venue)
    if series is not None:
        return feeds.CalendarFeed.for_series(series)
    return feeds.CalendarFeed.for_all()


@register.simple_tag
def google_calendar_event_url(meeting):
    return feeds.google_event_url(meeting)
