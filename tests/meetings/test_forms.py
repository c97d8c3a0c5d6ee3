import time

import pytest
import time_machine
from django.utils import translation

from meetings.forms import RsvpChangeForm, RsvpForm
from meetings.tokens import make_form_token
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def form_data(meeting, **overrides):
    data = {
        "party_size": "2",
        "language": "en",
        "form_token": make_form_token(meeting, issued_at=time.time() - 60),
    }
    data.update(overrides)
    return data


def error_codes(form):
    return {field: [e.code for e in errors] for field, errors in form.errors.as_data().items()}


def test_rsvp_form_accepts_only_a_party_size():
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting), meeting=meeting)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["party_size"] == 2


@pytest.mark.parametrize(
    "value, code",
    [
        ("0", "min_value"),
        ("-1", "min_value"),
        ("11", "max_value"),
        ("1000000000", "max_value"),
        ("two", "invalid"),
        ("", "required"),
        ("9" * 5000, "invalid"),
    ],
)
def test_party_size_outside_one_to_ten_is_refused(value, code):
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, party_size=value), meeting=meeting)

    assert error_codes(form) == {"party_size": [code]}


@pytest.mark.parametrize("field", ["first_name", "email"])
@pytest.mark.parametrize("value", ["Rosa\r\nBcc: x@example.org", "Rosa\n", "Ro\x00sa", "a\u2028b"])
def test_line_breaks_and_control_characters_are_refused_in_name_and_email(field, value):
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, **{field: value}), meeting=meeting)

    assert error_codes(form) == {field: ["not_single_line"]}


def test_email_with_injected_header_is_refused():
    meeting = MeetingFactory()

    form = RsvpForm(
        form_data(meeting, email="victim@example.org%0ABcc:spam@example.org"), meeting=meeting
    )

    assert error_codes(form) == {"email": ["invalid"]}


def test_very_long_name_is_refused():
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, first_name="x" * 100_000), meeting=meeting)

    assert error_codes(form) == {"first_name": ["max_length"]}


def test_note_may_have_line_breaks_but_no_nul():
    meeting = MeetingFactory()

    ok = RsvpForm(form_data(meeting, note="Line one\r\nLine two"), meeting=meeting)
    nul = RsvpForm(form_data(meeting, note="Line\x00"), meeting=meeting)

    assert ok.is_valid()
    assert error_codes(nul) == {"note": ["control_characters"]}


@pytest.mark.parametrize("field", ["language", "needs_interpretation"])
def test_unknown_language_code_is_refused(field):
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, **{field: "xx"}), meeting=meeting)

    assert error_codes(form) == {field: ["invalid_choice"]}


def test_interpretation_is_offered_into_the_other_languages_only():
    meeting = MeetingFactory(language="es")

    form = RsvpForm(meeting=meeting)

    assert [code for code, _label in form.fields["needs_interpretation"].choices] == [
        "",
        "en",
        "vi",
    ]


def test_preferred_language_defaults_to_the_page_language():
    meeting = MeetingFactory()

    with translation.override("es"):
        form = RsvpForm(meeting=meeting)

    assert form["language"].value() == "es"


def test_every_optional_field_says_it_is_optional():
    form = RsvpForm(meeting=MeetingFactory())

    optional = [
        field.label
        for name, field in form.fields.items()
        if not field.required and name not in ("leave_empty", "form_token")
    ]
    assert len(optional) == 7
    assert all("(optional)" in str(label) for label in optional)


def test_filled_honeypot_is_refused():
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, leave_empty="http://spam.example"), meeting=meeting)

    assert error_codes(form) == {"__all__": ["honeypot"]}


def test_form_sent_faster_than_a_person_can_is_refused(settings):
    settings.RSVP_MIN_FILL_SECONDS = 3
    meeting = MeetingFactory()

    with time_machine.travel(1_800_000_000, tick=False):
        data = form_data(meeting, form_token=make_form_token(meeting))
        fast = RsvpForm(data, meeting=meeting)
        assert error_codes(fast) == {"__all__": ["too_fast"]}
    with time_machine.travel(1_800_000_004, tick=False):
        assert RsvpForm(data, meeting=meeting).is_valid()


@pytest.mark.parametrize("token", ["", "made-up", "eyJrIjoiMSJ9:forged:signature"])
def test_missing_or_forged_form_token_is_refused(token):
    meeting = MeetingFactory()

    form = RsvpForm(form_data(meeting, form_token=token), meeting=meeting)

    assert error_codes(form) == {"__all__": ["bad_form_token"]}
    assert form.form_token_value != token  # the page is sent back with a fresh one


def test_form_token_of_another_meeting_is_refused():
    meeting, other = MeetingFactory(), MeetingFactory()

    form = RsvpForm(
        form_data(meeting, form_token=make_form_token(other, issued_at=0)), meeting=meeting
    )

    assert error_codes(form) == {"__all__": ["bad_form_token"]}


def test_form_token_carries_a_one_time_key():
    meeting = MeetingFactory()
    data = form_data(meeting)

    first = RsvpForm(data, meeting=meeting)
    second = RsvpForm(data, meeting=meeting)
    fresh = RsvpForm(form_data(meeting), meeting=meeting)

    assert first.is_valid() and second.is_valid() and fresh.is_valid()
    assert first.cleaned_data["submission_key"] == second.cleaned_data["submission_key"]
    assert first.cleaned_data["submission_key"] != fresh.cleaned_data["submission_key"]


def test_change_form_has_no_email_and_no_bot_checks():
    form = RsvpChangeForm({"party_size": "3", "language": "vi"}, meeting=MeetingFactory())

    assert form.is_valid(), form.errors
    assert "email" not in form.fields


def test_languages_are_listed_in_their_own_words_too():
    form = RsvpForm(meeting=MeetingFactory())

    assert [label for _code, label in form.fields["language"].choices] == [
        "English",
        "Español (Spanish)",
        "Tiếng Việt (Vietnamese)",
    ]


def test_each_need_says_why_it_is_asked():
    form = RsvpForm(meeting=MeetingFactory(language="es"))

    needs = ["needs_interpretation", "needs_wheelchair_access", "needs_childcare", "note"]
    assert [str(form.fields[name].help_text) for name in needs] == [
        "The meeting is held in Spanish. We bring interpreters for the languages people ask for.",
        "So we can make sure the entrance and the room work for you.",
        "So we know how many children to plan for.",
        "For example a question you would like answered. Please do not include private details.",
    ]
