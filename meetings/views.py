"""Public pages: thin views over QuerySet methods, forms and services."""

import copy
import functools
import gzip

from django.conf import settings
from django.contrib import messages
from django.core.validators import slug_re
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe
from django.views.generic import DetailView, ListView
from django.views.generic.base import ContextMixin

from meetings import caching, feeds, ical
from meetings.feeds import CalendarFeed
from meetings.formatting import own_language_name
from meetings.forms import FeedbackForm, MeetingFilterForm, RsvpChangeForm, RsvpForm
from meetings.models import Meeting, MeetingSeries, Rsvp, Venue
from meetings.page_cache import LISTING_PARAMETERS, cached_page
from meetings.qrcodes import qr_svg
from meetings.ratelimit import is_rate_limited
from meetings.services import (
    RsvpError,
    RsvpOutcome,
    cancel_rsvp,
    check_open,
    create_rsvp,
    give_feedback,
    update_rsvp,
)
from meetings.tokens import manage_url


class CalendarFeedMixin(ContextMixin):
    """Puts the calendar feed a page offers to subscribe to into its context as `feed`."""

    def get_calendar_feed(self):
        return CalendarFeed.for_all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["feed"] = self.get_calendar_feed()
        return context


class MeetingListView(CalendarFeedMixin, ListView):
    """Upcoming published meetings, soonest first, grouped by day in the template."""

    template_name = "meetings/meeting_list.html"
    context_object_name = "meetings"
    past = False

    def get(self, request, *args, **kwargs):
        # A filter form sent as it is carries every field, set or not: keep only those set,
        # so the address people share and bookmark stays short and readable.
        query = request.GET.copy()
        for name in list(query):
            values = [value for value in query.getlist(name) if value.strip()]
            if values:
                query.setlist(name, values)
            else:
                del query[name]
        if len(query.urlencode()) < len(request.GET.urlencode()):
            address = f"{request.path}?{query.urlencode()}" if query else request.path
            return HttpResponseRedirect(address)
        build = functools.partial(super().get, request, *args, **kwargs)
        return cached_page(request, build, parameters=LISTING_PARAMETERS)

    def get_paginate_by(self, queryset):
        return settings.MEETINGS_PER_PAGE

    def get_queryset(self):
        self.venues = list(Venue.objects.order_by("name"))
        self.filter_form = MeetingFilterForm(self.request.GET or None, venues=self.venues)
        meetings = Meeting.objects.published().for_listing()
        meetings = meetings.past() if self.past else meetings.upcoming()
        return self.filter_form.filter(meetings)

    def paginate_queryset(self, queryset, page_size):
        # A page number past the end or not a number shows the last or first page, never a 404.
        paginator = self.get_paginator(queryset, page_size, allow_empty_first_page=True)
        page = paginator.get_page(self.request.GET.get("page"))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter_form=self.filter_form,
            past=self.past,
            page_query=query.urlencode(),
        )
        return context


class PastMeetingListView(MeetingListView):
    past = True


SERIES_DATES_SHOWN = 5


def meeting_page_context(meeting, *, rsvp_form=None):
    """What the meeting page shows, for the page itself and for an RSVP form sent back.

    `rsvp_form` is the form to show again with its errors; a meeting that takes RSVPs gets a
    fresh one otherwise.
    """
    series_meetings = []
    if meeting.series_id:
        # The next few only: a weekly series has dozens; its own page lists them all.
        series_meetings = (
            Meeting.objects.published()
            .for_listing()
            .filter(series_id=meeting.series_id)
            .exclude(pk=meeting.pk)
            .upcoming()[:SERIES_DATES_SHOWN]
        )
    if rsvp_form is None and meeting.is_taking_rsvps:
        rsvp_form = RsvpForm(meeting=meeting)
    # A meeting in a series offers the series' feed; any other, all meetings.
    feed = CalendarFeed.for_series(meeting.series) if meeting.series_id else CalendarFeed.for_all()
    return {
        "meeting": meeting,
        "series_meetings": series_meetings,
        "rsvp_form": rsvp_form,
        "feed": feed,
        "google_event_url": None if meeting.is_cancelled else feeds.google_event_url(meeting),
    }


