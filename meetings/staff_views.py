"""Staff pages in the admin beyond Django's own: check-in at the door, CSV exports and reports.

MeetingAdmin and MeetingSeriesAdmin mount these (`get_urls`) behind `admin_view`; each
checks its own permission (README, "Staff roles"), so a door volunteer reaches the check-in
page and nothing that shows an email address.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext

from meetings import exports, reports, scheduling
from meetings.models import Meeting, MeetingSeries, Rsvp, Venue
from meetings.qrcodes import qr_svg
from meetings.search import fold
from meetings.services import (
    DoorOutcome,
    RsvpError,
    add_walk_in,
    check_in_at_door,
    message_rsvps,
    over_capacity,
    publish_meeting,
)
from meetings.staff_forms import (
    CheckInSearchForm,
    CheckInTapForm,
    DuplicateMeetingForm,
    DuplicateSeriesForm,
    GenerateDatesForm,
    PartnerSnippetForm,
    StaffMessageForm,
    WalkInForm,
)
from meetings.texts import staff_message_text


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _admin_context(model_admin, request, meeting, title, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "original": meeting,
        "meeting": meeting,
        **extra,
    }


# How long after a meeting's end its door list and unsent taps may stay on a phone (README,
# "Check-in without signal"): time to find signal and send what is left, and no more.
DOOR_DATA_KEPT_AFTER_END = dt.timedelta(hours=2)


def door_meetings(request, *, count=5):
    """The meetings a door volunteer may be at now or next, for the admin's home page: the
    ones in progress or ended within DOOR_DATA_KEPT_AFTER_END, then the coming ones, soonest
    first. None for staff who may not check people in."""
    if not request.user.has_perm("meetings.check_in_rsvp"):
        return None
    since = timezone.now() - DOOR_DATA_KEPT_AFTER_END
    meetings = Meeting.objects.filter(status=Meeting.Status.PUBLISHED).upcoming(since)
    return list(meetings.select_related("venue")[:count])


def check_in(model_admin, request, meeting):
    """The door list on a phone: find a party by first name, check it in (or undo) with one
    tap, add walk-ins by count, and see the running totals. No email address anywhere.

    Every tap carries a one-time key and is applied once. With JavaScript off it is a plain
    form (POST, redirect, GET); static/admin_outreach/check_in.js sends the same forms with
    `Accept: application/json`, queues them while the phone has no signal, and gets back the
    party's row and the totals to put on the page."""
    _require(request, "meetings.check_in_rsvp")
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    walk_in_form = WalkInForm(meeting=meeting)
    form: WalkInForm | CheckInTapForm
    if request.method == "POST":
        if "walk_in" in request.POST:
            walk_in_form = form = WalkInForm(request.POST, meeting=meeting)
            result = _walk_in(meeting, form)
        else:
            form = CheckInTapForm(request.POST)
            result = _tap(meeting, form)
            if result is None and not wants_json:
                messages.error(request, " ".join(_errors(form)))
                return redirect(f"{request.path}?{request.GET.urlencode()}")
        if wants_json:
            return _tap_json(request, meeting, result, form)
        if result is not None:
            _tell(request, meeting, result)
            return redirect(f"{request.path}?{request.GET.urlencode()}")
    search = CheckInSearchForm(request.GET or None)
    live = meeting.rsvps.exclude(status=Rsvp.Status.CANCELLED)
    rsvps = search.filter(meeting.rsvps.all()).order_by("first_name", "created_at")
    shown = set(rsvps.values_list("pk", flat=True))
    # Every party is on the page (the ones the search leaves out are hidden), so the phone
    # can search and keep working offline.
    door_list = [
        {"rsvp": rsvp, "hidden": rsvp.pk not in shown, "folded": fold(rsvp.first_name)}
        for rsvp in live.order_by("first_name", "created_at")
    ]
    context = _admin_context(
        model_admin,
        request,
        meeting,
        gettext("Check-in: %(meeting)s") % {"meeting": meeting.title},
        search=search,
        rsvps=rsvps,
        door_list=door_list,
        nobody_shown=not shown,
        walk_in_form=walk_in_form,
        tap_key=uuid.uuid4,
        totals=_door_totals(meeting),
        clear_after=meeting.ends_at + DOOR_DATA_KEPT_AFTER_END,
    )
    status = 400 if walk_in_form.is_bound else 200
    response = TemplateResponse(
        request, "admin/meetings/meeting/check_in.html", context, status=status
    )
    add_never_cache_headers(response)
    # For the service worker: when its offline copy of this page must go.
    response["X-Door-Clear-After"] = context["clear_after"].isoformat()
    return response


