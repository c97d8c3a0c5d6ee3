"""How a meeting went, in numbers staff report on: RSVPs, arrivals, walk-ins, cancellations,
no-shows, needs asked for and met; and a small bar chart drawn on the server (SVG)."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from meetings.models import FeedbackAnswer, Meeting, MeetingSeries, Rsvp


@dataclass
class Figures:
    """One meeting's figures (people unless the name says parties)."""

    rsvp_parties: int = 0
    rsvp_people: int = 0
    expected: int = 0  # confirmed people who RSVPed ahead (walk-ins not included)
    arrived: int = 0  # people checked in, walk-ins included
    walk_ins: int = 0
    cancelled_parties: int = 0
    # Confirmed ahead of time, never checked in; None until the meeting has ended (a future
    # meeting's expected people are not no-shows). A total adds up the meetings held.
    no_show_parties: int | None = 0
    waitlisted_parties: int = 0
    over_capacity: int = 0  # people checked in beyond the capacity (never turned away)
    # need -> (parties that asked, of them parties that came); interpretation per language
    needs: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, other: "Figures") -> None:
        for name in (
            "rsvp_parties",
            "rsvp_people",
            "expected",
            "arrived",
            "walk_ins",
            "cancelled_parties",
            "no_show_parties",
            "waitlisted_parties",
            "over_capacity",
        ):
            setattr(self, name, (getattr(self, name) or 0) + (getattr(other, name) or 0))
        for need, (asked, met) in other.needs.items():
            was_asked, was_met = self.needs.get(need, (0, 0))
            self.needs[need] = (was_asked + asked, was_met + met)


def _count(condition):
    return Count("pk", filter=condition)


def _people(condition):
    return Sum("party_size", filter=condition, default=0)


def figures_by_meeting(meetings: QuerySet[Meeting]) -> dict[int, Figures]:
    """{meeting id: Figures} for `meetings`, in one grouped query."""
    ahead = Q(is_walk_in=False)
    confirmed = Q(status=Rsvp.Status.CONFIRMED)
    arrived = Q(checked_in_at__isnull=False)
    needs = {
        "wheelchair": Q(needs_wheelchair_access=True),
        "childcare": Q(needs_childcare=True),
        **{
            f"interpretation:{code}": Q(needs_interpretation=code)
            for code, _name in settings.LANGUAGES
        },
    }
    aggregates = {
        "rsvp_parties": _count(ahead),
        "rsvp_people": _people(ahead),
        "expected": _people(ahead & confirmed),
        "arrived": _people(arrived),
        "walk_ins": _people(Q(is_walk_in=True)),
        "cancelled_parties": _count(Q(status=Rsvp.Status.CANCELLED)),
        "no_show_parties": _count(ahead & confirmed & ~arrived),
        "waitlisted_parties": _count(Q(status=Rsvp.Status.WAITLISTED)),
    }
    live = ~Q(status=Rsvp.Status.CANCELLED)
    for index, condition in enumerate(needs.values()):
        aggregates[f"need_{index}_asked"] = _count(live & condition)
        aggregates[f"need_{index}_met"] = _count(arrived & condition)
    rows = (
        Rsvp.objects.filter(meeting__in=meetings)
        .order_by()
        .values("meeting_id")
        .annotate(**aggregates)
    )
    now = timezone.now()
    capacities, result = {}, {}
    for meeting_id, capacity, ends_at in meetings.values_list("pk", "capacity", "ends_at"):
        capacities[meeting_id] = capacity
        # No-shows only once a meeting has ended: before, "expected" is not "did not come".
        result[meeting_id] = Figures(no_show_parties=0 if ends_at < now else None)
    for row in rows:
        figures = result[row["meeting_id"]]
        for name in Figures.__dataclass_fields__:
            if name not in {"needs", "over_capacity"} and getattr(figures, name) is not None:
                setattr(figures, name, row[name] or 0)
        if (capacity := capacities[row["meeting_id"]]) is not None:
            figures.over_capacity = max(figures.arrived - capacity, 0)
        for index, need in enumerate(needs):
            asked, met = row[f"need_{index}_asked"], row[f"need_{index}_met"]
            if asked or met:
                figures.needs[need] = (asked, met)
    return result


