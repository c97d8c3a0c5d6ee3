"""The public read API under /api/v1/: meetings, venues and series as JSON, for partners.

Built with django-ninja: the pydantic schemas below write both the JSON and the OpenAPI 3
document (/api/v1/openapi.json), so the two cannot drift apart. Every answer is built by the
same QuerySet methods as the pages and kept in the same cache (meetings/caching.py) under
the language and the full address: an answer that shows seats is kept
SEATS_FRESH_SECONDS, like the pages that show them, the others PAGE_CACHE_SECONDS.

Nothing here reads an RSVP beyond the seat count the meeting pages show: no name, email,
note or need ever leaves through the API. `ApiGuard` (a middleware) answers CORS preflights,
opens GET to every origin and applies the per-client rate limit (meetings/ratelimit.py:
a keyed hash of the client, never its address).
"""

import base64
import binascii
import datetime as dt
import hashlib
import json
from typing import Literal

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.translation import gettext
from django.utils.translation.trans_real import parse_accept_lang_header
from ninja import Field, Header, NinjaAPI, Query, Schema
from ninja.errors import ValidationError

from meetings import caching
from meetings.feeds import CalendarFeed
from meetings.formatting import language_name
from meetings.models import Meeting, MeetingSeries, Venue
from meetings.ratelimit import is_rate_limited

API_PREFIX = "/api/v1/"
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SEARCH_MAX_LENGTH = 100
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
RETRY_AFTER_SECONDS = 60
# The parameters an answer may be kept in the cache for; any other is answered, never kept.
CACHED_PARAMETERS = frozenset(
    {"lang", "when", "language", "area", "venue", "series", "date_from", "date_to", "q"}
    | {"cursor", "limit"}
)


class ApiError(Exception):
    def __init__(self, status, detail, errors=()):
        self.status, self.detail, self.errors = status, detail, list(errors)


# Schemas: what the JSON holds, and what the OpenAPI document says it holds. ---------------


class Problem(Schema):
    parameter: str = Field(description="The query parameter that was refused.")
    message: str = Field(description="Why, in the answer's language.")


class Error(Schema):
    detail: str = Field(description="What went wrong, in the answer's language.")
    errors: list[Problem] = Field(default_factory=list)


LocalizedUrls = dict[str, str]
CODES = ", ".join(code for code, _name in settings.LANGUAGES)
LOCALIZED_URLS = f"One absolute URL per site language, keyed by language code ({CODES})."


class Language(Schema):
    code: str = Field(description=f"ISO 639-1 code: one of {CODES}.")
    name: str = Field(description="The language's name in the answer's language.")


class Place(Schema):
    slug: str
    name: str
    street_address: str
    city: str
    state: str
    postal_code: str
    address: str = Field(description="Street, city, state and postal code on one line.")
    area: str = Field(description="The neighborhood residents know it by (may be empty).")
    latitude: float | None
    longitude: float | None
    time_zone: str = Field(description="IANA time zone of the meetings held there.")


class Venue_(Place):
    accessibility_notes: str
    directions_notes: str
    page_urls: LocalizedUrls = Field(description=LOCALIZED_URLS)
    feed_urls: LocalizedUrls = Field(description="The venue's iCalendar feed. " + LOCALIZED_URLS)


class SeriesRef(Schema):
    slug: str
    title: str


class Series(SeriesRef):
    description: str
    page_urls: LocalizedUrls = Field(description=LOCALIZED_URLS)
    feed_urls: LocalizedUrls = Field(description="The series' iCalendar feed. " + LOCALIZED_URLS)


