"""The figures staff report on (meetings/reports.py): counted the way a coordinator would count
them at the door, in one query per list of meetings, and drawn as a chart with no script."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone, translation

from meetings import reports
from meetings.models import FeedbackAnswer, Meeting, Rsvp
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory

pytestmark = pytest.mark.django_db

CONFIRMED, WAITLISTED, CANCELLED = (
    Rsvp.Status.CONFIRMED,
    Rsvp.Status.WAITLISTED,
    Rsvp.Status.CANCELLED,
)


def door(meeting):
    """A meeting as it went: who RSVPed, who came, who walked in."""
    now = timezone.now()
    RsvpFactory(meeting=meeting, party_size=3, needs_childcare=True, checked_in_at=now)
    RsvpFactory(meeting=meeting, party_size=2, needs_interpretation="es")  # a no-show
    RsvpFactory(meeting=meeting, party_size=1, needs_interpretation="es", checked_in_at=now)
    RsvpFactory(meeting=meeting, party_size=4, status=CANCELLED, needs_wheelchair_access=True)
    RsvpFactory(meeting=meeting, party_size=2, status=WAITLISTED)
    RsvpFactory(meeting=meeting, party_size=5, is_walk_in=True, checked_in_at=now)


def test_figures_count_people_and_parties_the_way_the_door_saw_them(django_assert_num_queries):
    meeting = MeetingFactory(starts_at=timezone.now() - dt.timedelta(hours=3))  # it was held
    door(meeting)
    quiet = MeetingFactory()  # ahead, and nobody RSVPed yet

    with django_assert_num_queries(2):  # the meetings' ids, and one grouped count
        figures = reports.figures_by_meeting(Meeting.objects.filter(pk__in=[meeting.pk, quiet.pk]))

    assert figures[meeting.pk] == reports.Figures(
        rsvp_parties=5,
        rsvp_people=12,
        expected=6,
        arrived=9,
        walk_ins=5,
        cancelled_parties=1,
        no_show_parties=1,
        waitlisted_parties=1,
        # A cancelled party's need was not asked for any more.
        needs={"childcare": (1, 1), "interpretation:es": (2, 1)},
    )
    # A meeting ahead has no no-shows yet: "expected" is not "did not come".
    assert figures[quiet.pk] == reports.Figures(no_show_parties=None)


def test_a_series_report_lists_its_published_meetings_oldest_first_with_totals():
    series = MeetingSeriesFactory()
    later = MeetingFactory(series=series, starts_at=timezone.now() + dt.timedelta(days=9))
    sooner = MeetingFactory(series=series, starts_at=timezone.now() - dt.timedelta(days=1))
    MeetingFactory(series=series, status=Meeting.Status.DRAFT)
    door(sooner)
    RsvpFactory(meeting=later, party_size=2, needs_childcare=True)

    rows, total = reports.series_rows(series)

    assert [meeting for meeting, _figures in rows] == [sooner, later]
    # The later meeting's party that has not come yet is no no-show: only held meetings count.
    assert (total.rsvp_people, total.arrived, total.no_show_parties) == (14, 9, 1)
    assert total.needs["childcare"] == (2, 1)


def test_need_labels_name_the_need_and_the_language():
    with translation.override("es"):
        spanish = reports.need_label("childcare")

    assert reports.need_label("wheelchair") == "Wheelchair or step-free access"
    assert reports.need_label("interpretation:vi") == "Interpretation into Vietnamese"
    assert spanish == "Cuidado de niños"


def test_feedback_counts_each_answer_per_question_and_nothing_when_nobody_answered():
    meeting = MeetingFactory()
    assert reports.feedback_counts([meeting]) == []
    FeedbackAnswer.objects.create(meeting=meeting, felt_welcome=5, questions_answered=4)
    FeedbackAnswer.objects.create(meeting=meeting, felt_welcome=5)
    FeedbackAnswer.objects.create(meeting=MeetingFactory(), felt_welcome=1)  # another meeting

    counts = reports.feedback_counts([meeting])

    assert counts == [
        ("Did you feel welcome?", [0, 0, 0, 0, 2], 2),
        ("Did you get your questions answered?", [0, 0, 0, 1, 0], 1),
        ("Would you call the police if you needed help?", [0, 0, 0, 0, 0], 0),
    ]


def test_the_chart_is_svg_with_a_bar_pair_per_row_scaled_to_the_largest():
    svg = reports.bar_chart([("Town hall <1>", 10, 5), ("Coffee", 4, 8)])

    root = ET.fromstring(svg)  # noqa: S314 - our own SVG: well-formed, the label escaped
    assert root.get("aria-hidden") == "true"
    rects = root.findall("{*}rect") or root.findall("rect")
    widths = [int(rect.get("width")) for rect in rects[2:]]  # after the legend's two
    assert widths == [320, 160, 128, 256]
    texts = [text.text for text in root.iter() if text.tag.endswith("text")]
    assert texts[:2] == ["Expected", "Arrived"]
    assert "Town hall <1>" in texts
    assert "<script" not in svg


def test_the_chart_draws_no_arrived_bar_for_a_meeting_ahead():
    svg = reports.bar_chart([("Held", 10, 5), ("Ahead", 4, None)])

    root = ET.fromstring(svg)  # noqa: S314 - our own SVG
    rects = root.findall("{*}rect") or root.findall("rect")
    widths = [int(rect.get("width")) for rect in rects[2:]]
    assert widths == [320, 160, 128]  # held: expected and arrived; ahead: expected only
    numbers = [text.text for text in root.iter() if text.tag.endswith("text")][2:]
    assert numbers == ["Held", "10", "5", "Ahead", "4"]