def _errors(form):
    return [str(error) for errors in form.errors.values() for error in errors]


def _walk_in(meeting, form):
    if not form.is_valid():
        return None
    try:
        return add_walk_in(meeting=meeting, **form.cleaned_data)
    except RsvpError as error:
        form.add_error(None, error.message)
        return None


def _tap(meeting, form):
    if not form.is_valid():
        return None
    try:
        return check_in_at_door(
            meeting=meeting,
            key=form.cleaned_data["key"],
            rsvp_id=form.cleaned_data["rsvp"],
            undo=form.cleaned_data["action"] == "undo",
        )
    except Rsvp.DoesNotExist:
        form.add_error(None, gettext("This party is not on this meeting's list."))
    except RsvpError as error:
        form.add_error(None, error.message)
    return None


def _party_name(rsvp):
    if rsvp.first_name:
        return rsvp.first_name
    return gettext("a walk-in party") if rsvp.is_walk_in else gettext("this party")


def _tap_message(result):
    """(level, text): what the door is told after a tap, naming the party."""
    rsvp = result.rsvp
    values = {"name": _party_name(rsvp), "count": rsvp.party_size}
    match result.outcome:
        case DoorOutcome.CHECKED_IN:
            text = ngettext(
                "Checked in: %(name)s, %(count)d person.",
                "Checked in: %(name)s, %(count)d people.",
                rsvp.party_size,
            )
            return messages.SUCCESS, text % values
        case DoorOutcome.UNDONE:
            return messages.INFO, gettext("Check-in of %(name)s undone.") % values
        case DoorOutcome.WALK_IN:
            text = ngettext(
                "Walk-in added and checked in: %(count)d person.",
                "Walk-in added and checked in: %(count)d people.",
                rsvp.party_size,
            )
            return messages.SUCCESS, text % values
        case DoorOutcome.ALREADY_IN:
            text = gettext(
                "%(name)s was already checked in (at another door, or by an earlier tap): "
                "counted once."
            )
            return messages.WARNING, text % values
        case DoorOutcome.NOT_IN:
            text = gettext(
                "%(name)s was not checked in (another door undid it, or an earlier tap did): "
                "nothing changed."
            )
            return messages.WARNING, text % values
        case _:
            text = gettext(
                "%(name)s cancelled their RSVP, so they were not checked in. If they came, "
                "add them as a walk-in."
            )
            return messages.WARNING, text % values


def _over_capacity_text(arrived, capacity):
    return ngettext(
        "Over capacity: %(arrived)d person is in for %(capacity)d seats. Tell the coordinator.",
        "Over capacity: %(arrived)d people are in for %(capacity)d seats. Tell the coordinator.",
        arrived,
    ) % {"arrived": arrived, "capacity": capacity}


def _over_capacity_message(meeting, over):
    return _over_capacity_text(meeting.capacity + over, meeting.capacity)


# Stand-ins the door script replaces with the numbers it counts offline.
ARRIVED_SLOT, CAPACITY_SLOT = 999999, 888888


def _tell(request, meeting, result):
    level, text = _tap_message(result)
    messages.add_message(request, level, text)
    if result.over_capacity:
        messages.warning(request, _over_capacity_message(meeting, result.over_capacity))


def _tap_json(request, meeting, result, form):
    """The answer to the door script: what happened, in words, and the party's row and the
    totals as they now are (the same templates as the page)."""
    if result is None:
        return JsonResponse({"error": " ".join(_errors(form))}, status=400)
    level, text = _tap_message(result)
    context = {
        "meeting": meeting,
        "item": {"rsvp": result.rsvp, "hidden": False, "folded": fold(result.rsvp.first_name)},
        "tap_key": uuid.uuid4,
        "totals": _door_totals(meeting),
    }
    response = JsonResponse(
        {
            "outcome": str(result.outcome),
            "conflict": result.is_conflict,
            "repeated": result.repeated,
            "rsvp": result.rsvp.pk,
            "level": messages.DEFAULT_TAGS[level],
            "message": text,
            "row": render_to_string(
                "admin/meetings/includes/_door_party.html", context, request=request
            ),
            "totals": render_to_string(
                "admin/meetings/includes/_door_totals.html", context, request=request
            ),
        }
    )
    add_never_cache_headers(response)
    return response


