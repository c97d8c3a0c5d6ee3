"""Every piece of user input is validated here."""

import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from meetings.formatting import language_name, own_language_name
from meetings.models import MAX_PARTY_SIZE, RSVP_ANSWER_FIELDS, FeedbackAnswer, Rsvp, Venue
from meetings.phones import InvalidPhoneNumber, NotTextable, to_e164
from meetings.tokens import make_form_token, read_form_token
from meetings.widgets import QuickSelect

SEARCH_MAX_LENGTH = 100


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's own copy of its choice field `name`, to set its choices (`form.fields` is
    typed as holding plain Fields, which have none)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), name
    return field


class MeetingFilterForm(forms.Form):
    """The listing's filters: plain GET parameters, so a filtered listing can be bookmarked.

    An invalid value never fails the page: `filter()` applies the valid filters and the
    template shows the form's errors beside the others.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        error_messages={
            "max_length": _("Please search for at most %(limit_value)d characters."),
        },
    )
    # Our own words for a made-up value (an edited link), not Django's stock message.
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        widget=QuickSelect,
        error_messages={"invalid_choice": _("Please choose one of the languages in the list.")},
    )
    venue = forms.ChoiceField(
        label=_("Area or venue"),
        required=False,
        widget=QuickSelect,
        error_messages={"invalid_choice": _("Please choose an area or venue from the list.")},
    )
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Please enter a date such as 2025-02-12.")},
    )
    date_to = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Please enter a date such as 2025-02-20.")},
    )

    def __init__(self, *args, venues=None, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "language").choices = [
            ("", _("Any language")),
            *[(code, capfirst(name)) for code, name in settings.LANGUAGES],
        ]
        venues = list(venues if venues is not None else Venue.objects.all())
        areas = sorted({venue.area for venue in venues if venue.area})
        choice_field(self, "venue").choices = [
            ("", _("Anywhere")),
            (_("Areas"), [(f"area:{area}", area) for area in areas]),
            (_("Venues"), [(f"venue:{venue.slug}", venue.name) for venue in venues]),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filter(self, meetings):
        """Apply the valid filters to a Meeting queryset; invalid ones are left out."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if text := (data.get("q") or "").strip():
            meetings = meetings.search(text)
        if language := data.get("language"):
            meetings = meetings.in_language(language)
        if place := data.get("venue"):
            kind, _sep, value = place.partition(":")
            if kind == "area":
                meetings = meetings.filter(venue__area=value)
            else:
                meetings = meetings.filter(venue__slug=value)
        if date_from := data.get("date_from"):
            meetings = meetings.filter(starts_at__date__gte=date_from)
        if date_to := data.get("date_to"):
            meetings = meetings.filter(starts_at__date__lte=date_to)
        return meetings

    @property
    def is_filtered(self):
        return any(self.data.get(name) for name in self.fields)


# RSVPs -------------------------------------------------------------------------------------

# Nothing below U+0020 (line breaks, NUL, escape…), DEL, or the Unicode line separators: in a
# name they are noise, in an email address they would smuggle in mail headers.
NOT_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# Multi-line text may keep tabs and line breaks, nothing else from that range.
NOT_PLAIN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MAX_LENGTH_MESSAGE = _(
    "Please keep this to %(limit_value)d characters or fewer (it has %(show_value)d)."
)


class SingleLineField(forms.CharField):
    """One line of plain text, checked before stripping, so a trailing line break is refused too."""

    def to_python(self, value):
        if isinstance(value, str) and NOT_SINGLE_LINE.search(value):
            raise ValidationError(
                _("Please write this on one line, without line breaks or special characters."),
                code="not_single_line",
            )
        return super().to_python(value)


class SingleLineEmailField(forms.EmailField):
    def to_python(self, value):
        if isinstance(value, str) and NOT_SINGLE_LINE.search(value):
            raise ValidationError(
                _("Please enter just one email address, on one line."), code="not_single_line"
            )
        return super().to_python(value)


