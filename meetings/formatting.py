"""Dates, times and language names in the reader's language (the active one).

Templates use these through the thin filters in templatetags/meeting_tags.py; the calendar
builders (ical.py) and the forms call them directly.
"""

import datetime as dt
import unicodedata
from collections.abc import Iterable

from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from django.conf import settings
from django.utils import translation


def babel_locale() -> str:
    """The CLDR locale for the active language (settings.BABEL_LOCALES may refine it)."""
    code = translation.get_language() or settings.LANGUAGE_CODE
    return settings.BABEL_LOCALES.get(code, code).replace("-", "_")


def long_date(value: dt.date | None) -> str:
    """'Wednesday, February 12, 2025' / 'miércoles, 12 de febrero de 2025'.

    Expects a datetime already in the meeting's time zone (`meeting.local_starts_at`).
    """
    if not value:
        return ""
    pattern = settings.LONG_DATE_PATTERNS.get(translation.get_language(), "full")
    return format_date(value, pattern, locale=babel_locale())


def short_time(value: dt.datetime | None) -> str:
    """'6:30 PM' / '6:30 p.m.' / '6:30 tối', in the datetime's own time zone."""
    if not value:
        return ""
    periods = settings.TWELVE_HOUR_CLOCKS.get(translation.get_language())
    if periods:
        local = value.astimezone(value.tzinfo)
        word = [word for start, word in periods if local.hour >= start][-1]
        return f"{local.hour % 12 or 12}:{local.minute:02d} {word}"
    return format_time(value, "short", tzinfo=value.tzinfo, locale=babel_locale())


def time_range(start: dt.datetime | None, end: dt.datetime | None) -> str:
    return f"{short_time(start)} – {short_time(end)}"


def spoken_list(items: Iterable[object]) -> str:
    """Items joined as the reader's language does: "English and Vietnamese", "inglés y
    vietnamita", "tiếng Anh và tiếng Việt"."""
    return format_list([str(item) for item in items], locale=babel_locale())


def language_name(code: str) -> str:
    """A language code as the reader calls it ('Spanish' / 'español')."""
    return str(dict(settings.LANGUAGES).get(code, code))


def own_language_name(code: str) -> str:
    """A language's name in itself, capitalised: 'English', 'Español', 'Tiếng Việt'."""
    # Django spells some names with combining accents ("Tiếng Việt"): compose them.
    name = unicodedata.normalize("NFC", translation.get_language_info(code)["name_local"])
    return name[:1].upper() + name[1:]


def short_date(value):
    """'Thu, Mar 12' / 'jue, 12 de mar' / 'Th 5, 12 thg 3': a date for a text message."""
    if not value:
        return ""
    return format_skeleton("MMMEd", value, locale=babel_locale())
