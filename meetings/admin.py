"""Staff screens: venues, series, meetings and who is coming."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TabbedTranslationAdmin

from meetings import alerts, outbox, staff_views
from meetings.models import (
    AlertSubscriber,
    Meeting,
    MeetingQuerySet,
    MeetingSeries,
    OutgoingEmail,
    Rsvp,
    RsvpQuerySet,
    Venue,
)
from meetings.qrcodes import qr_svg
from meetings.services import (
    NOTICE_FIELDS,
    RsvpError,
    cancel_meeting,
    cancel_rsvp,
    create_rsvp,
    move_meeting,
    publish_meeting,
    tell_rsvp_changed,
)
from meetings.staff_forms import StaffRsvpForm
from meetings.tokens import manage_url
from meetings.widgets import LabelledSplitDateTime

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    _ModelAdminMixinBase = admin.ModelAdmin[Any]
else:
    # The mixins below go on model admins: only the type checker needs to know.
    _ModelAdminMixinBase = object


def _index_with_door_meetings(index):
    """The admin's home page, with today's and the next meetings' check-in buttons on top
    for staff who work the door (one tap from login to the door list)."""

    def wrapped(request, extra_context=None):
        door = staff_views.door_meetings(request)
        return index(request, {**(extra_context or {}), "door_meetings": door})

    return wrapped


def _logout_clearing_the_phone(logout):
    """Logging out deletes what this site kept in the browser: the door list and the taps
    the check-in page keeps for working without signal (README, "Check-in without signal")."""

    def wrapped(request, extra_context=None):
        response = logout(request, extra_context)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response

    return wrapped


admin.site.index = _index_with_door_meetings(admin.site.index)  # type: ignore[method-assign]
admin.site.logout = _logout_clearing_the_phone(admin.site.logout)  # type: ignore[method-assign]


class MissingTranslationFilter(admin.SimpleListFilter):
    """Rows with English text in `fields` but none in the chosen language.

    One choice per language in settings.LANGUAGES other than the default one; subclasses
    name the translated fields to check.
    """

    title = _("missing translation")
    parameter_name = "missing_translation"
    fields: tuple[str, ...] = ()

    def lookups(self, request, model_admin):
        return [(code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

    def queryset(self, request, queryset):
        code = self.value()
        if code not in {code for code, _name in self.lookup_choices}:
            return queryset
        missing = Q()
        for field in self.fields:
            english = f"{field}_{settings.LANGUAGE_CODE}"
            translated = f"{field}_{code}"
            has_english = Q(**{f"{english}__isnull": False}) & ~Q(**{english: ""})
            lacks_translation = Q(**{f"{translated}__isnull": True}) | Q(**{translated: ""})
            missing |= has_english & lacks_translation
        return queryset.filter(missing)


class VenueMissingTranslationFilter(MissingTranslationFilter):
    fields = ("name", "accessibility_notes", "directions_notes")


class SeriesMissingTranslationFilter(MissingTranslationFilter):
    fields = ("title", "description")


class MeetingMissingTranslationFilter(MissingTranslationFilter):
    fields = ("title", "summary", "description")


class CoordinatorsSeeHistory(_ModelAdminMixinBase):
    """Who changed what and when (Django's admin log, per object) is for those who may
    change the object (coordinators), not for viewers or door volunteers."""

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)


@admin.register(Venue)
class VenueAdmin(CoordinatorsSeeHistory, TabbedTranslationAdmin):
    list_display = ["name", "area", "street_address", "city"]
    list_filter = ["area", "city", VenueMissingTranslationFilter]
    search_fields = ["name", "area", "street_address", "postal_code"]
    prepopulated_fields = {"slug": ["name_en"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "area"]}),
        (
            _("Address"),
            {"fields": ["street_address", "city", "state", "postal_code", "time_zone"]},
        ),
        (_("Map position (optional)"), {"fields": ["latitude", "longitude"]}),
        (_("Notes for residents"), {"fields": ["accessibility_notes", "directions_notes"]}),
    ]

    def get_urls(self):
        view = self.admin_site.admin_view(
            lambda request: staff_views.partner_snippet(self, request)
        )
        snippet = path("partner-snippet/", view, name="meetings_venue_partner_snippet")
        return [snippet, *super().get_urls()]


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(CoordinatorsSeeHistory, TabbedTranslationAdmin):
    list_display = ["title", "slug"]
    list_filter = [SeriesMissingTranslationFilter]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title_en"]}

    def get_urls(self):
        views = [
            "export_series_counts",
            "series_report",
            "generate_dates",
            "publish_drafts",
            "duplicate_series",
        ]
        return staff_urls(self, "meetingseries", views) + super().get_urls()


def staff_urls(model_admin, model_name, view_names, routes=None):
    """Admin URLs `<id>/<view-name>/` for the views in meetings/staff_views.py, named
    `meetings_<model>_<view_name>` (`routes` gives some another address after the id);
    each view checks its own permission."""
    routes = routes or {}

    def mount(view):
        def wrapped(request, object_id):
            obj = model_admin.get_queryset(request).filter(pk=object_id).first()
            if obj is None:
                return model_admin._get_obj_does_not_exist_redirect(
                    request, model_admin.opts, object_id
                )
            return view(model_admin, request, obj)

        return model_admin.admin_site.admin_view(wrapped)

    return [
        path(
            f"<int:object_id>/{routes.get(name, name.replace('_', '-') + '/')}",
            mount(getattr(staff_views, name)),
            name=f"meetings_{model_name}_{name}",
        )
        for name in view_names
    ]


class MeetingAdminForm(forms.ModelForm):
    apply_to_later = forms.BooleanField(
        label=_("Also move the later meetings of this series"),
        required=False,
        help_text=_(
            "A new time or venue applies to this meeting and every later one of its series "
            "(each keeps its own day). Everyone with an RSVP and an email is told once."
        ),
    )
    interpretation_languages = forms.MultipleChoiceField(
        label=_("Interpretation into"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Languages an interpreter will be present for."),
    )

    class Meta:
        model = Meeting
        # MeetingAdmin's fieldsets add the other fields.
        fields = ["interpretation_languages"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        languages = self.fields["interpretation_languages"]
        assert isinstance(languages, forms.MultipleChoiceField)
        languages.choices = settings.LANGUAGES


class WhenFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request, queryset):
        if self.value() == "upcoming":
            return queryset.upcoming()
        if self.value() == "past":
            return queryset.past()
        return queryset


class RsvpInline(admin.TabularInline):
    model = Rsvp
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "created_at",
        "status",
        "party_size",
        "first_name",
        "language",
        "needs_summary",
        "checked_in_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # names only: no rows of several fields
    ordering = ["status", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("needs"))
    def needs_summary(self, rsvp):
        return rsvp_needs(rsvp)


def rsvp_needs(rsvp):
    needs: list[StrOrPromise] = []
    if rsvp.needs_interpretation:
        needs.append(
            _("interpretation into %(language)s")
            % {"language": rsvp.get_needs_interpretation_display()}
        )
    if rsvp.needs_wheelchair_access:
        needs.append(_("wheelchair access"))
    if rsvp.needs_childcare:
        needs.append(_("childcare"))
    return ", ".join(str(need) for need in needs) or "—"


class LabelledDateTimes(_ModelAdminMixinBase):
    """Every date and time input of the admin's split widgets has an accessible name."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DateTimeField):
            kwargs["widget"] = LabelledSplitDateTime(capfirst(db_field.verbose_name))
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Meeting)
class MeetingAdmin(CoordinatorsSeeHistory, LabelledDateTimes, TabbedTranslationAdmin):
    form = MeetingAdminForm
    list_display = [
        "local_start",
        "title",
        "venue",
        "status",
        "seats_taken",
        "waitlist",
    ]
    list_display_links = ["local_start", "title"]
    list_filter = [
        "status",
        WhenFilter,
        "series",
        "venue",
        "language",
        MeetingMissingTranslationFilter,
    ]
    list_select_related = ["venue", "series"]
    search_fields = ["title", "summary", "venue__name", "venue__area", "host"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]
    prepopulated_fields = {"slug": ["title_en"]}
    autocomplete_fields = ["venue", "series"]
    readonly_fields = ["sequence", "published_at", "created_at", "updated_at", "who_is_coming"]
    actions = ["publish_meetings", "cancel_meetings"]
    inlines = [RsvpInline]
    change_form_template = "admin/meetings/meeting/change_form.html"
    fieldsets = [
        (None, {"fields": ["title", "slug", "series", "status", "summary", "description"]}),
        (_("When and where"), {"fields": ["starts_at", "ends_at", "venue", "apply_to_later"]}),
        (_("Language and host"), {"fields": ["language", "interpretation_languages", "host"]}),
        (
            _("RSVPs"),
            {
                "fields": [
                    "who_is_coming",
                    "rsvp_enabled",
                    "capacity",
                    "rsvp_closes_at",
                    "send_reminder",
                ],
                "description": _(
                    "Raising the capacity confirms waitlisted parties that now fit, and emails them. "
                    "Changing the time or venue, or cancelling, emails everyone who RSVPed with an email."
                ),
            },
        ),
        (_("Cancellation"), {"fields": ["cancellation_note"], "classes": ["collapse"]}),
        (
            _("Record"),
            {
                "fields": ["sequence", "published_at", "created_at", "updated_at"],
                "classes": ["collapse"],
            },
        ),
    ]

    def get_queryset(self, request):
        meetings = super().get_queryset(request)
        assert isinstance(meetings, MeetingQuerySet)
        return meetings.with_seat_counts()

    # Read-only (viewers, door volunteers): no helper field of the change form ("Apply to
    # later: None"), and the interpretation languages in words, not the stored list.
    READ_ONLY_SWAPS = {"apply_to_later": None, "interpretation_languages": "interpretation"}

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        swaps = self.READ_ONLY_SWAPS
        return [
            (
                name,
                {
                    **options,
                    "fields": [swaps.get(f, f) for f in options["fields"] if swaps.get(f, f)],  # type: ignore[arg-type]  # this admin's fieldsets list names, never rows of several
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return [*fields, "interpretation"]
        return fields

    @admin.display(description=_("Interpretation into"))
    def interpretation(self, meeting):
        return ", ".join(str(name) for name in meeting.interpretation_language_names) or "—"

    @admin.display(description=_("starts (local time)"), ordering="starts_at")
    def local_start(self, meeting):
        return meeting.local_starts_at.strftime("%Y-%m-%d %H:%M %Z")

    @admin.display(description=_("seats taken"), ordering="confirmed_seats")
    def seats_taken(self, meeting):
        if meeting.capacity is None:
            return f"{meeting.confirmed_seats} / —"
        return f"{meeting.confirmed_seats} / {meeting.capacity}"

    @admin.display(description=_("waitlist"), ordering="waitlist_count")
    def waitlist(self, meeting):
        return meeting.waitlist_count

    @admin.action(description=_("Publish selected meetings"), permissions=["change"])
    def publish_meetings(self, request, queryset):
        count = 0
        for meeting in queryset.filter(status=Meeting.Status.DRAFT).select_related("venue"):
            publish_meeting(meeting=meeting)
            count += 1
        self.message_user(
            request,
            ngettext("Published %(count)d meeting.", "Published %(count)d meetings.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.display(description=_("who is coming"))
    def who_is_coming(self, meeting):
        """Confirmed seats, waitlist and what the confirmed parties need."""
        if meeting.pk is None:
            return "—"
        seats, waitlist = meeting.seat_counts
        needs = Rsvp.objects.filter(meeting=meeting).confirmed().needs_summary()
        lines = [
            gettext("Confirmed seats: %(seats)d of %(capacity)s")
            % {"seats": seats, "capacity": meeting.capacity or "—"},
            ngettext("Waitlist: %(count)d party", "Waitlist: %(count)d parties", waitlist)
            % {"count": waitlist},
        ]
        names = dict(settings.LANGUAGES)
        for code, parties, people in needs["interpretation"]:
            lines.append(
                ngettext(
                    "Interpretation into %(language)s: %(parties)d party (%(people)s)",
                    "Interpretation into %(language)s: %(parties)d parties (%(people)s)",
                    parties,
                )
                % {
                    "language": names.get(code, code),
                    "parties": parties,
                    "people": ngettext("%(count)d person", "%(count)d people", people)
                    % {"count": people},
                }
            )
        lines.append(
            gettext("Wheelchair or step-free access: %(count)d") % {"count": needs["wheelchair"]}
        )
        lines.append(gettext("Childcare: %(count)d") % {"count": needs["childcare"]})
        return format_html(
            '<ul class="who-is-coming">{}</ul>',
            format_html_join("", "<li>{}</li>", ((line,) for line in lines)),
        )

    @admin.action(description=_("Cancel selected meetings"), permissions=["change"])
    def cancel_meetings(self, request, queryset):
        count = told = 0
        for meeting in queryset.filter(status=Meeting.Status.PUBLISHED).select_related("venue"):
            told += cancel_meeting(meeting=meeting).told
            count += 1
        self.message_user(
            request,
            ngettext("Cancelled %(count)d meeting.", "Cancelled %(count)d meetings.", count)
            % {"count": count}
            + " "
            + ngettext("Emailing %(told)d RSVP.", "Emailing %(told)d RSVPs.", told)
            % {"told": told},
            messages.SUCCESS,
        )

    def save_model(self, request, obj, form, change):
        saved = move_meeting(meeting=obj, with_later=bool(form.cleaned_data.get("apply_to_later")))
        if saved.moved_later:
            count = len(saved.moved_later)
            self.message_user(
                request,
                ngettext(
                    "Moved %(count)d later meeting of the series too.",
                    "Moved %(count)d later meetings of the series too.",
                    count,
                )
                % {"count": count},
                messages.INFO,
            )
        if saved.told:
            self.message_user(
                request,
                ngettext(
                    "Emailing %(told)d RSVP about the change.",
                    "Emailing %(told)d RSVPs about the change.",
                    saved.told,
                )
                % {"told": saved.told},
                messages.INFO,
            )
        if saved.promoted:
            self.message_user(
                request,
                ngettext(
                    "Confirmed %(count)d party from the waitlist.",
                    "Confirmed %(count)d parties from the waitlist.",
                    len(saved.promoted),
                )
                % {"count": len(saved.promoted)},
                messages.INFO,
            )

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/add-rsvp/",
                self.admin_site.admin_view(self.add_rsvp_view),
                name="meetings_meeting_add_rsvp",
            ),
            *staff_urls(
                self,
                "meeting",
                [
                    "check_in",
                    "check_in_worker",
                    "export_rsvps",
                    "meeting_report",
                    "duplicate_meeting",
                    "message_rsvps_view",
                ],
                # The door page's service worker, from under the page's address (its scope).
                routes={"check_in_worker": "check-in/offline-worker.js"},
            ),
        ]
        return urls + super().get_urls()

    def add_rsvp_view(self, request, object_id):
        """An RSVP taken by phone or at the desk: the same capacity rules as the public form."""
        meeting = self.get_object(request, object_id)
        if meeting is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]  # a private ModelAdmin helper the stubs leave out
        if not request.user.has_perm("meetings.add_rsvp"):
            raise PermissionDenied
        form = StaffRsvpForm(request.POST or None, meeting=meeting)
        if request.method == "POST" and form.is_valid():
            try:
                result = create_rsvp(meeting=meeting, staff=True, **form.rsvp_details())
            except RsvpError as error:
                form.add_error(None, error.message)
            else:
                if result.token is None:
                    self.message_user(request, phone_rsvp_message(result), messages.SUCCESS)
                    return redirect("admin:meetings_meeting_change", meeting.pk)
                return self._rsvp_taken(request, meeting, result)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Add a phone-in RSVP"),
            "opts": self.opts,
            "original": meeting,
            "meeting": meeting,
            "form": form,
        }
        return TemplateResponse(request, "admin/meetings/meeting/add_rsvp.html", context)

    def _rsvp_taken(self, request, meeting, result):
        """The caller's private link, in the caller's language, to read out or print: it is
        shown this once (only its hash is kept), so the page is never cached."""
        with translation.override(result.rsvp.language):
            link = manage_url(result.token)
        qr = qr_svg(link, label=gettext("QR code of the private link"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("RSVP taken"),
            "opts": self.opts,
            "original": meeting,
            "meeting": meeting,
            "status": phone_rsvp_message(result, with_link=False),
            "private_link": link,
            "private_link_qr": qr,
            "caller_language": result.rsvp.language,
        }
        response = TemplateResponse(request, "admin/meetings/meeting/rsvp_taken.html", context)
        add_never_cache_headers(response)
        return response


def phone_rsvp_message(result, *, with_link=True):
    rsvp = result.rsvp
    if rsvp.is_confirmed:
        text = ngettext(
            "Confirmed: %(seats)d seat.", "Confirmed: %(seats)d seats.", rsvp.party_size
        ) % {"seats": rsvp.party_size}
    else:
        text = gettext("The meeting is full: waitlisted, number %(place)d in line.") % {
            "place": rsvp.waitlist_place
        }
    if with_link:
        text += " " + gettext("Private link for the caller: %(url)s") % {
            "url": manage_url(result.token)
        }
    if result.shares_email:
        text += " " + gettext(
            "This email address already has another RSVP to this meeting: both are kept, "
            "and the list of RSVPs flags them."
        )
    return text


class SharedEmailFilter(admin.SimpleListFilter):
    title = _("same email as another RSVP")
    parameter_name = "shares_email"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(shares_email=True)
        if self.value() == "no":
            return queryset.filter(shares_email=False)
        return queryset


@admin.register(Rsvp)
class RsvpAdmin(CoordinatorsSeeHistory, LabelledDateTimes, admin.ModelAdmin):
    """RSVPs are added through a meeting (the phone-in button) and never deleted, so seats
    and the waitlist always follow the rules; names, notes and needs stay editable."""

    list_display = [
        "created_at",
        "meeting",
        "status",
        "party_size",
        "first_name",
        "language",
        "needs",
        "checked_in_at",
        "shares_email",
    ]
    list_filter = [
        "status",
        "language",
        "needs_wheelchair_access",
        "needs_childcare",
        SharedEmailFilter,
    ]
    list_select_related = ["meeting"]
    search_fields = ["first_name", "email", "phone", "meeting__title"]
    readonly_fields = [
        "meeting",
        "status",
        "party_size",
        "checked_in_at",
        "created_at",
        "updated_at",
        "personal_data_erased_at",
    ]
    fields = [
        "meeting",
        "status",
        "party_size",
        "first_name",
        "email",
        "phone",
        "language",
        "needs_interpretation",
        "needs_wheelchair_access",
        "needs_childcare",
        "note",
        "checked_in_at",
        "created_at",
        "updated_at",
        "personal_data_erased_at",
    ]
    date_hierarchy = "created_at"
    actions = ["check_in", "undo_check_in", "cancel_rsvps"]

    # What only roles with "view_rsvp_contact" see (README, "Staff roles").
    contact_fields = ("email", "phone", "note")

    def _sees_contact(self, request):
        return request.user.has_perm("meetings.view_rsvp_contact")

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if self._sees_contact(request):
            return fields
        return [name for name in fields if name not in self.contact_fields]

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if self._sees_contact(request):
            return fields
        return [name for name in fields if name not in self.contact_fields]

    def get_list_display(self, request):
        # Filtered to one meeting (from its page's "RSVPs and check-in"): the title names
        # the meeting, so its column would only repeat it.
        columns = super().get_list_display(request)
        if request.GET.get("meeting__id__exact"):
            columns = [column for column in columns if column != "meeting"]
        return columns

    def changelist_view(self, request, extra_context=None):
        meeting_id = request.GET.get("meeting__id__exact", "")
        meeting = Meeting.objects.filter(pk=meeting_id).first() if meeting_id.isdigit() else None
        if meeting is not None:
            extra_context = {
                **(extra_context or {}),
                "title": gettext("RSVPs for %(meeting)s") % {"meeting": meeting},
                "subtitle": None,
            }
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        rsvps = super().get_queryset(request)
        assert isinstance(rsvps, RsvpQuerySet)
        return rsvps.with_shared_email()

    def save_model(self, request, obj, form, change):
        before = Rsvp.objects.filter(pk=obj.pk).values(*NOTICE_FIELDS).first() if change else None
        super().save_model(request, obj, form, change)
        if before is not None:
            # The person hears of the change, as after their own (services.tell_rsvp_changed).
            tell_rsvp_changed(rsvp=obj, before=before)

    @admin.display(
        description=_("same email as another RSVP"), boolean=True, ordering="shares_email"
    )
    def shares_email(self, rsvp):
        return rsvp.shares_email

    @admin.display(description=_("needs"))
    def needs(self, rsvp):
        return rsvp_needs(rsvp)

    @admin.action(description=_("Check in: mark selected as arrived"), permissions=["change"])
    def check_in(self, request, queryset):
        count = (
            queryset.filter(checked_in_at__isnull=True)
            .exclude(status=Rsvp.Status.CANCELLED)
            .update(checked_in_at=timezone.now())
        )
        self.message_user(
            request,
            ngettext("Checked in %(count)d RSVP.", "Checked in %(count)d RSVPs.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Undo check-in of selected"), permissions=["change"])
    def undo_check_in(self, request, queryset):
        count = queryset.exclude(checked_in_at=None).update(checked_in_at=None)
        self.message_user(
            request,
            ngettext("Undid %(count)d check-in.", "Undid %(count)d check-ins.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Cancel selected RSVPs (frees their seats for the waitlist)"),
        permissions=["change"],
    )
    def cancel_rsvps(self, request, queryset):
        count = 0
        for rsvp in queryset.exclude(status=Rsvp.Status.CANCELLED):
            cancel_rsvp(rsvp=rsvp, staff=True)
            count += 1
        self.message_user(
            request,
            ngettext("Cancelled %(count)d RSVP.", "Cancelled %(count)d RSVPs.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, read-only: what is queued, sent and failed. The recipient column shows only
    to staff with the "Can see to whom an outgoing email is addressed" permission.

    A message in "unknown" (handed to the server, which never answered: a worker killed
    mid-send, a dropped connection) gets a "Send again" button for staff who may resend
    (`meetings.resend_outgoingemail`): one POST, with the CSRF token, to `<id>/resend/`.
    """

    list_display = [
        "created_at",
        "kind",
        "channel",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "delivery_status",
        "resend_button",
    ]
    list_filter = ["status", "channel", "kind", "language"]
    date_hierarchy = "created_at"
    fields = [
        "kind",
        "channel",
        "language",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "claimed_at",
        "handed_over_at",
        "delivery_status",
        "rsvp",
    ]
    readonly_fields = fields  # type: ignore[assignment]  # names only: no rows of several fields
    change_list_template = "admin/meetings/outgoingemail/change_list.html"
    change_form_template = "admin/meetings/outgoingemail/change_form.html"

    @staticmethod
    def may_resend(request):
        return request.user.has_perm("meetings.resend_outgoingemail")

    @staticmethod
    def resendable(email):
        return email.status == OutgoingEmail.Status.UNKNOWN and email.has_address

    @admin.display(description=_("send again"))
    def resend_button(self, email):
        """A button for the form of its own the change list template writes (forms cannot
        nest inside the change list's)."""
        if not self.resendable(email):
            return ""
        return format_html(
            '<button type="submit" form="resend-{}" class="button">{}</button>',
            email.pk,
            gettext("Send again"),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/resend/",
                self.admin_site.admin_view(self.resend_view),
                name="meetings_outgoingemail_resend",
            ),
            *super().get_urls(),
        ]

    def resend_view(self, request, object_id):
        """Queue a message in "unknown" again (POST only; admin_view checks the CSRF token)."""
        if request.method != "POST":
            return redirect("admin:meetings_outgoingemail_changelist")
        if not self.may_resend(request):
            raise PermissionDenied
        if outbox.resend(int(object_id)) if object_id.isdigit() else False:
            self.message_user(
                request,
                gettext("The message is queued to be sent again."),
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                gettext(
                    "Only a message whose arrival is unknown, and still has its address, can be sent again."
                ),
                messages.WARNING,
            )
        return redirect("admin:meetings_outgoingemail_changelist")

    @staticmethod
    def may_see_recipients(request):
        return request.user.has_perm("meetings.view_outgoingemail_recipient")

    def get_list_display(self, request):
        columns = list(self.list_display)
        if not self.may_resend(request):
            columns.remove("resend_button")
        if self.may_see_recipients(request):
            return [*columns, "shown_recipient"]
        return columns

    def get_fields(self, request, obj=None):
        if self.may_see_recipients(request):
            return [*self.fields, "shown_recipient"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_search_fields(self, request):
        return ["recipient"] if self.may_see_recipients(request) else []

    def get_search_results(self, request, queryset, search_term):
        # Alerts of new meetings are counted, never listed: a search by address finds none of
        # them, so it cannot tell whether someone subscribed.
        if search_term:
            queryset = queryset.exclude(kind__in=alerts.ALERT_KINDS)
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("recipient"))
    def shown_recipient(self, email):
        if email.kind in alerts.ALERT_KINDS:
            return _("(alert subscriber: not shown)")
        return email.recipient

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        counts = OutgoingEmail.objects.status_counts()
        extra_context = {
            **(extra_context or {}),
            "status_counts": [
                (label, counts[value]) for value, label in OutgoingEmail.Status.choices
            ],
            # The forms the "Send again" buttons submit (at most a page's worth).
            "resendable": (
                list(
                    OutgoingEmail.objects.filter(status=OutgoingEmail.Status.UNKNOWN)
                    .addressed()
                    .values_list("pk", flat=True)[:200]
                )
                if self.may_resend(request)
                else []
            ),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        email = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "resendable": email is not None and self.may_resend(request) and self.resendable(email),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(AlertSubscriber)
class AlertCountsAdmin(admin.ModelAdmin):
    """Alerts of new meetings, as staff see them: counts per channel, language, area, venue
    and series, and nothing else. No list, no search, no export: the only page is the
    counts, for staff with "Can see how many residents subscribed to alerts"."""

    def has_view_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("meetings.view_alert_counts")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        # The counts page in place of the list; no page for one row exists.
        return [
            path(
                "",
                self.admin_site.admin_view(self.counts_view),
                name="meetings_alertsubscriber_changelist",
            )
        ]

    def counts_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Alerts of new meetings: how many"),
            "opts": self.opts,
            "counts": alerts.counts(),
        }
        response = TemplateResponse(request, "admin/meetings/alert_counts.html", context)
        add_never_cache_headers(response)
        return response