class PhoneNumberField(SingleLineField):
    """A mobile number, in any usual spelling; cleaned to E.164 ("+12145550123"). Numbers
    without "+" are read as numbers of PHONE_REGION."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return ""
        if len(value) > 30:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return to_e164(value)
        except InvalidPhoneNumber:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


PHONE_FIELD = PhoneNumberField(
    label=_("Mobile phone for a text message reminder (optional)"),
    help_text=_(
        "We text your confirmation, a reminder the day before and any change to the meeting, "
        "nothing else. Reply STOP to end the texts. Message and data rates may apply."
    ),
    required=False,
    error_messages={
        "invalid": _(
            "Please enter a mobile number such as (214) 555-0123, or leave it empty. "
            "A number from another country starts with + and its country code."
        ),
    },
    widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
)


class PlainTextField(forms.CharField):
    def to_python(self, value):
        if isinstance(value, str) and NOT_PLAIN_TEXT.search(value):
            raise ValidationError(
                _("Please remove the special characters from this text."),
                code="control_characters",
            )
        return super().to_python(value)


def _language_choice(code, name):
    """'Español (Spanish)' on an English page: everyone can find their own language."""
    native = own_language_name(code)
    # Case-insensitive: "Español", never "Español (español)", on a Spanish page.
    return native if native.casefold() == str(name).casefold() else f"{native} ({name})"


if TYPE_CHECKING:
    from django.forms import BaseForm as _FormMixinBase
else:
    # A mixin for forms: only the type checker needs to know it sits on a form.
    _FormMixinBase = object


class FocusFirstError(_FormMixinBase):
    """Put the cursor on the first answer to fix: the browser scrolls there, with or without
    JavaScript, so a form sent back with errors needs no #fragment in its address."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields and not self.fields[name].widget.is_hidden:
                self.fields[name].widget.attrs["autofocus"] = True
                break


class PartySizeField(forms.IntegerField):
    """How many people: 1 to MAX_PARTY_SIZE, starting at 1, with the same plain messages on
    every form that asks (RSVPs, staff's phone RSVPs, walk-ins)."""

    default_error_messages = {
        "required": _("Please say how many people are coming."),
        "invalid": _("Please enter the number of people as a number, such as 3."),
        "min_value": _("Please enter at least 1 person."),
        "max_value": _(
            "One RSVP can be for at most %(limit_value)s people. "
            "For a bigger group, please send a second RSVP."
        ),
    }

    def __init__(self, *, label, **kwargs):
        kwargs = {"min_value": 1, "max_value": MAX_PARTY_SIZE, "initial": 1, **kwargs}
        super().__init__(label=label, **kwargs)