def need_label(need: str) -> str:
    """'Wheelchair or step-free access', 'Interpretation into Spanish', … for a needs key."""
    if need == "wheelchair":
        return gettext("Wheelchair or step-free access")
    if need == "childcare":
        return gettext("Childcare")
    code = need.partition(":")[2]
    language = str(dict(settings.LANGUAGES).get(code, code))
    return gettext("Interpretation into %(language)s") % {"language": language}


def bar_chart(rows: list[tuple[str, int, int | None]]) -> SafeString:
    """A horizontal bar chart of (label, expected, arrived) rows, as inline SVG; `arrived` is
    None for a meeting that has not started (no bar: nobody could have arrived yet).

    Drawn here, on the server: no script and no chart library. The same numbers are in the
    table beside it, so the chart is decoration for screen readers (aria-hidden).
    """
    bar, gap, label_width, width = 14, 10, 190, 560
    peak = max([1, *[max(expected, arrived or 0) for _label, expected, arrived in rows]])
    scale = (width - label_width - 50) / peak
    height = len(rows) * (2 * bar + gap) + 30
    parts = []
    for index, (label, expected, arrived) in enumerate(rows):
        top = 24 + index * (2 * bar + gap)
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="12">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#9db4d6"/>'
                '<text x="{}" y="{}" font-size="11">{}</text>',
                top + bar,
                label[:28],
                label_width,
                top,
                round(expected * scale),
                bar - 1,
                label_width + round(expected * scale) + 4,
                top + bar - 3,
                expected,
            )
        )
        if arrived is not None:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="#0b3d91"/>'
                    '<text x="{}" y="{}" font-size="11">{}</text>',
                    label_width,
                    top + bar,
                    round(arrived * scale),
                    bar - 1,
                    label_width + round(arrived * scale) + 4,
                    top + 2 * bar - 3,
                    arrived,
                )
            )
    legend = format_html(
        '<rect x="{}" y="2" width="12" height="12" fill="#9db4d6"/>'
        '<text x="{}" y="12" font-size="12">{}</text>'
        '<rect x="{}" y="2" width="12" height="12" fill="#0b3d91"/>'
        '<text x="{}" y="12" font-size="12">{}</text>',
        label_width,
        label_width + 16,
        gettext("Expected"),
        label_width + 120,
        label_width + 136,
        gettext("Arrived"),
    )
    return format_html(
        '<svg class="report-chart" viewBox="0 0 {} {}" width="{}" height="{}" aria-hidden="true">'
        "{}{}</svg>",
        width,
        height,
        width,
        height,
        legend,
        format_html_join("", "{}", ((part,) for part in parts)),
    )


def series_rows(series: MeetingSeries) -> tuple[list[tuple[Meeting, Figures]], Figures]:
    """Each published meeting of `series` with its figures, oldest first, and the totals."""
    meetings = (
        Meeting.objects.published()
        .filter(series=series)
        .select_related("venue")
        .order_by("starts_at")
    )
    figures = figures_by_meeting(meetings)
    total = Figures()
    rows = []
    for meeting in meetings:
        rows.append((meeting, figures[meeting.pk]))
        total.add(figures[meeting.pk])
    return rows, total


def feedback_counts(meetings: Iterable[Meeting]) -> list[tuple[str, list[int], int]]:
    """The anonymous answers about `meetings`, per question: (question, [count of 1 … of 5],
    answers). Empty when nobody answered."""
    answers = FeedbackAnswer.objects.filter(meeting__in=[meeting.pk for meeting in meetings])
    result = []
    for name, question in FeedbackAnswer.QUESTIONS.items():
        counts = dict(
            answers.exclude(**{f"{name}__isnull": True})
            .order_by()
            .values_list(name)
            .annotate(total=Count("pk"))
        )
        row = [counts.get(number, 0) for number in range(1, 6)]
        result.append((str(question), row, sum(row)))
    return result if any(total for _question, _row, total in result) else []
