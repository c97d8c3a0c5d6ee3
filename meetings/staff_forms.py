"""Staff input: RSVPs taken by phone or at the desk, the door list's search, walk-ins,
planning a campaign (dates from a pattern, copies of a meeting or a series), and what a
partner's embed shows (PartnerSnippetForm).

The public forms are in meetings/forms.py; staff's phone RSVP reuses the public RSVP form's
fields with labels about the caller.
"""

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from meetings.formatting import own_language_name
from meetings.forms import (
    MAX_LENGTH_MESSAGE,
    PartySizeField,
    PlainTextField,
    RsvpChangeForm,
    RsvpForm,
    SingleLineField,
    choice_field,
)
from meetings.models import Rsvp, Venue
from meetings.scheduling import MAX_DATES, pattern_dates
from meetings.search import fold


class StaffRsvpForm(RsvpChangeForm):
    """An RSVP staff take by phone or at the desk: the public answers, without the bot checks,
    with labels that speak to the member of staff about the caller."""

    field_order = RsvpForm.field_order
    email = RsvpForm.base_fields["email"]
    phone = RsvpForm.base_fields["phone"]

    STAFF_LABELS = {
        "party_size": (
            _("How many people are coming, including the caller and any children?"),
            None,
        ),
        "language": (
            _("The caller's preferred language"),
            _("We write to the caller in this language."),
        ),
        "first_name": (_("First name or nickname (optional)"), _("So we know how to greet them.")),
        "phone": (
            _("The caller's mobile phone for text message reminders (optional)"),
            _(
                "Ask first. We text the confirmation with the private link, a reminder and "
                "any change, nothing else; replying STOP ends the texts."
            ),
        ),
        "needs_interpretation": (_("Does the caller need an interpreter? (optional)"), None),
        "needs_wheelchair_access": (
            _(
                "Someone in the caller's group uses a wheelchair or needs step-free access "
                "(optional)"
            ),
            _("So we can make sure the entrance and the room work for them."),
        ),
        "needs_childcare": (
            _("The caller's group would like childcare during the meeting (optional)"),
            None,
        ),
        "email": (
            _("Email (optional)"),
            _(
                "Only to send the caller a confirmation and tell them if the meeting changes. "
                "Without an email, read the private link out to the caller on the next page."
            ),
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.SMS_ENABLED:
            del self.fields["phone"]
        for name, (label, help_text) in self.STAFF_LABELS.items():
            self.fields[name].label = label
            if help_text is not None and name in self.fields:
                self.fields[name].help_text = help_text

    def rsvp_details(self):
        return {
            **super().rsvp_details(),
            "email": self.cleaned_data["email"],
            "phone": self.cleaned_data.get("phone", ""),
        }


class StaffMessageForm(forms.Form):
    """A short message to a meeting's RSVPs: a sentence we translate, with its fields, or
    staff's own words in each language (English at least; the others fall back to it)."""

    TEMPLATES = [
        ("doors_late", _("The doors open … minutes late")),
        ("starts_late", _("The meeting starts … minutes late")),
        ("room", _("The meeting is in a different room")),
        ("custom", _("My own words, in each language")),
    ]

    template = forms.ChoiceField(
        label=_("Message"), choices=TEMPLATES, widget=forms.RadioSelect, initial="doors_late"
    )
    minutes = forms.IntegerField(
        label=_("Minutes late"), min_value=1, max_value=180, required=False, initial=15
    )
    room = SingleLineField(label=_("Room"), max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, name in settings.LANGUAGES:
            self.fields[f"custom_{code}"] = PlainTextField(
                label=_("Own words in %(language)s") % {"language": name},
                max_length=300,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"max_length": MAX_LENGTH_MESSAGE},
            )

    def clean(self):
        cleaned = super().clean() or {}
        template = cleaned.get("template")
        if template in ("doors_late", "starts_late") and not cleaned.get("minutes"):
            self.add_error("minutes", _("Please say how many minutes late."))
        if template == "room" and not cleaned.get("room"):
            self.add_error("room", _("Please name the room."))
        if template == "custom" and not cleaned.get(f"custom_{settings.LANGUAGE_CODE}"):
            self.add_error(
                f"custom_{settings.LANGUAGE_CODE}", _("Please write the message in English.")
            )
        return cleaned

    def message_fields(self):
        """The template and its fields, for services.message_rsvps."""
        data = self.cleaned_data
        template = data["template"]
        if template == "custom":
            custom = {
                code: " ".join(data[f"custom_{code}"].split())
                for code, _name in settings.LANGUAGES
                if data[f"custom_{code}"].strip()
            }
            return {"template": template, "custom": custom}
        name = "room" if template == "room" else "minutes"
        return {"template": template, name: data[name]}


class CheckInSearchForm(forms.Form):
    """The door list's search: a first name (any case, any accents) and a status."""

    q = forms.CharField(label=_("First name"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "status").choices = [
            ("", _("Coming (confirmed or waitlisted)")),
            ("arrived", _("Arrived")),
            ("expected", _("Not arrived yet")),
            (Rsvp.Status.WAITLISTED, _("Waitlisted")),
        ]

    def filter(self, rsvps):
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        rsvps = rsvps.exclude(status=Rsvp.Status.CANCELLED)
        if name := (data.get("q") or "").strip():
            rsvps = rsvps.filter(first_name__fold__contains=fold(name))
        status = data.get("status")
        if status == "arrived":
            rsvps = rsvps.filter(checked_in_at__isnull=False)
        elif status == "expected":
            rsvps = rsvps.filter(checked_in_at__isnull=True, status=Rsvp.Status.CONFIRMED)
        elif status == Rsvp.Status.WAITLISTED:
            rsvps = rsvps.filter(status=Rsvp.Status.WAITLISTED)
        return rsvps


class DoorKeyField(forms.UUIDField):
    """The one-time key of a tap at the door: the page gives each form one, the offline
    script one per tap; the server applies each key once (services.check_in_at_door)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(
            error_messages={
                "required": _("This page is out of date: please reload it and tap again."),
                "invalid": _("This page is out of date: please reload it and tap again."),
            },
            **kwargs,
        )


class CheckInTapForm(forms.Form):
    """A tap on "Check in" or "Undo" on the door list."""

    rsvp = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("check_in", "check_in"), ("undo", "undo")], required=False)
    key = DoorKeyField()


class WalkInForm(forms.Form):
    """People who came to the door without an RSVP: a count, never a name."""

    key = DoorKeyField()

    party_size = PartySizeField(label=_("How many people?"))
    language = forms.ChoiceField(label=_("Language"))
    needs_interpretation = forms.ChoiceField(label=_("Interpretation into"), required=False)
    needs_wheelchair_access = forms.BooleanField(
        label=_("Wheelchair or step-free access"), required=False
    )
    needs_childcare = forms.BooleanField(label=_("Childcare"), required=False)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        languages = [(code, capfirst(name)) for code, name in settings.LANGUAGES]
        choice_field(self, "language").choices = languages
        self.fields["language"].initial = meeting.language
        choice_field(self, "needs_interpretation").choices = [("", _("No")), *languages]
        if not self.is_bound:
            self.fields["key"].initial = uuid.uuid4()


# Planning a campaign (the admin's series and meeting pages) ----------------------------------


class GenerateDatesForm(forms.Form):
    """A series' dates from a pattern: weekdays every week or every other week, through an
    end date or for a number of dates, or a list of dates."""

    pattern = forms.ChoiceField(
        label=_("Repeat"),
        choices=[
            ("weekly", _("Every week")),
            ("fortnightly", _("Every other week")),
            ("dates", _("On the dates listed below")),
        ],
        widget=forms.RadioSelect,
        initial="weekly",
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        label=_("Until (or give a number of dates)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    count = forms.IntegerField(label=_("Number of dates"), required=False, min_value=1)
    dates = forms.CharField(
        label=_("Dates"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, such as 2026-12-09."),
    )
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_time = forms.TimeField(label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}))
    venue: "forms.ModelChoiceField[Venue]" = forms.ModelChoiceField(
        label=_("Venue"), queryset=Venue.objects.order_by("name")
    )
    language = forms.ChoiceField(label=_("Held in"))
    interpretation_languages = forms.MultipleChoiceField(
        label=_("Interpretation into"), required=False, widget=forms.CheckboxSelectMultiple
    )
    capacity = forms.IntegerField(
        label=_("Seats (empty: open seating)"), required=False, min_value=1
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "weekdays").choices = sorted(WEEKDAYS.items())
        languages = [(code, capfirst(name)) for code, name in settings.LANGUAGES]
        choice_field(self, "language").choices = languages
        choice_field(self, "interpretation_languages").choices = languages

    def clean_dates(self):
        days = []
        for line in self.cleaned_data["dates"].split():
            try:
                days.append(forms.DateField().clean(line))
            except ValidationError:
                raise ValidationError(
                    _("“%(value)s” is not a date such as 2026-12-09."),
                    code="bad_date",
                    params={"value": line[:20]},
                ) from None
        return days

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        start_time, end_time = cleaned.get("start_time"), cleaned.get("end_time")
        if start_time and end_time and end_time <= start_time:
            self.add_error("end_time", _("The meeting must end after it starts."))
        pattern = cleaned.get("pattern")
        # (A date list that did not read has said so already.)
        if pattern == "dates" and not cleaned.get("dates") and "dates" not in self.errors:
            self.add_error("dates", _("Please list at least one date."))
        if pattern in ("weekly", "fortnightly"):
            if not cleaned.get("weekdays"):
                self.add_error("weekdays", _("Please choose at least one day of the week."))
            if not cleaned.get("until") and not cleaned.get("count"):
                self.add_error("until", _("Please give an end date or a number of dates."))
        if self.errors or not cleaned.get("start"):
            return cleaned
        self.days = pattern_dates(
            start=cleaned["start"],
            weekdays=set(cleaned.get("weekdays") or []),
            every_weeks=2 if pattern == "fortnightly" else 1,
            until=cleaned.get("until"),
            count=cleaned.get("count"),
            dates=cleaned.get("dates") if pattern == "dates" else None,
        )
        if not self.days:
            raise ValidationError(_("This pattern gives no dates."), code="no_dates")
        if len(self.days) >= MAX_DATES:
            self.add_error(
                None,
                _("At most %(count)d dates at a time.") % {"count": MAX_DATES},
            )
        return cleaned


class DuplicateMeetingForm(forms.Form):
    on = forms.DateField(label=_("New date"), widget=forms.DateInput(attrs={"type": "date"}))


class DuplicateSeriesForm(forms.Form):
    weeks = forms.IntegerField(
        label=_("Weeks later"),
        min_value=1,
        max_value=104,
        initial=1,
        help_text=_("Every meeting of the copy moves by this many weeks."),
    )


class PartnerSnippetForm(forms.Form):
    """Staff: what a partner's embed shows (a venue, a series or a language) and in which
    language. A GET form; `embed_query()` is the embed's query string, `page_path()` the
    public page a link or QR code leads to."""

    shows = forms.ChoiceField(label=_("Meetings"))
    page_language = forms.ChoiceField(label=_("Language of the page"))

    def __init__(self, *args, venues=(), series=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "shows").choices = [
            ("all", _("All meetings")),
            (_("Venues"), [(f"venue:{venue.slug}", venue.name) for venue in venues]),
            (_("Series"), [(f"series:{item.slug}", item.title) for item in series]),
            (
                _("Languages"),
                [(f"language:{code}", capfirst(name)) for code, name in settings.LANGUAGES],
            ),
        ]
        choice_field(self, "page_language").choices = [
            (code, own_language_name(code)) for code, _name in settings.LANGUAGES
        ]

    def embed_query(self):
        kind, _sep, value = self.cleaned_data["shows"].partition(":")
        if kind == "venue":
            return f"venue=venue:{value}"
        if kind in ("series", "language"):
            return f"{kind}={value}"
        return ""

    def page_path(self):
        kind, _sep, value = self.cleaned_data["shows"].partition(":")
        if kind == "venue":
            return reverse("meetings:venue-detail", kwargs={"slug": value})
        if kind == "series":
            return reverse("meetings:series-detail", kwargs={"slug": value})
        listing = reverse("meetings:meeting-list")
        return f"{listing}?language={value}" if kind == "language" else listing