class RsvpChangeForm(FocusFirstError, forms.Form):
    """What a party tells us about itself (RSVP_ANSWER_FIELDS); the private link's page
    changes these."""

    field_order: Iterable[str] | None = RSVP_ANSWER_FIELDS

    party_size = PartySizeField(
        label=_("How many people are coming, including you and any children?")
    )
    language = forms.ChoiceField(
        label=_("Your preferred language"),
        help_text=_("We write to you in this language."),
        error_messages={"invalid_choice": _("Please choose one of the languages in the list.")},
    )
    first_name = SingleLineField(
        label=_("First name or nickname (optional)"),
        help_text=_("So we know how to greet you."),
        required=False,
        max_length=Rsvp._meta.get_field("first_name").max_length,
        error_messages={"max_length": MAX_LENGTH_MESSAGE},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    needs_interpretation = forms.ChoiceField(
        label=_("Do you need an interpreter? (optional)"),
        required=False,
        error_messages={"invalid_choice": _("Please choose one of the languages in the list.")},
    )
    needs_wheelchair_access = forms.BooleanField(
        label=_("Someone in my group uses a wheelchair or needs step-free access (optional)"),
        help_text=_("So we can make sure the entrance and the room work for you."),
        required=False,
    )
    needs_childcare = forms.BooleanField(
        label=_("We would like childcare during the meeting (optional)"),
        help_text=_("So we know how many children to plan for."),
        required=False,
    )
    note = PlainTextField(
        label=_("Anything else we should know? (optional)"),
        help_text=_(
            "For example a question you would like answered. Please do not include private details."
        ),
        required=False,
        max_length=Rsvp._meta.get_field("note").max_length,
        error_messages={"max_length": MAX_LENGTH_MESSAGE},
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.meeting = meeting
        choice_field(self, "language").choices = [
            (code, _language_choice(code, name)) for code, name in settings.LANGUAGES
        ]
        page_language = translation.get_language()
        if page_language in dict(settings.LANGUAGES):
            self.fields["language"].initial = page_language
        self.fields["needs_interpretation"].help_text = _(
            "The meeting is held in %(language)s. We bring interpreters for the languages "
            "people ask for."
        ) % {"language": language_name(meeting.language)}
        choice_field(self, "needs_interpretation").choices = [
            ("", _("No, thank you")),
            *[
                (code, _("Yes, into %(language)s") % {"language": name})
                for code, name in settings.LANGUAGES
                if code != meeting.language
            ],
        ]

    def rsvp_details(self):
        """The cleaned answers, as keyword arguments for the RSVP services."""
        return {name: self.cleaned_data[name] for name in RSVP_ANSWER_FIELDS}


class RsvpForm(RsvpChangeForm):
    """The public RSVP form on a meeting's page.

    Besides the answers it carries a honeypot field that people never see (bots fill it in)
    and a signed one-time key with the time the form was shown: a form sent back faster than
    RSVP_MIN_FILL_SECONDS came from a bot, and the same key sent twice is one RSVP.
    """

    # The answers, with the email and the phone number after the name.
    field_order = [
        name
        for field in RSVP_ANSWER_FIELDS
        for name in ((field, "email", "phone") if field == "first_name" else (field,))
    ]

    email = SingleLineEmailField(
        label=_("Email (optional)"),
        help_text=_(
            "Only for a confirmation and to tell you if the meeting changes. "
            "Without one, keep the private link you get next."
        ),
        required=False,
        max_length=Rsvp._meta.get_field("email").max_length,
        error_messages={
            "invalid": _(
                "Please enter an email address such as name@example.com, or leave it empty."
            ),
            "max_length": MAX_LENGTH_MESSAGE,
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PHONE_FIELD
    # The honeypot. Its name and label do not invite a browser's autofill.
    leave_empty = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not settings.SMS_ENABLED:
            del self.fields["phone"]
        self._token = read_form_token(self.data.get("form_token", "")) if self.is_bound else None
        self._token_used = False

    @property
    def _token_is_current(self):
        """Signed for this meeting, and shown less than RSVP_FORM_MAX_AGE_SECONDS ago."""
        return (
            self._token is not None
            and self._token[1] == self.meeting.pk
            and time.time() - self._token[2] <= settings.RSVP_FORM_MAX_AGE_SECONDS
        )

    @property
    def form_token_value(self):
        """The hidden key to render: the one sent, if it is current and unused, so a corrected
        form stays the same submission; a new one otherwise."""
        if self._token_is_current and not self._token_used:
            return self.data["form_token"]
        return make_form_token(self.meeting)

    def token_already_used(self, message):
        """The service refused the key as already used: show `message`, and a new key."""
        self._token_used = True
        self.add_error(None, message)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("leave_empty"):
            raise ValidationError(
                _("Please leave the field marked “Leave this field empty” empty."),
                code="honeypot",
            )
        if self._token is None or not self._token_is_current:
            raise ValidationError(
                _("This form is out of date. Please check your answers and send it again."),
                code="bad_form_token",
            )
        key, _meeting_pk, issued_at = self._token
        if time.time() - issued_at < settings.RSVP_MIN_FILL_SECONDS:
            raise ValidationError(
                _("That was very fast. Please check your answers and send the form again."),
                code="too_fast",
            )
        cleaned["submission_key"] = key
        return cleaned

    def rsvp_details(self):
        return {
            **super().rsvp_details(),
            "email": self.cleaned_data["email"],
            "phone": self.cleaned_data.get("phone", ""),
            "submission_key": self.cleaned_data["submission_key"],
        }


class FeedbackForm(forms.Form):
    """The three optional questions after a meeting, each on a 1 to 5 scale, and a comment."""

    comment = PlainTextField(
        label=_("Anything you would like to tell us? (optional)"),
        help_text=_("Please do not include your name or other private details."),
        required=False,
        max_length=1000,
        error_messages={"max_length": MAX_LENGTH_MESSAGE},
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    SCALE_NAMES = {
        1: _("1 – not at all"),
        2: "2",
        3: "3",
        4: "4",
        5: _("5 – very much"),
    }

    field_order = [*FeedbackAnswer.QUESTIONS, "comment"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One optional 1-to-5 question per FeedbackAnswer.QUESTIONS, in their order.
        for name, question in FeedbackAnswer.QUESTIONS.items():
            self.fields[name] = forms.TypedChoiceField(
                label=question,
                choices=list(self.SCALE_NAMES.items()),
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": _(
                        "Please choose a number from 1 to 5, or leave the question out."
                    )
                },
            )
        self.order_fields(self.field_order)


class AlertSubscribeForm(forms.Form):
    """'Tell me about new meetings': which meetings (held in a language, in an area, at a
    venue, of a series) and an email address, a mobile number, or both. No account.

    `about` is one value such as "held-in:es", "area:Oak Cliff", "venue:<slug>" or
    "series:<slug>"; `alert_choice()` turns it into the AlertChoice fields.
    """

    about = forms.ChoiceField(label=_("Which new meetings?"))
    email = SingleLineEmailField(
        label=_("Email (optional)"),
        required=False,
        max_length=254,
        error_messages={
            "invalid": _(
                "Please enter an email address such as name@example.com, or leave it empty."
            ),
            "max_length": MAX_LENGTH_MESSAGE,
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = PlainTextField(
        label=_("Mobile number for text messages (optional)"),
        help_text=_("For example (214) 555-0123. Reply STOP to any text to end them."),
        required=False,
        max_length=30,
        error_messages={"max_length": MAX_LENGTH_MESSAGE},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    # The honeypot, as on the RSVP form.
    leave_empty = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, venues, series, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.venues = {venue.slug: venue for venue in venues}
        self.series = {item.slug: item for item in series}
        self.areas = sorted(set(areas), key=str.casefold)
        languages = [
            (f"held-in:{code}", _("Meetings held in %(language)s") % {"language": name})
            for code, name in ((code, language_name(code)) for code, _name in settings.LANGUAGES)
        ]
        choices = [(_("By language"), languages)]
        if self.areas:
            area_choices = [
                (f"area:{area}", _("Meetings in %(area)s") % {"area": area}) for area in self.areas
            ]
            choices.append((_("By area of the city"), area_choices))
        if self.venues:
            choices.append(
                (
                    _("By venue"),
                    [
                        (f"venue:{slug}", _("Meetings at %(venue)s") % {"venue": venue.name})
                        for slug, venue in self.venues.items()
                    ],
                )
            )
        if self.series:
            choices.append(
                (
                    _("By series"),
                    [
                        (f"series:{slug}", _("The series %(series)s") % {"series": item.title})
                        for slug, item in self.series.items()
                    ],
                )
            )
        choice_field(self, "about").choices = choices
        self.fields["about"].error_messages["invalid_choice"] = _(
            "Please choose which meetings to hear about from the list."
        )

    def clean_phone(self):
        text = self.cleaned_data["phone"].strip()
        if not text:
            return ""
        # The RSVP form's rules (meetings.phones): E.164 in PHONE_REGION, texts only.
        try:
            return to_e164(text)
        except NotTextable:
            raise ValidationError(
                _("This number cannot receive text messages. Please enter a mobile number."),
                code="not_mobile",
            ) from None
        except InvalidPhoneNumber:
            raise ValidationError(
                _("Please enter a mobile number such as (214) 555-0123, or leave it empty."),
                code="invalid_phone",
            ) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.errors:
            return cleaned
        if cleaned.get("leave_empty"):
            raise ValidationError(
                _("Please leave the last field empty and send the form again."), code="honeypot"
            )
        if not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError(
                _("Please enter an email address, a mobile number, or both."), code="no_address"
            )
        return cleaned

    def alert_choice(self):
        """The AlertChoice fields for `about`: {"held_in": "es"}, {"venue": <Venue>}…"""
        kind, _colon, value = self.cleaned_data["about"].partition(":")
        if kind == "held-in":
            return {"held_in": value}
        if kind == "area":
            return {"area": value}
        if kind == "venue":
            return {"venue": self.venues[value]}
        return {"series": self.series[value]}