class MeetingDetailView(DetailView):
    template_name = "meetings/meeting_detail.html"
    context_object_name = "meeting"

    def get_queryset(self):
        # Staff may preview drafts; the page says it is a draft.
        return Meeting.objects.for_listing().visible_to(self.request.user)

    def get(self, request, *args, **kwargs):
        build = functools.partial(super().get, request, *args, **kwargs)
        if request.user.is_staff:
            return build()  # staff see drafts and their notices
        return cached_page(request, build)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(meeting_page_context(self.object))
        return context

    def render_to_response(self, context, **response_kwargs):
        return _no_shared_cache_for_form(
            super().render_to_response(context, **response_kwargs), context
        )


def _meeting_page_with_form(request, meeting, form, *, status):
    """The meeting page with the RSVP form sent back, showing its errors."""
    context = meeting_page_context(meeting, rsvp_form=form)
    response = render(request, MeetingDetailView.template_name, context, status=status)
    return _no_shared_cache_for_form(response, context)


def _no_shared_cache_for_form(response, context):
    if context["rsvp_form"] is not None:
        # The form's one-time key is for this visitor alone: no shared cache may keep it.
        add_never_cache_headers(response)
    return response


class MeetingsOfMixin(DetailView):
    """A venue's or series' page: its published meetings, upcoming and past."""

    meetings_field = ""  # the Meeting field pointing at this page's object
    past_shown: int | None = None  # how many past meetings, newest first; None for all

    def get(self, request, *args, **kwargs):
        return cached_page(request, functools.partial(super().get, request, *args, **kwargs))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meetings = (
            Meeting.objects.published().for_listing().filter(**{self.meetings_field: self.object})
        )
        context["upcoming_meetings"] = meetings.upcoming()
        context["past_meetings"] = meetings.past()[: self.past_shown]
        return context


class VenueDetailView(MeetingsOfMixin, CalendarFeedMixin, DetailView):
    model = Venue
    template_name = "meetings/venue_detail.html"
    context_object_name = "venue"
    meetings_field = "venue"
    past_shown = 10  # a venue hosts meeting after meeting; a series ends

    def get_calendar_feed(self):
        return CalendarFeed.for_venue(self.object)


class SeriesDetailView(MeetingsOfMixin, CalendarFeedMixin, DetailView):
    model = MeetingSeries
    template_name = "meetings/series_detail.html"
    context_object_name = "series"
    meetings_field = "series"

    def get_calendar_feed(self):
        return CalendarFeed.for_series(self.object)


# Flyers: one printable page, in the page's language and a second one side by side. -----------


def _flyer(request, title, template_name, page, context):
    """Render a flyer of `page` (a meeting or series) with a QR code to it in each language."""
    languages = dict(settings.LANGUAGES)
    current = translation.get_language()
    default_also = next(code for code in languages if code != current)
    also = request.GET.get("also", default_also)
    if also not in languages and also != "none":
        also = default_also
    columns = []
    for code in [current] if also in ("none", current) else [current, also]:
        with translation.override(code):
            url = settings.SITE_URL + page.get_absolute_url()
            qr = qr_svg(url, label=gettext("QR code of this page on the website"))
        columns.append({"code": code, "url": url, "qr": qr})
    choices = [(code, own_language_name(code)) for code, _name in settings.LANGUAGES]
    return render(
        request,
        "meetings/flyer.html",
        {
            **context,
            "title": title,
            "template_name": template_name,
            "columns": columns,
            "also": also,
            "second_language_choices": [
                *[(code, name) for code, name in choices if code != current],
                ("none", gettext("None: one language only")),
            ],
        },
    )


@require_safe
def meeting_flyer(request, slug):
    meetings = Meeting.objects.visible_to(request.user).select_related("venue", "series")
    meeting = get_object_or_404(meetings, slug=slug)
    return _flyer(
        request, meeting.title, "meetings/flyer/_meeting.html", meeting, {"meeting": meeting}
    )


@require_safe
def series_flyer(request, slug):
    series = get_object_or_404(MeetingSeries, slug=slug)
    meetings = (
        Meeting.objects.filter(series=series, status=Meeting.Status.PUBLISHED)
        .upcoming()
        .select_related("venue")
        .order_by("starts_at")[:8]
    )
    return _flyer(
        request,
        series.title,
        "meetings/flyer/_series.html",
        series,
        {"series": series, "meetings": meetings},
    )


# The embeddable listing: partner sites frame it. ----------------------------------------