def check_in_worker(model_admin, request, meeting):
    """The door page's service worker, served from under the page's own address so that its
    scope (the folder it is served from) covers the page and nothing else of the site."""
    _require(request, "meetings.check_in_rsvp")
    path = finders.find("admin_outreach/check_in_worker.js")
    if not isinstance(path, str):  # the static files ship with the code: never in practice
        raise Http404
    with open(path, encoding="utf-8") as script:
        response = HttpResponse(script.read(), content_type="text/javascript; charset=utf-8")
    add_never_cache_headers(response)
    return response


def _door_totals(meeting):
    figures = reports.figures_by_meeting(type(meeting).objects.filter(pk=meeting.pk))[meeting.pk]
    # Interpretation needed right now: the parties in the room that asked for it.
    present = (
        meeting.rsvps.filter(checked_in_at__isnull=False)
        .exclude(needs_interpretation="")
        .order_by()
        .values("needs_interpretation")
        .annotate(people=Sum("party_size"))
    )
    names = dict(Rsvp._meta.get_field("needs_interpretation").choices or [])
    over = over_capacity(meeting)
    return {
        "figures": figures,
        "capacity": meeting.capacity,
        "over_capacity": _over_capacity_message(meeting, over) if over else "",
        # The same warning for taps still on the phone (check_in.js fills in the numbers).
        "over_capacity_offline": _over_capacity_text(ARRIVED_SLOT, CAPACITY_SLOT),
        "interpretation_now": [
            (
                str(names.get(row["needs_interpretation"], row["needs_interpretation"])),
                row["people"],
            )
            for row in present
        ],
    }


def export_rsvps(model_admin, request, meeting):
    """The meeting's RSVPs as CSV; first names, emails and notes only for roles that may see them."""
    _require(request, "meetings.export_rsvp")
    personal = request.user.has_perm("meetings.view_rsvp_contact")
    header = [
        gettext("Party size"),
        gettext("Language"),
        gettext("Interpretation into"),
        gettext("Wheelchair or step-free access"),
        gettext("Childcare"),
        gettext("Status"),
        gettext("Checked in"),
        gettext("Walk-in"),
    ]
    if personal:
        header += [
            gettext("First name"),
            gettext("Email"),
            gettext("Mobile phone"),
            gettext("Note"),
        ]
    rows = []
    for rsvp in meeting.rsvps.order_by("created_at", "pk"):
        row = [
            rsvp.party_size,
            rsvp.get_language_display(),
            rsvp.get_needs_interpretation_display() if rsvp.needs_interpretation else "",
            rsvp.needs_wheelchair_access,
            rsvp.needs_childcare,
            rsvp.get_status_display(),
            rsvp.checked_in_at is not None,
            rsvp.is_walk_in,
        ]
        if personal:
            row += [rsvp.first_name, rsvp.email, rsvp.phone, rsvp.note]
        rows.append(row)
    return exports.csv_response(f"rsvps-{meeting.slug}.csv", header, rows)


def _figures_header():
    return [
        gettext("RSVPs (parties)"),
        gettext("RSVPs (people)"),
        gettext("Expected"),
        gettext("Arrived"),
        gettext("Walk-ins"),
        gettext("Cancellations"),
        gettext("No-shows (parties)"),
        gettext("Waitlisted (parties)"),
        gettext("Over capacity (people)"),
    ]


def _figures_row(figures):
    return [
        figures.rsvp_parties,
        figures.rsvp_people,
        figures.expected,
        figures.arrived,
        figures.walk_ins,
        figures.cancelled_parties,
        "" if figures.no_show_parties is None else figures.no_show_parties,
        figures.waitlisted_parties,
        figures.over_capacity,
    ]