class MeetingOut(Schema):
    slug: str
    title: str
    summary: str
    description: str = Field(description="Plain text, never HTML.")
    status: Literal["scheduled", "moved", "cancelled"] = Field(
        description="moved: published and moved to another start (see previous_starts_at)."
    )
    starts_at: dt.datetime = Field(description="ISO 8601 with the venue's UTC offset.")
    ends_at: dt.datetime = Field(description="ISO 8601 with the venue's UTC offset.")
    previous_starts_at: dt.datetime | None = Field(
        description="The start before the latest move, or null."
    )
    time_zone: str = Field(description="IANA time zone the times are given in.")
    cancellation_note: str
    language: Language = Field(description="The language the meeting is held in.")
    interpretation: list[Language] = Field(
        description="Languages an interpreter will be present for."
    )
    place: Place
    series: SeriesRef | None
    capacity: int | None = Field(description="Seats for RSVPs; null for no limit.")
    seats_left: int | None = Field(
        description=(
            "Seats still free; null for no limit. As fresh as the meeting page "
            "(SEATS_FRESH_SECONDS)."
        )
    )
    takes_rsvps: bool = Field(description="Whether the RSVP form on the page is open.")
    page_urls: LocalizedUrls = Field(description="The meeting page (with the RSVP form).")
    ics_urls: LocalizedUrls = Field(description="The meeting's calendar file.")
    feed_urls: LocalizedUrls = Field(
        description="The calendar feed its page offers (its series', else all meetings)."
    )


class MeetingPage(Schema):
    items: list[MeetingOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )
    next_url: str | None = Field(description="The next page's full address; null at the end.")


class VenueList(Schema):
    items: list[Venue_]


class SeriesList(Schema):
    items: list[Series]


class MeetingFilters(Schema):
    lang: str | None = Field(
        None, description=f"Language of the text ({CODES}); else Accept-Language."
    )
    when: Literal["upcoming", "past"] = Field(
        "upcoming", description="upcoming: not ended, soonest first; past: ended, newest first."
    )
    language: str | None = Field(None, description="Held in, or interpreted into, this language.")
    area: str | None = Field(None, description="The venue's area, e.g. Oak Cliff.")
    venue: str | None = Field(None, description="A venue's slug.")
    series: str | None = Field(None, description="A series' slug.")
    date_from: dt.date | None = Field(None, description="Starting on or after this day.")
    date_to: dt.date | None = Field(None, description="Starting on or before this day.")
    q: str | None = Field(
        None,
        max_length=SEARCH_MAX_LENGTH,
        description="Text in the title, summary, venue, area or series (any language, accents ignored).",
    )
    cursor: str | None = Field(None, description="next_cursor of the previous page.")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Meetings per page.")


class LanguageOnly(Schema):
    lang: str | None = Field(
        None, description=f"Language of the text ({CODES}); else Accept-Language."
    )


def _accept_language():
    return Header(
        None,
        alias="Accept-Language",
        description="The reader's languages; ?lang= wins. English when none is offered.",
    )


RESPONSES_304 = {304: None, 400: Error, 429: Error, 503: Error}


api = NinjaAPI(
    title="Police Community Outreach: public API",
    version="1",
    description=(
        "Read-only. Meetings, venues and series, with no personal data. Text in the language of "
        "?lang= or Accept-Language. Answers carry an ETag (send If-None-Match for a 304) and "
        "are open to every origin (CORS). Each client may make API_RATE_LIMIT requests per "
        "window; over it, 429 with Retry-After."
    ),
    urls_namespace="api-v1",
    docs_url=None,
    openapi_url="/openapi.json",
)


# Language, errors and the cached answer. -------------------------------------------------


def _supported(code):
    return code if code in dict(settings.LANGUAGES) else None


def request_language(request):
    """?lang= when it names a site language, else the best of Accept-Language, else English."""
    if code := request.GET.get("lang"):
        return _supported(code) or settings.LANGUAGE_CODE
    for accepted, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        try:
            return translation.get_supported_language_variant(accepted)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _json_response(data, *, status):
    body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)


def error_response(request, status, detail, errors=()):
    response = _json_response({"detail": detail, "errors": list(errors)}, status=status)
    response["Content-Language"] = translation.get_language()
    return response


@api.exception_handler(ApiError)
def _api_error(request, error):
    with translation.override(request_language(request)):
        return error_response(request, error.status, str(error.detail), error.errors)


