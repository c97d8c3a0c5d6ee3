"""Staff input (meetings/staff_forms.py): the party size asked the same way as the public form,
the phone RSVP's answers, the campaign planner's pattern checks."""

import datetime as dt
import inspect
import uuid

import pytest

from meetings import services
from meetings.forms import RsvpChangeForm, RsvpForm
from meetings.models import RSVP_ANSWER_FIELDS
from meetings.staff_forms import GenerateDatesForm, StaffRsvpForm, WalkInForm
from tests.factories import MeetingFactory, VenueFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Please say how many people are coming."),
        ("three", "Please enter the number of people as a number, such as 3."),
        ("0", "Please enter at least 1 person."),
        (
            "11",
            "One RSVP can be for at most 10 people. For a bigger group, please send a second RSVP.",
        ),
    ],
)
def test_every_form_asking_how_many_people_says_the_same_about_a_wrong_number(value, message):
    meeting = MeetingFactory()
    forms = [
        RsvpForm({"party_size": value, "language": "en"}, meeting=meeting),
        StaffRsvpForm({"party_size": value, "language": "en"}, meeting=meeting),
        WalkInForm({"party_size": value, "language": "en"}, meeting=meeting),
    ]

    assert [form.errors.get("party_size") for form in forms] == [[message]] * 3


def test_a_walk_in_of_ten_is_accepted_with_its_own_label():
    meeting = MeetingFactory(language="es")
    key = str(uuid.uuid4())  # each walk-in form carries its one-time key (services.add_walk_in)
    form = WalkInForm({"party_size": "10", "language": "es", "key": key}, meeting=meeting)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["party_size"] == 10
    assert form.fields["party_size"].label == "How many people?"
    assert WalkInForm(meeting=meeting).fields["language"].initial == "es"


def test_the_rsvp_answers_are_declared_once_for_forms_and_services():
    meeting = MeetingFactory()
    answer_fields = list(RSVP_ANSWER_FIELDS)

    assert list(RsvpChangeForm(meeting=meeting).fields) == answer_fields
    assert list(RsvpForm(meeting=meeting).fields)[:9] == [
        "party_size",
        "language",
        "first_name",
        "email",
        "phone",
        "needs_interpretation",
        "needs_wheelchair_access",
        "needs_childcare",
        "note",
    ]
    for service in (services.create_rsvp, services.update_rsvp):
        parameters = inspect.signature(service).parameters
        assert set(answer_fields) <= set(parameters), service.__name__


def test_a_phone_rsvp_gives_the_services_every_answer_and_the_email():
    meeting = MeetingFactory()
    form = StaffRsvpForm(
        {
            "party_size": "3",
            "language": "vi",
            "email": "an@example.org",
            "phone": "(214) 555-0123",
            "needs_childcare": "on",
        },
        meeting=meeting,
    )

    assert form.is_valid(), form.errors
    assert form.rsvp_details() == {
        "party_size": 3,
        "language": "vi",
        "first_name": "",
        "email": "an@example.org",
        "phone": "+12145550123",
        "needs_interpretation": "",
        "needs_wheelchair_access": False,
        "needs_childcare": True,
        "note": "",
    }
    assert form.fields["language"].label == "The caller's preferred language"


def generate(**data):
    venue = VenueFactory()
    base = {
        "pattern": "weekly",
        "start": "2027-03-01",
        "start_time": "18:00",
        "end_time": "19:30",
        "venue": venue.pk,
        "language": "es",
    }
    return GenerateDatesForm({**base, **data})


def test_a_weekly_pattern_gives_its_dates_through_scheduling():
    form = generate(weekdays=["0", "2"], count="3")  # Monday and Wednesday

    assert form.is_valid(), form.errors
    assert form.days == [dt.date(2027, 3, 1), dt.date(2027, 3, 3), dt.date(2027, 3, 8)]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"count": "3"}, "weekdays", "Please choose at least one day of the week."),
        ({"weekdays": ["0"]}, "until", "Please give an end date or a number of dates."),
        (
            {"weekdays": ["0"], "count": "2", "end_time": "17:00"},
            "end_time",
            "The meeting must end after it starts.",
        ),
        ({"pattern": "dates"}, "dates", "Please list at least one date."),
        (
            {"pattern": "dates", "dates": "2027-03-01\nsoon"},
            "dates",
            "“soon” is not a date such as 2026-12-09.",
        ),
    ],
)
def test_an_incomplete_pattern_says_what_is_missing(data, field, message):
    form = generate(**data)

    assert not form.is_valid()
    assert form.errors[field] == [message]