def export_series_counts(model_admin, request, series):
    """Per meeting of a series: its counts (no personal field at all), and the totals."""
    _require(request, "meetings.export_rsvp")
    rows, total = reports.series_rows(series)
    header = [gettext("Meeting"), gettext("Starts"), *_figures_header()]
    lines = [
        [meeting.title, meeting.local_starts_at.strftime("%Y-%m-%d %H:%M"), *_figures_row(f)]
        for meeting, f in rows
    ]
    lines.append([gettext("Total"), "", *_figures_row(total)])
    return exports.csv_response(f"counts-{series.slug}.csv", header, lines)


def meeting_report(model_admin, request, meeting):
    _require(request, "meetings.view_meeting")
    figures = reports.figures_by_meeting(type(meeting).objects.filter(pk=meeting.pk))[meeting.pk]
    context = _admin_context(
        model_admin,
        request,
        meeting,
        gettext("How it went: %(meeting)s") % {"meeting": meeting.title},
        figures=figures,
        needs=[(reports.need_label(need), *counts) for need, counts in figures.needs.items()],
        feedback=reports.feedback_counts([meeting]),
    )
    return TemplateResponse(request, "admin/meetings/meeting/report.html", context)


def series_report(model_admin, request, series):
    _require(request, "meetings.view_meetingseries")
    rows, total = reports.series_rows(series)
    chart = reports.bar_chart(
        [
            (
                meeting.local_starts_at.strftime("%Y-%m-%d"),
                f.expected,
                f.arrived if meeting.has_started else None,
            )
            for meeting, f in rows
        ]
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("How it went: %(series)s") % {"series": series.title},
        "opts": model_admin.opts,
        "original": series,
        "series": series,
        "rows": rows,
        "total": total,
        "chart": chart,
        "needs": [(reports.need_label(need), *counts) for need, counts in total.needs.items()],
        "feedback": reports.feedback_counts([meeting for meeting, _f in rows]),
    }
    return TemplateResponse(request, "admin/meetings/meetingseries/report.html", context)


# Planning: dates of a series, drafts published together, copies ------------------------------


def generate_dates(model_admin, request, series):
    """Meetings of a series from a pattern: preview the dates (with the days the venue is
    already booked), then create them as drafts, published together later."""
    _require(request, "meetings.add_meeting")
    form = GenerateDatesForm(request.POST or None)
    planned = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        planned = scheduling.plan(
            venue=data["venue"],
            days=form.days,
            start_time=data["start_time"],
            end_time=data["end_time"],
        )
        # "Skip this date", offered beside each day the venue is already booked.
        skipped = set(request.POST.getlist("skip"))
        for item in planned:
            item.skipped = item.venue_booked and item.day in skipped
        if "create" in request.POST:
            meetings = scheduling.generate_meetings(
                series=series,
                planned=[item for item in planned if not item.skipped],
                venue=data["venue"],
                language=data["language"],
                interpretation_languages=data["interpretation_languages"],
                capacity=data["capacity"],
            )
            messages.success(
                request,
                ngettext(
                    "Created %(count)d draft meeting. Check it, then publish the drafts.",
                    "Created %(count)d draft meetings. Check them, then publish the drafts.",
                    len(meetings),
                )
                % {"count": len(meetings)},
            )
            return redirect("admin:meetings_meetingseries_change", series.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Generate dates: %(series)s") % {"series": series.title},
        "opts": model_admin.opts,
        "original": series,
        "series": series,
        "form": form,
        "planned": planned,
        "booked": sum(1 for item in planned or [] if item.venue_booked),
        "to_create": sum(1 for item in planned or [] if not item.skipped),
    }
    return TemplateResponse(request, "admin/meetings/meetingseries/generate_dates.html", context)


def publish_drafts(model_admin, request, series):
    """Publish every draft of the series at once (a POST from the series page)."""
    _require(request, "meetings.change_meeting")
    if request.method == "POST":
        drafts = series.meetings.filter(status=Meeting.Status.DRAFT).select_related("venue")
        count = 0
        for meeting in drafts:
            publish_meeting(meeting=meeting)
            count += 1
        messages.success(
            request,
            ngettext("Published %(count)d meeting.", "Published %(count)d meetings.", count)
            % {"count": count},
        )
    return redirect("admin:meetings_meetingseries_change", series.pk)