@api.exception_handler(ValidationError)
def _invalid_parameters(request, error):
    """ninja's own 422 becomes the 400 every page gives bad input, in the reader's language."""
    with translation.override(request_language(request)):
        problems = []
        for item in error.errors:
            parameter = str(item.get("loc", ["", "?"])[-1])
            if parameter in ("date_from", "date_to"):
                message = gettext("Please enter a date such as 2025-02-12.")
            elif parameter == "limit":
                message = gettext("Please ask for between 1 and %(max)d meetings per page.") % {
                    "max": MAX_PAGE_SIZE
                }
            elif parameter == "q":
                message = gettext("Please search for at most %(limit_value)d characters.") % {
                    "limit_value": SEARCH_MAX_LENGTH
                }
            else:
                message = gettext("This value is not one this parameter accepts.")
            problems.append({"parameter": parameter, "message": message})
        return error_response(request, 400, gettext("Some parameters are not valid."), problems)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request, error):
    """The database cannot be reached: a short, translated 503 the client may retry."""
    with translation.override(request_language(request)):
        response = error_response(
            request,
            503,
            gettext("The service is briefly unavailable. Please try again in a minute."),
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _check_language(code, parameter):
    if code is not None and not _supported(code):
        raise ApiError(
            400,
            gettext("Some parameters are not valid."),
            [
                {
                    "parameter": parameter,
                    "message": gettext("Please use one of these language codes: %(codes)s.")
                    % {"codes": ", ".join(dict(settings.LANGUAGES))},
                }
            ],
        )


def _max_age(*, shows_seats):
    """How long a browser or proxy may keep an answer: as long as our cache keeps it."""
    if shows_seats:
        return min(settings.SEATS_FRESH_SECONDS, settings.PAGE_CACHE_SECONDS)
    return settings.PAGE_CACHE_SECONDS


def _answer(request, build, *, shows_seats):
    """The JSON `build()` returns (a Schema), kept in the cache, with its ETag, or a 304."""
    language = request_language(request)
    with translation.override(language):
        _check_language(request.GET.get("lang"), "lang")

        def build_entry():
            body = json.dumps(build().model_dump(mode="json"), ensure_ascii=False).encode()
            return {"body": body, "etag": '"' + hashlib.sha256(body).hexdigest()[:32] + '"'}

        if set(request.GET) <= CACHED_PARAMETERS:
            parts = (language, request.get_full_path())
            entry = caching.cached("api", parts, build_entry, shows_seats=shows_seats)
        else:
            entry = build_entry()
    response = get_conditional_response(request, etag=entry["etag"])
    if response is None:
        response = HttpResponse(entry["body"], content_type=JSON_CONTENT_TYPE)
    response["ETag"] = entry["etag"]
    response["Content-Language"] = language
    max_age = _max_age(shows_seats=shows_seats)
    patch_cache_control(response, public=True, max_age=max_age)
    patch_vary_headers(response, ["Accept-Language"])
    return response


# Building the JSON. ---------------------------------------------------------------------


def _in_each_language(path_of):
    urls = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            urls[code] = settings.SITE_URL + path_of()
    return urls


def _language(code):
    return Language(code=code, name=language_name(code))


def _place(venue):
    return Place(
        slug=venue.slug,
        name=venue.name,
        street_address=venue.street_address,
        city=venue.city,
        state=venue.state,
        postal_code=venue.postal_code,
        address=venue.full_address,
        area=venue.area,
        latitude=None if venue.latitude is None else float(venue.latitude),
        longitude=None if venue.longitude is None else float(venue.longitude),
        time_zone=venue.time_zone,
    )


def meeting_status(meeting):
    if meeting.is_cancelled:
        return "cancelled"
    return "moved" if meeting.is_moved else "scheduled"


def _meeting(meeting):
    slug = meeting.slug
    series = meeting.series
    if series is not None:
        feed_path = lambda: CalendarFeed.for_series(series).path  # noqa: E731
    else:
        feed_path = lambda: CalendarFeed.for_all().path  # noqa: E731
    return MeetingOut(
        slug=slug,
        title=meeting.title,
        summary=meeting.summary,
        description=meeting.description,
        status=meeting_status(meeting),
        starts_at=meeting.local_starts_at,
        ends_at=meeting.local_ends_at,
        previous_starts_at=meeting.local_previous_starts_at,
        time_zone=meeting.venue.time_zone,
        cancellation_note=meeting.cancellation_note if meeting.is_cancelled else "",
        language=_language(meeting.language),
        interpretation=[_language(code) for code in meeting.interpretation_languages or []],
        place=_place(meeting.venue),
        series=None if series is None else SeriesRef(slug=series.slug, title=series.title),
        capacity=meeting.capacity,
        seats_left=meeting.seats_left,
        takes_rsvps=meeting.is_taking_rsvps,
        page_urls=_in_each_language(meeting.get_absolute_url),
        ics_urls=_in_each_language(lambda: reverse("meetings:meeting-ics", args=[slug])),
        feed_urls=_in_each_language(feed_path),
    )


def _encode_cursor(when, meeting):
    raw = json.dumps([when, meeting.starts_at.isoformat(), meeting.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor, when):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, starts_at, pk = json.loads(raw)
        starts_at = dt.datetime.fromisoformat(starts_at)
        if kind != when or starts_at.tzinfo is None or not isinstance(pk, int):
            raise ValueError(kind)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            gettext("Some parameters are not valid."),
            [
                {
                    "parameter": "cursor",
                    "message": gettext(
                        "This cursor is not one we gave: start again from the first page."
                    ),
                }
            ],
        ) from None
    return starts_at, pk


def _filtered(filters):
    meetings = Meeting.objects.published().for_listing()
    meetings = meetings.past() if filters.when == "past" else meetings.upcoming()
    if text := (filters.q or "").strip():
        meetings = meetings.search(text)
    if filters.language:
        meetings = meetings.in_language(filters.language)
    if filters.area:
        meetings = meetings.filter(venue__area=filters.area)
    if filters.venue:
        meetings = meetings.filter(venue__slug=filters.venue)
    if filters.series:
        meetings = meetings.filter(series__slug=filters.series)
    if filters.date_from:
        meetings = meetings.filter(starts_at__date__gte=filters.date_from)
    if filters.date_to:
        meetings = meetings.filter(starts_at__date__lte=filters.date_to)
    return meetings


def _page(request, filters):
    meetings = _filtered(filters)
    if filters.cursor:
        starts_at, pk = _decode_cursor(filters.cursor, filters.when)
        if filters.when == "past":
            meetings = meetings.filter(
                Q(starts_at__lt=starts_at) | Q(starts_at=starts_at, pk__lt=pk)
            )
        else:
            meetings = meetings.filter(
                Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk)
            )
    rows = list(meetings[: filters.limit + 1])
    next_cursor = next_url = None
    if len(rows) > filters.limit:
        rows = rows[: filters.limit]
        next_cursor = _encode_cursor(filters.when, rows[-1])
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_url = settings.SITE_URL + request.path + "?" + query.urlencode()
    return MeetingPage(
        items=[_meeting(meeting) for meeting in rows], next_cursor=next_cursor, next_url=next_url
    )


