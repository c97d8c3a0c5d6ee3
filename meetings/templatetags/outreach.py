"""Dates in the reader's language, links to this page in the other languages, and notices
when a meeting, series or venue text shows in another language than the reader's."""

import json
import unicodedata

from babel.dates import format_date, format_time
from babel.lists import format_list
from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from modeltranslation.utils import build_localized_fieldname, resolution_order
from modeltranslation.utils import get_language as content_language_code

register = template.Library()


def babel_locale():
    """The CLDR locale for the active language (settings.BABEL_LOCALES may refine it)."""
    code = translation.get_language() or settings.LANGUAGE_CODE
    return settings.BABEL_LOCALES.get(code, code).replace("-", "_")


@register.filter
def long_date(value):
    """'Wednesday, February 12, 2025' / 'miércoles, 12 de febrero de 2025'.

    Expects a datetime already in the meeting's time zone (`meeting.local_starts_at`).
    """
    if not value:
        return ""
    return format_date(value, "full", locale=babel_locale())


@register.filter
def medium_date(value):
    if not value:
        return ""
    return format_date(value, "medium", locale=babel_locale())


@register.filter
def short_time(value):
    """'6:30 PM' / '6:30 p.m.' / '18:30', in the datetime's own time zone."""
    if not value:
        return ""
    return format_time(value, "short", tzinfo=value.tzinfo, locale=babel_locale())


@register.simple_tag
def time_range(start, end):
    return f"{short_time(start)} – {short_time(end)}"


@register.simple_tag(takes_context=True)
def language_links(context):
    """This page in every language: [{code, name, url, is_current}], query string kept."""
    request = context.get("request")
    path = request.get_full_path() if request else "/"
    current = translation.get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        # Django spells some names with combining accents ("Tiếng Việt"): compose them.
        name = unicodedata.normalize("NFC", translation.get_language_info(code)["name_local"])
        links.append(
            {
                "code": code,
                # Written in its own language and capitalised: English, Español, Tiếng Việt.
                "name": name[:1].upper() + name[1:],
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


@register.filter
def spoken_list(items):
    """Items joined as the reader's language does: "English and Vietnamese", "inglés y
    vietnamita", "tiếng Anh và tiếng Việt"."""
    return format_list([str(item) for item in items], locale=babel_locale())


@register.filter
def language_name(code):
    """A language code as the reader calls it ('Spanish' / 'español')."""
    names = dict(settings.LANGUAGES)
    return str(names.get(code, code))


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
    status = (
        "https://schema.org/EventCancelled"
        if meeting.is_cancelled
        else "https://schema.org/EventScheduled"
    )
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
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308