def duplicate_meeting(model_admin, request, meeting):
    """A draft copy on another date: new address, same texts, no RSVPs."""
    _require(request, "meetings.add_meeting")
    form = DuplicateMeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        copy = scheduling.duplicate_meeting(meeting, on=form.cleaned_data["on"])
        messages.success(request, gettext("Draft copy created: check it, then publish it."))
        return redirect("admin:meetings_meeting_change", copy.pk)
    context = _admin_context(
        model_admin,
        request,
        meeting,
        gettext("Duplicate: %(meeting)s") % {"meeting": meeting.title},
        form=form,
    )
    return TemplateResponse(request, "admin/meetings/duplicate.html", context)


def duplicate_series(model_admin, request, series):
    """A new series with draft copies of every meeting, some weeks later."""
    _require(request, "meetings.add_meetingseries")
    _require(request, "meetings.add_meeting")
    form = DuplicateSeriesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        copy = scheduling.duplicate_series(series, weeks=form.cleaned_data["weeks"])
        messages.success(
            request, gettext("Series copied with its meetings as drafts: check, then publish.")
        )
        return redirect("admin:meetings_meetingseries_change", copy.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Duplicate: %(series)s") % {"series": series.title},
        "opts": model_admin.opts,
        "original": series,
        "form": form,
    }
    return TemplateResponse(request, "admin/meetings/duplicate.html", context)


# For partners: the embed code, a link and a QR code ------------------------------------------


def partner_snippet(model_admin, request):
    """The code a partner pastes (an iframe of the embeddable listing), a link and a QR code,
    for a venue, a series or a language, in the language chosen. Coordinators (the right to
    change venues); it only reads."""
    _require(request, "meetings.change_venue")
    venues = list(Venue.objects.order_by("name"))
    series = list(MeetingSeries.objects.order_by("title"))
    initial = {"shows": "all", "page_language": translation.get_language()}
    form = PartnerSnippetForm(request.GET or initial, venues=venues, series=series)
    snippet = None
    if form.is_valid():
        with translation.override(form.cleaned_data["page_language"]):
            query = form.embed_query()
            embed_url = settings.SITE_URL + reverse("meetings:embed-meetings")
            embed_url += f"?{query}" if query else ""
            link = settings.SITE_URL + form.page_path()
            title = gettext("Police community meetings")
            qr_label = gettext("QR code of this page on the website")
        snippet = {
            "iframe": format_html(
                '<iframe src="{}" title="{}" width="100%" height="600" loading="lazy"></iframe>',
                embed_url,
                title,
            ),
            "embed_url": embed_url,
            "link": link,
            "qr": qr_svg(link, label=qr_label),
        }
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Embed code, link and QR code for partners"),
        "opts": model_admin.opts,
        "form": form,
        "snippet": snippet,
    }
    response = TemplateResponse(request, "admin/meetings/partner_snippet.html", context)
    add_never_cache_headers(response)
    return response


def message_rsvps_view(model_admin, request, meeting):
    """A short message (e.g. "the doors open 15 minutes late") to everyone confirmed or
    waitlisted, by email and text in each party's language; the history notes what was sent
    and how many, never to whom."""
    _require(request, "meetings.message_rsvps")
    form = StaffMessageForm(request.POST or None)
    reachable = meeting.rsvps.active().reachable()
    if request.method == "POST" and form.is_valid():
        fields = form.message_fields()
        counts = message_rsvps(meeting=meeting, **fields)
        summary = ngettext(
            "Message queued: %(emails)d email and %(texts)d text message.",
            "Message queued: %(emails)d emails and %(texts)d text messages.",
            counts["email"] + counts["sms"],
        ) % {"emails": counts["email"], "texts": counts["sms"]}
        with translation.override(settings.LANGUAGE_CODE):
            english = staff_message_text(**fields)
        model_admin.log_change(
            request,
            meeting,
            f"Sent a message to its RSVPs: “{english}” "
            f"({counts['email']} email(s), {counts['sms']} text(s))",
        )
        messages.success(request, summary)
        return redirect("admin:meetings_meeting_change", meeting.pk)
    context = _admin_context(
        model_admin,
        request,
        meeting,
        gettext("Message the RSVPs of %(meeting)s") % {"meeting": meeting.title},
        form=form,
        parties=reachable.count(),
    )
    return TemplateResponse(request, "admin/meetings/meeting/message_rsvps.html", context)