# The endpoints. --------------------------------------------------------------------------


@api.get(
    "/meetings",
    response={200: MeetingPage, **RESPONSES_304},
    summary="Meetings, upcoming or past, filtered as the listing is",
    operation_id="listMeetings",
    tags=["meetings"],
)
def list_meetings(
    request: HttpRequest,
    filters: Query[MeetingFilters],
    accept_language: str | None = _accept_language(),
) -> HttpResponse:
    with translation.override(request_language(request)):
        _check_language(filters.language, "language")
        if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
            raise ApiError(
                400,
                gettext("Some parameters are not valid."),
                [
                    {
                        "parameter": "date_to",
                        "message": gettext("The end date is before the start date."),
                    }
                ],
            )
    return _answer(request, lambda: _page(request, filters), shows_seats=True)


@api.get(
    "/meetings/{slug}",
    response={200: MeetingOut, 404: Error, **RESPONSES_304},
    summary="One meeting, cancelled ones included",
    operation_id="getMeeting",
    tags=["meetings"],
)
def get_meeting(
    request: HttpRequest,
    slug: str,
    params: Query[LanguageOnly],
    accept_language: str | None = _accept_language(),
) -> HttpResponse:
    def build():
        meeting = Meeting.objects.published().for_listing().filter(slug=slug).first()
        if meeting is None:
            raise ApiError(404, gettext("No meeting found at this address."))
        return _meeting(meeting)

    return _answer(request, build, shows_seats=True)