# Its query parameters: the listing's filters and a series; any other is built, never kept.
EMBED_PARAMETERS = frozenset({"q", "language", "venue", "series", "date_from", "date_to"})
EMBED_MEETINGS_SHOWN = 10


def embed_meetings(request):
    """Upcoming meetings for a partner's iframe: the listing's filters (and `series=<slug>`)
    from the query string, no site chrome, links that open our pages in a new tab.

    Framing is allowed to settings.EMBED_FRAME_ANCESTORS on this page alone; it sets no
    cookie (no form, so no CSRF token; RememberLanguageMiddleware leaves /embed/ alone) and
    loads nothing from another origin.
    """
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])

    def build():
        venues = list(Venue.objects.order_by("name"))
        form = MeetingFilterForm(request.GET or None, venues=venues)
        meetings = form.filter(Meeting.objects.published().for_listing().upcoming())
        series = None
        if slug := request.GET.get("series", "").strip():
            # A made-up value (a NUL byte PostgreSQL cannot compare) finds nothing, unasked.
            is_slug = slug_re.fullmatch(slug) is not None
            series = MeetingSeries.objects.filter(slug=slug).first() if is_slug else None
            meetings = meetings.filter(series=series) if series else meetings.none()
        meetings = list(meetings[: EMBED_MEETINGS_SHOWN + 1])
        listing_query = request.GET.copy()
        listing_query.pop("series", None)
        return TemplateResponse(
            request,
            "meetings/embed.html",
            {
                "meetings": meetings[:EMBED_MEETINGS_SHOWN],
                "more": len(meetings) > EMBED_MEETINGS_SHOWN,
                "listing_query": listing_query.urlencode(),
                "series": series,
            },
        )

    response = cached_page(request, build, parameters=EMBED_PARAMETERS)
    response.xframe_options_exempt = True
    response.remember_language = False
    response._csp_replace = {"frame-ancestors": settings.EMBED_FRAME_ANCESTORS}
    return response


@require_safe
def partners(request):
    """For partner sites: the public API, the embeddable listing and QR codes, documented."""
    embed_path = reverse("meetings:embed-meetings")
    api_rate = settings.API_RATE_LIMIT
    return render(
        request,
        "meetings/partners.html",
        {
            "api_url": settings.SITE_URL + "/api/v1/",
            "embed_url": settings.SITE_URL + embed_path,
            "embed_example": settings.SITE_URL + embed_path + "?language=es",
            "api_requests": api_rate[0] if api_rate else None,
            "api_seconds": api_rate[1] if api_rate else None,
            "seats_fresh_seconds": min(settings.SEATS_FRESH_SECONDS, settings.PAGE_CACHE_SECONDS),
            "page_cache_seconds": settings.PAGE_CACHE_SECONDS,
        },
    )


def api_documentation(request):
    """/api/v1/ itself: the page that documents the API, in the reader's language."""
    return HttpResponseRedirect(reverse("meetings:partners") + "#api")


def redirect_to_listing(request):
    return HttpResponseRedirect(reverse("meetings:meeting-list"))


# RSVPs: POST, redirect, GET. ---------------------------------------------------------------
# The services hold the seat rules; these views only validate, call them and show the result.


def too_many_requests(request):
    response = render(request, "429.html", status=429)
    response["Retry-After"] = str(settings.RSVP_RATE_LIMIT[1])
    return response


def rsvp_refused(request, meeting, error, *, status=409):
    """The meeting no longer takes this change: say why, plainly, with a 4xx."""
    context = {"meeting": meeting, "message": error.message, "code": error.code}
    return render(request, "meetings/rsvp_closed.html", context, status=status)


def _rsvp_not_found(request):
    return render(request, "meetings/rsvp_not_found.html", status=404)


def _private(response):
    """Pages behind the private link: never cached, never indexed, the link never sent on."""
    add_never_cache_headers(response)
    # same-origin: other sites never see the link, while the page's own forms still post
    # with an Origin header (no-referrer made browsers send "Origin: null", refused by CSRF).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _meeting_for_rsvp(request, slug):
    """The meeting an RSVP form was sent to, for the checks before the service's own.

    From the cache (per data version) for the public: the service reads the meeting again
    under its row lock and checks again, so a copy is enough to refuse early and to read the
    form. No seat counts: the service counts them under the lock, and a page sent back with
    errors counts them when it shows them.
    """
    if request.user.is_staff:
        return get_object_or_404(Meeting.objects.visible_to(request.user), slug=slug)

    def build():
        meeting = get_object_or_404(Meeting.objects.published().select_related("venue"), slug=slug)
        return {"meeting": meeting}

    entry = caching.cached("rsvp-meeting", (slug,), build, shows_seats=False)
    # A copy: what a request caches on its meeting (seat counts) stays with that request.
    return copy.copy(entry["meeting"])


