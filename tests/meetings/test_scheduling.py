"""Planning a campaign: dates from a pattern, generated drafts, copies, later meetings of a series."""

import datetime as dt

import pytest
from django.urls import reverse

from meetings.models import Meeting
from meetings.scheduling import pattern_dates
from tests.factories import MeetingFactory, MeetingSeriesFactory, RsvpFactory, VenueFactory

WED, SAT = 2, 5


def d(text):
    return dt.date.fromisoformat(text)


def test_weekly_pattern_on_two_weekdays_for_a_count():
    days = pattern_dates(start=d("2026-12-09"), weekdays={WED, SAT}, count=5)

    assert days == [
        d("2026-12-09"),
        d("2026-12-12"),
        d("2026-12-16"),
        d("2026-12-19"),
        d("2026-12-23"),
    ]


def test_every_other_week_through_an_end_date():
    days = pattern_dates(
        start=d("2026-12-09"), weekdays={WED}, every_weeks=2, until=d("2027-01-20")
    )

    assert days == [d("2026-12-09"), d("2026-12-23"), d("2027-01-06"), d("2027-01-20")]


def test_a_list_of_dates_is_sorted_and_starts_at_the_start():
    days = pattern_dates(
        start=d("2026-12-09"), dates=[d("2026-12-17"), d("2026-12-01"), d("2026-12-09")]
    )

    assert days == [d("2026-12-09"), d("2026-12-17")]


def test_a_pattern_without_an_end_gives_nothing():
    assert pattern_dates(start=d("2026-12-09"), weekdays={WED}) == []


@pytest.mark.django_db
def test_staff_preview_then_create_then_publish_the_campaign_dates(admin_client):
    series = MeetingSeriesFactory(title="Sessions", title_es="Sesiones")
    venue = VenueFactory(time_zone="America/Chicago")
    MeetingFactory(venue=venue, starts_at=dt.datetime(2026, 12, 16, 12, tzinfo=dt.UTC))
    page = reverse("admin:meetings_meetingseries_generate_dates", args=[series.pk])
    data = {
        "pattern": "weekly",
        "weekdays": [str(WED)],
        "start": "2026-12-09",
        "count": "5",
        "start_time": "18:30",
        "end_time": "20:00",
        "venue": venue.pk,
        "language": "es",
        "interpretation_languages": ["en"],
        "capacity": "150",
    }

    preview = admin_client.post(page, {**data, "preview": "1"})
    created = admin_client.post(page, {**data, "create": "1"})

    planned = preview.context["planned"]
    assert [item.starts_at.date().isoformat() for item in planned] == [
        "2026-12-09",
        "2026-12-16",
        "2026-12-23",
        "2026-12-30",
        "2027-01-06",
    ]
    assert [item.venue_booked for item in planned] == [False, True, False, False, False]
    assert "the venue is already booked that day" in preview.content.decode()
    assert created.status_code == 302
    drafts = Meeting.objects.filter(series=series).order_by("starts_at")
    assert [m.status for m in drafts] == [Meeting.Status.DRAFT] * 5
    assert drafts[0].title_es == "Sesiones"
    assert drafts[0].local_starts_at.strftime("%H:%M") == "18:30"

    admin_client.post(reverse("admin:meetings_meetingseries_publish_drafts", args=[series.pk]))

    assert set(Meeting.objects.filter(series=series).values_list("status", flat=True)) == {
        Meeting.Status.PUBLISHED
    }


@pytest.mark.django_db
def test_generate_explains_a_pattern_without_an_end(admin_client):
    series = MeetingSeriesFactory()
    page = reverse("admin:meetings_meetingseries_generate_dates", args=[series.pk])

    response = admin_client.post(
        page,
        {
            "pattern": "weekly",
            "weekdays": ["2"],
            "start": "2026-12-09",
            "start_time": "18:00",
            "end_time": "19:00",
            "venue": VenueFactory().pk,
            "language": "es",
            "preview": "1",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["until"] == [
        "Please give an end date or a number of dates."
    ]
    assert not Meeting.objects.exists()


@pytest.mark.django_db
def test_duplicating_a_meeting_makes_a_draft_on_the_new_date_without_rsvps(admin_client):
    meeting = MeetingFactory(title="Town hall", title_es="Reunión")
    RsvpFactory(meeting=meeting)

    response = admin_client.post(
        reverse("admin:meetings_meeting_duplicate_meeting", args=[meeting.pk]), {"on": "2027-03-03"}
    )

    copy = Meeting.objects.exclude(pk=meeting.pk).get()
    assert response.status_code == 302
    assert (copy.status, copy.title_es, copy.rsvps.count()) == (Meeting.Status.DRAFT, "Reunión", 0)
    assert copy.slug != meeting.slug
    assert copy.local_starts_at.date() == d("2027-03-03")
    assert copy.local_starts_at.time() == meeting.local_starts_at.time()


@pytest.mark.django_db
def test_duplicating_a_series_shifts_every_meeting_by_weeks(admin_client):
    series = MeetingSeriesFactory()
    first = MeetingFactory(series=series)
    MeetingFactory(
        series=series,
        starts_at=first.starts_at + dt.timedelta(days=3),
        ends_at=first.ends_at + dt.timedelta(days=3),
    )

    admin_client.post(
        reverse("admin:meetings_meetingseries_duplicate_series", args=[series.pk]), {"weeks": "2"}
    )

    copy = Meeting.objects.exclude(series=series).order_by("starts_at")
    assert copy.count() == 2
    assert copy[0].series != series
    assert copy[0].starts_at - first.starts_at == dt.timedelta(weeks=2)
    assert {m.status for m in copy} == {Meeting.Status.DRAFT}