def _venue(venue):
    slug = venue.slug
    return Venue_(
        **_place(venue).model_dump(),
        accessibility_notes=venue.accessibility_notes,
        directions_notes=venue.directions_notes,
        page_urls=_in_each_language(venue.get_absolute_url),
        feed_urls=_in_each_language(lambda: reverse("meetings:feed-venue", args=[slug])),
    )


@api.get(
    "/venues",
    response={200: VenueList, **RESPONSES_304},
    summary="Every venue",
    operation_id="listVenues",
    tags=["places"],
)
def list_venues(
    request: HttpRequest,
    params: Query[LanguageOnly],
    accept_language: str | None = _accept_language(),
) -> HttpResponse:
    return _answer(
        request,
        lambda: VenueList(items=[_venue(venue) for venue in Venue.objects.order_by("name")]),
        shows_seats=False,
    )


def _series(series):
    slug = series.slug
    return Series(
        slug=slug,
        title=series.title,
        description=series.description,
        page_urls=_in_each_language(series.get_absolute_url),
        feed_urls=_in_each_language(lambda: reverse("meetings:feed-series", args=[slug])),
    )


@api.get(
    "/series",
    response={200: SeriesList, **RESPONSES_304},
    summary="Every meeting series",
    operation_id="listSeries",
    tags=["series"],
)
def list_series(
    request: HttpRequest,
    params: Query[LanguageOnly],
    accept_language: str | None = _accept_language(),
) -> HttpResponse:
    return _answer(
        request,
        lambda: SeriesList(items=[_series(series) for series in MeetingSeries.objects.all()]),
        shows_seats=False,
    )


# CORS and the rate limit, for every address under /api/. ---------------------------------

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Language, Retry-After",
}


class ApiGuard:
    """For /api/…: a CORS preflight is answered here; every other request counts against the
    client's rate limit (429 and Retry-After over it); every answer is open to any origin
    for reading. Only GET, HEAD and OPTIONS exist: nothing in the API writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        head = request.method == "HEAD"
        if head:
            request.method = "GET"  # the same answer; the server sends the headers only
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response["Access-Control-Allow-Headers"] = "Accept-Language, If-None-Match"
            response["Access-Control-Max-Age"] = "86400"
        elif "\x00" in request.path_info or any(
            "\x00" in key or "\x00" in value
            for key, values in request.GET.lists()
            for value in values
        ):
            # PostgreSQL cannot compare text holding a NUL byte: refused before any query.
            with translation.override(request_language(request)):
                response = error_response(
                    request, 400, gettext("This value is not one this parameter accepts.")
                )
        elif is_rate_limited(request, scope="api", limit=settings.API_RATE_LIMIT):
            with translation.override(request_language(request)):
                response = error_response(
                    request,
                    429,
                    gettext(
                        "Too many requests from your side. Please wait a minute and try again."
                    ),
                )
            response["Retry-After"] = str(settings.API_RATE_LIMIT[1])
        else:
            response = self.get_response(request)
            if response.status_code == 404 and not response.get("Content-Type", "").startswith(
                "application/json"
            ):
                # An address the API does not have: JSON too, not the site's HTML page.
                with translation.override(request_language(request)):
                    response = error_response(
                        request,
                        404,
                        gettext("The API has no such address: see /api/v1/openapi.json."),
                    )
        if head:
            response.content = b""
        for name, value in CORS_HEADERS.items():
            response[name] = value
        return response