@require_http_methods(["GET", "HEAD", "POST"])
def rsvp_create(request, slug):
    if request.method != "POST":
        # E.g. the language switcher on a form sent back with errors.
        return redirect("meetings:meeting-detail", slug=slug)
    if is_rate_limited(request):
        return too_many_requests(request)
    meeting = _meeting_for_rsvp(request, slug)
    try:
        check_open(meeting)
    except RsvpError as error:
        return rsvp_refused(request, meeting, error)
    form = RsvpForm(request.POST, meeting=meeting)
    if not form.is_valid():
        return _meeting_page_with_form(request, meeting, form, status=400)
    try:
        result = create_rsvp(meeting=meeting, **form.rsvp_details())
    except RsvpError as error:
        if error.code == "not_enough_seats":
            form.add_error("party_size", error.message)
            return _meeting_page_with_form(request, meeting, form, status=409)
        if error.code == "form_already_sent":
            form.token_already_used(error.message)
            return _meeting_page_with_form(request, meeting, form, status=409)
        return rsvp_refused(request, meeting, error)
    if result.outcome == RsvpOutcome.ALREADY_SENT:
        messages.info(request, gettext("You had already sent this form. Here is your RSVP."))
    else:
        messages.success(request, gettext("Thank you. Your RSVP is saved."))
    return redirect("meetings:rsvp-manage", token=result.token)


@require_safe
def rsvp_manage(request, token):
    """See an RSVP through its private link. Opening it never changes anything."""
    rsvp = Rsvp.objects.by_token(token).first()
    if rsvp is None:
        return _rsvp_not_found(request)
    return _private(_manage_page(request, rsvp, token))


