"""Template tags and filters for the public pages and emails: `{% load meeting_tags %}`.

Dates, times and language names come from meetings/formatting.py through thin filters;
here too are links to this page in the other languages, notices when a text shows in
another language than the reader's, and a meeting's schema.org data."""

import json

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from modeltranslation.utils import build_localized_fieldname, resolution_order
from modeltranslation.utils import get_language as content_language_code

from meetings import formatting

register = template.Library()


# Thin filters over meetings/formatting.py: the functions themselves live there.
register.filter(formatting.long_date)
register.filter(formatting.short_time)
register.simple_tag(formatting.time_range)
register.filter(formatting.spoken_list)
register.filter(formatting.language_name)


@register.simple_tag(takes_context=True)
def language_links(context):
    """This page in every language: [{code, name, url, is_current}], query string kept."""
    request = context.get("request")
    path = request.get_full_path() if request else "/"
    current = translation.get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        links.append(
            {
                "code": code,
                "name": formatting.own_language_name(code),
                "url": url_in_language(path, current, code),
                "is_current": code == current,
            }
        )
    return links


def url_in_language(path, current, code):
    """`path` (with its query string) in the language `code`.

    Pages Django cannot resolve (a 404) keep their path with the language prefix swapped,
    so the reader gets the same "not found" page in the other language.
    """
    # "//evil.example/x" (a 404 for that path) would be a link to another site.
    path = "/" + path.lstrip("/\\")
    url = translate_url(path, code)
    prefix = f"/{current}/"
    if url == path and code != current and path.startswith(prefix):
        url = f"/{code}/{path.removeprefix(prefix)}"
    return url


@register.filter
def content_language(obj, field):
    """The language whose text `obj.<field>` shows: the reader's, else the fallback's.

    Follows django-modeltranslation's fallback order (MODELTRANSLATION_FALLBACK_LANGUAGES);
    returns "" when the field is empty in every language.
    """
    for code in resolution_order(content_language_code()):
        if getattr(obj, build_localized_fieldname(field, code), None):
            return code
    return ""


@register.filter
def shows_fallback(obj, field):
    """Whether `obj.<field>` shows another language's text because the reader's is empty.

    `{% if meeting|shows_fallback:"description" %}…only available in English…{% endif %}`;
    never true for English readers.
    """
    shown = content_language(obj, field)
    return bool(shown) and shown != content_language_code()


@register.simple_tag(takes_context=True)
def absolute_url(context, path):
    """SITE_URL + path: canonical and alternate links, feeds and emails use the public address."""
    return settings.SITE_URL + path


# Fewer seats left than this share of the capacity: "LimitedAvailability".
LIMITED_SHARE = 0.2


def seat_availability(meeting):
    """schema.org availability from the seats left: InStock, LimitedAvailability, SoldOut."""
    seats_left = meeting.seats_left
    if seats_left is None:
        return "https://schema.org/InStock"
    if seats_left == 0:
        return "https://schema.org/SoldOut"
    if seats_left <= max(1, int(meeting.capacity * LIMITED_SHARE)):
        return "https://schema.org/LimitedAvailability"
    return "https://schema.org/InStock"


def _offer(meeting):
    """A free seat, while one can be had: RSVPs open, or a drop-in meeting (no RSVPs)."""
    if meeting.is_cancelled or meeting.is_past:
        return None
    if meeting.rsvp_enabled and not meeting.is_taking_rsvps:
        return None  # RSVPs have closed
    offer = {
        "@type": "Offer",
        "price": "0",
        "priceCurrency": "USD",
        "availability": seat_availability(meeting),
        "url": settings.SITE_URL + meeting.get_absolute_url(),
    }
    if meeting.published_at is not None:
        offer["validFrom"] = timezone.localtime(meeting.published_at, meeting.tzinfo).isoformat()
    return offer


_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def event_json_ld(meeting):
    """schema.org Event data for search engines, as a <script type="application/ld+json">."""
    venue = meeting.venue
    place = {
        "@type": "Place",
        "name": venue.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": venue.street_address,
            "addressLocality": venue.city,
            "addressRegion": venue.state,
            "postalCode": venue.postal_code,
            "addressCountry": "US",
        },
    }
    if venue.latitude is not None and venue.longitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(venue.latitude),
            "longitude": float(venue.longitude),
        }
    if meeting.is_cancelled:
        status = "https://schema.org/EventCancelled"
    elif meeting.is_moved:
        status = "https://schema.org/EventRescheduled"
    else:
        status = "https://schema.org/EventScheduled"
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": meeting.title,
        "description": meeting.summary or meeting.description,
        "startDate": meeting.local_starts_at.isoformat(),
        "endDate": meeting.local_ends_at.isoformat(),
        "eventStatus": status,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "inLanguage": meeting.language,
        "isAccessibleForFree": True,
        "location": place,
        "url": settings.SITE_URL + meeting.get_absolute_url(),
        "organizer": {"@type": "Organization", "name": str(_("Police Community Outreach"))},
    }
    if meeting.is_moved:
        data["previousStartDate"] = meeting.local_previous_starts_at.isoformat()
    if offer := _offer(meeting):
        data["offers"] = offer
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308
