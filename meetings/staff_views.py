"""Staff pages in the admin beyond Django's own: check-in at the door, CSV exports and reports.

MeetingAdmin and MeetingSeriesAdmin mount these (`get_urls`) behind `admin_view`; each
checks its own permission (README, "Staff roles"), so a door volunteer reaches the check-in
page and nothing that shows an email address.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext, ngettext

from meetings import exports, reports, scheduling
from meetings.models import Meeting, Rsvp
from meetings.services import RsvpError, add_walk_in, message_rsvps, publish_meeting
from meetings.staff_forms import (
    CheckInSearchForm,
    DuplicateMeetingForm,
    DuplicateSeriesForm,
    GenerateDatesForm,
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


def check_in(model_admin, request, meeting):
    """The door list on a phone: find a party by first name, check it in (or undo) with one
    tap, add walk-ins by count, and see the running totals. No email address anywhere."""
    _require(request, "meetings.check_in_rsvp")
    walk_in_form = WalkInForm(meeting=meeting)
    if request.method == "POST":
        back = redirect(f"{request.path}?{request.GET.urlencode()}")
        if "walk_in" in request.POST:
            walk_in_form = WalkInForm(request.POST, meeting=meeting)
            if walk_in_form.is_valid():
                try:
                    result = add_walk_in(meeting=meeting, **walk_in_form.cleaned_data)
                except RsvpError as error:
                    walk_in_form.add_error(None, error.message)
                else:
                    messages.success(request, _walk_in_message(result.rsvp))
                    return back
        else:
            rsvp = meeting.rsvps.filter(pk=request.POST.get("rsvp", "")[:20] or None).first()
            if rsvp is not None and request.POST.get("action") == "undo":
                if rsvp.undo_check_in():
                    messages.info(request, gettext("Check-in undone."))
            elif rsvp is not None and rsvp.check_in():
                messages.success(
                    request,
                    ngettext(
                        "Checked in: %(count)d person.",
                        "Checked in: %(count)d people.",
                        rsvp.party_size,
                    )
                    % {"count": rsvp.party_size},
                )
            return back
    search = CheckInSearchForm(request.GET or None)
    rsvps = search.filter(meeting.rsvps.all()).order_by("first_name", "created_at")
    context = _admin_context(
        model_admin,
        request,
        meeting,
        gettext("Check-in: %(meeting)s") % {"meeting": meeting.title},
        search=search,
        rsvps=rsvps,
        walk_in_form=walk_in_form,
        totals=_door_totals(meeting),
    )
    response = TemplateResponse(request, "admin/meetings/meeting/check_in.html", context)
    add_never_cache_headers(response)
    return response


def _walk_in_message(rsvp):
    if rsvp.is_confirmed:
        return ngettext(
            "Walk-in added and checked in: %(count)d person.",
            "Walk-in added and checked in: %(count)d people.",
            rsvp.party_size,
        ) % {"count": rsvp.party_size}
    return gettext("The meeting is full: the walk-in is waitlisted, number %(place)d.") % {
        "place": rsvp.waitlist_place
    }


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
    return {
        "figures": figures,
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
    ]


def _figures_row(figures):
    return [
        figures.rsvp_parties,
        figures.rsvp_people,
        figures.expected,
        figures.arrived,
        figures.walk_ins,
        figures.cancelled_parties,
        figures.no_show_parties,
        figures.waitlisted_parties,
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
            (meeting.local_starts_at.strftime("%Y-%m-%d"), f.expected, f.arrived)
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
        if "create" in request.POST:
            meetings = scheduling.generate_meetings(
                series=series,
                planned=planned,
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