@require_safe
def rsvp_calendar(request, token):
    """The meeting's calendar file with the private link in its description, for this party.

    Only for a confirmed RSVP: a waitlisted party's calendar never says they are going (their
    private page says the file comes with the seat), and a cancelled one has no event.
    """
    rsvp = Rsvp.objects.by_token(token).select_related("meeting__venue", "meeting__series").first()
    if rsvp is None:
        return _rsvp_not_found(request)
    if not rsvp.is_confirmed:
        return redirect("meetings:rsvp-manage", token=token)
    body = ical.personal_calendar_bytes(rsvp, private_url=manage_url(token))
    response = HttpResponse(body, content_type=ICALENDAR_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{rsvp.meeting.slug}.ics"'
    return _private(response)


def _manage_page(request, rsvp, token, *, form=None, feedback_form=None, status=200):
    meeting = rsvp.meeting
    private_link = manage_url(token)
    can_change = rsvp.can_be_changed
    if form is None and can_change:
        form = RsvpChangeForm(
            meeting=meeting,
            initial={name: getattr(rsvp, name) for name in RsvpChangeForm.base_fields},
        )
    context = {
        "rsvp": rsvp,
        "meeting": meeting,
        "token": token,
        "manage_url": private_link,
        "feedback_form": (feedback_form or FeedbackForm()) if rsvp.can_give_feedback else None,
        # From the reminder's "I can't come any more": the cancel button first (a POST, so a
        # mail scanner opening the link changes nothing).
        "cant_come": "cant-come" in request.GET,
        "manage_qr": qr_svg(private_link, label=gettext("QR code of your private link")),
        "change_form": form if can_change else None,
        "can_cancel": rsvp.can_be_cancelled,
    }
    return render(request, "meetings/rsvp_manage.html", context, status=status)


def _manage_post(view):
    """A POST from the private page, as `view(request, rsvp, token)`.

    A GET (a mail scanner following a link) changes nothing and lands on the private page.
    A person changing or cancelling their own RSVP never counts against the rate limit (a
    church's Wi-Fi is one client for the whole room; the limit is for new RSVPs); a post
    with an unknown token does count, so guessing tokens is throttled too, and gets the
    friendly 404.
    """

    @require_http_methods(["GET", "HEAD", "POST"])
    @functools.wraps(view)
    def wrapper(request, token):
        if request.method != "POST":
            return redirect("meetings:rsvp-manage", token=token)
        rsvp = Rsvp.objects.by_token(token).first()
        if rsvp is None:
            if is_rate_limited(request):
                return too_many_requests(request)
            return _rsvp_not_found(request)
        return view(request, rsvp, token)

    return wrapper


@_manage_post
def rsvp_change(request, rsvp, token):
    form = RsvpChangeForm(request.POST, meeting=rsvp.meeting)
    if not form.is_valid():
        return _private(_manage_page(request, rsvp, token, form=form, status=400))
    try:
        update_rsvp(rsvp=rsvp, **form.rsvp_details())
    except RsvpError as error:
        if error.code == "not_enough_seats":
            form.add_error("party_size", error.message)
            return _private(_manage_page(request, rsvp, token, form=form, status=409))
        return _private(rsvp_refused(request, rsvp.meeting, error))
    messages.success(request, gettext("Your changes are saved."))
    return redirect("meetings:rsvp-manage", token=token)


@_manage_post
def rsvp_feedback(request, rsvp, token):
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _private(_manage_page(request, rsvp, token, feedback_form=form, status=400))
    try:
        give_feedback(rsvp=rsvp, **form.cleaned_data)
    except RsvpError as error:
        return _private(rsvp_refused(request, rsvp.meeting, error))
    messages.success(
        request, gettext("Thank you for your answers. Nobody can tell they are yours.")
    )
    return redirect("meetings:rsvp-manage", token=token)


@_manage_post
def rsvp_cancel(request, rsvp, token):
    try:
        cancel_rsvp(rsvp=rsvp)
    except RsvpError as error:
        return _private(rsvp_refused(request, rsvp.meeting, error))
    messages.success(request, gettext("Your RSVP is cancelled. Thank you for letting us know."))
    return redirect("meetings:rsvp-manage", token=token)


@require_safe
def privacy(request):
    context = {
        "retention_days": settings.RSVP_RETENTION_DAYS,
        "language_cookie_days": settings.LANGUAGE_COOKIE_AGE // (24 * 60 * 60),
        "language_cookie": settings.LANGUAGE_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }
    return render(request, "meetings/privacy.html", context)


# ---------------------------------------------------------------------------
# Calendar feeds and calendar files (iCalendar), and the Atom feed.
# The builders live in meetings/ical.py; these views pick meetings and speak HTTP.
# ---------------------------------------------------------------------------

# Short, so a fix reaches subscribers soon; conditional requests make refetching cheap.
FEED_MAX_AGE = 15 * 60
ICALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _calendar_response(request, select, *, filename=None):
    """The calendar `select()` picks, or 304 when the client's copy is current.

    `select()` returns (meetings, CalendarFeed or None). The calendar, its ETag and
    Last-Modified are kept in the cache per language, address and data version, so a
    repeated or conditional request is answered without a query. On a miss the fingerprint
    comes first, from one aggregate query (ical.feed_fingerprint): a client whose copy
    matches it gets 304 before anything is built (and nothing is kept). With a `filename`
    (one meeting's file) no meeting at all means 404.
    """

    def fingerprint():
        meetings, feed = select()
        options = feed.calendar_options if feed else {}
        etag, last_modified, count = ical.feed_fingerprint(meetings, extra=options.values())
        if filename and not count:
            raise Http404(gettext("No meeting found at this address."))
        timestamp = int(last_modified.timestamp()) if last_modified else None
        return meetings, options, {"etag": quote_etag(etag), "timestamp": timestamp}

    def with_body(meetings, options, entry):
        body = ical.feed_bytes(
            ical.calendar_meetings(meetings.order_by("starts_at", "pk")), **options
        )
        # Compressed once here, not on every request (a 7 MB feed is 15 times smaller).
        return {**entry, "body": body, "body_gzip": gzip.compress(body, compresslevel=6)}

    def build():
        meetings, options, entry = fingerprint()
        not_modified = get_conditional_response(request, etag=_etag(entry, gzipped))
        if not_modified is not None:
            raise caching.NotKept(_calendar_headers(not_modified, entry, gzipped))
        return with_body(meetings, options, entry)

    def rebuild():
        # In a background thread when the last build was slow (meetings.caching): the same
        # entry, without this request's conditional answer.
        return with_body(*fingerprint())

    parts = (translation.get_language(), request.path)
    gzipped = _accepts_gzip(request)
    if "If-None-Match" in request.headers:
        # A calendar app's poll: answered from the entry's small head, its body unread.
        entry = caching.head("feed", parts, shows_seats=False)
        if entry is not None:
            response = get_conditional_response(request, etag=_etag(entry, gzipped))
            if response is not None:
                return _calendar_headers(response, entry, gzipped)
    try:
        entry = caching.cached("feed", parts, build, shows_seats=False, rebuild=rebuild)
    except caching.NotKept as not_kept:
        return not_kept.answer
    # 304 on the ETag only (here and in build()): Last-Modified is the newest remaining row's
    # change, which a deleted meeting cannot move, so If-Modified-Since would hide a deletion.
    response = get_conditional_response(request, etag=_etag(entry, gzipped))
    if response is None:
        if gzipped:
            response = HttpResponse(entry["body_gzip"], content_type=ICALENDAR_CONTENT_TYPE)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(entry["body"], content_type=ICALENDAR_CONTENT_TYPE)
        if filename:
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _calendar_headers(response, entry, gzipped)


def _accepts_gzip(request):
    """The client takes gzip (Accept-Encoding names it without q=0)."""
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _sep, params = coding.strip().partition(";")
        if name.strip().lower() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _etag(entry, gzipped):
    """A strong ETag names one representation: the gzip one gets its own."""
    return entry["etag"][:-1] + '-gzip"' if gzipped else entry["etag"]


def _calendar_headers(response, entry, gzipped=False):
    patch_vary_headers(response, ["Accept-Encoding"])
    response.headers["ETag"] = _etag(entry, gzipped)
    if entry["timestamp"] is not None:
        response.headers["Last-Modified"] = http_date(entry["timestamp"])
    patch_cache_control(response, public=True, max_age=FEED_MAX_AGE)
    return response


@require_safe
def meetings_feed(request):
    """Every published meeting, from 90 days ago onward."""
    return _calendar_response(
        request, lambda: (Meeting.objects.in_feed_window(), CalendarFeed.for_all())
    )


@require_safe
def venue_feed(request, slug):
    def select():
        venue = get_object_or_404(Venue, slug=slug)
        return Meeting.objects.in_feed_window().filter(venue=venue), CalendarFeed.for_venue(venue)

    return _calendar_response(request, select)


@require_safe
def series_feed(request, slug):
    def select():
        series = get_object_or_404(MeetingSeries, slug=slug)
        meetings = Meeting.objects.in_feed_window().filter(series=series)
        return meetings, CalendarFeed.for_series(series)

    return _calendar_response(request, select)


@require_safe
def language_feed(request, code):
    """Meetings held in the language or interpreted into it."""
    if code not in dict(settings.LANGUAGES):
        raise Http404(gettext("No meetings are held in that language."))
    return _calendar_response(
        request,
        lambda: (
            Meeting.objects.in_feed_window().in_language(code),
            CalendarFeed.for_language(code),
        ),
    )


@require_safe
def meeting_ics(request, slug):
    """One meeting's calendar file to download, cancelled ones included (never drafts)."""
    return _calendar_response(
        request,
        lambda: (Meeting.objects.published().filter(slug=slug), None),
        filename=f"{slug}.ics",
    )


_atom_feed = feeds.AnnouncementsFeed()


@require_safe
@cache_control(public=True, max_age=FEED_MAX_AGE)
def announcements_feed(request):
    """The Atom feed, kept in the cache like the calendars."""

    def build():
        response = _atom_feed(request)
        if response.status_code != 200:
            raise caching.NotKept(response)
        return {
            "body": response.content,
            "headers": {
                name: response[name]
                for name in ("Content-Type", "Last-Modified")
                if response.has_header(name)
            },
        }

    parts = (translation.get_language(), request.path)
    try:
        entry = caching.cached("atom", parts, build, shows_seats=False)
    except caching.NotKept as not_kept:
        return not_kept.answer
    response = HttpResponse(entry["body"])
    for name, value in entry["headers"].items():
        response.headers[name] = value
    return response
